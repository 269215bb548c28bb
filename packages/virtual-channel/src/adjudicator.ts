/**
 * VirtualAdjudicator: payment-channel's Adjudicator with the virtual
 * channel's dispute and the resolution of its ledger locks (as htlc-router's
 * HtlcAdjudicator subclasses it for HTLCs). Its Solidity port is
 * packages/l1-evm/contracts/VirtualAdjudicator.sol (docs/parity.md, rows
 * "virtual channel").
 *
 * Gas follows the mock's EVM pricing: calls are charged as the port's ABI
 * bytes (abi.ts), the outcome as two slots (version, deadline, flags; both
 * balances), hashing and signature checks as their precompiles; the port's
 * own interpretation beyond the mock's general units (VIRTUAL_STEP) was
 * measured on it (`npm run parity -w @l2bench/l1-evm -- --profile`).
 *
 * One outcome per virtual channel, stored under its id:
 *
 *   registerVirtual(params, state, sigA, sigB, activation)
 *       Alice, Bob, or Ingrid from `params.validity` on. Version 0 needs no
 *       signature (its balances are the parameters' deposits); a later
 *       version needs Alice's and Bob's signatures on it and Ingrid's
 *       activation (her signature once both ledger locks were in place —
 *       without it a state past version 0 cannot count, so a lock in one
 *       ledger without its twin in the other always resolves to the
 *       deposits). The first registration starts the window
 *       (`params.disputeWindow` blocks); a later one with a higher version
 *       replaces the state within it and keeps the deadline (Perun's
 *       refutation).
 *   concludeVirtual(params, final state, sigA, sigB)
 *       Ingrid only: a final state Alice and Bob both signed becomes the
 *       outcome at once, before a pending deadline. It is the state she
 *       settled one ledger with off chain; honest Alice and Bob sign one
 *       final state and nothing after it, so only colluders can have a
 *       newer one, and it cannot beat the one Ingrid paid out by.
 *   resolveLocked(ledgerId, vid, witness = encoded params)   (base call)
 *       once the outcome is final (concluded, or the deadline passed): the
 *       ledger's lock is split — y_A to the party at the lock's `direction`
 *       (Alice's side), y_B to the other — by `splitWithWitness`.
 *
 * Both ledger locks of one virtual channel are resolved by the same stored
 * outcome, so Ingrid nets zero across them whatever it is.
 *
 * Virtual states are signed with payment-channel's state digest under the
 * same domain (chain, this contract); a virtual channel id is a hash under
 * its own tag, never a ledger channel id, so a virtual state is worthless as
 * a ledger state and vice versa.
 */
import { type Amount, DecodeError, bytesEqual, codec, encode, toHex } from '@l2bench/core'
import { type AbiCall, type AbiEnv, type AbiItem, type CallContext, type Contract, type ReadContext, type SlotLayout, codecStepGas, keccakGas } from '@l2bench/l1-mock'
import {
  ADJUDICATOR_ABI,
  Adjudicator,
  type AdjudicatorCall,
  type ChannelState,
  type StoredLock,
  adjudicatorMessages,
  encodeDomain,
  other,
  stateCodec,
  stateDigestFromBytes,
} from '@l2bench/payment-channel'
import { VIRTUAL_ABI, virtualAbiCall } from './abi.ts'
import { type VirtualParams, activationDigest, decodeParams, encodeParams, totalOf, virtualId, virtualParamsCodec } from './params.ts'

const sig = codec.bytes(64)

export const virtualMessages = {
  registerVirtual: [32, codec.struct({ params: virtualParamsCodec, state: stateCodec, sigA: sig, sigB: sig, activation: sig })],
  concludeVirtual: [33, codec.struct({ params: virtualParamsCodec, state: stateCodec, sigA: codec.fixedBytes(64), sigB: codec.fixedBytes(64) })],
} as const

/** The base adjudicator's calls plus the virtual ones. */
export const virtualAdjudicatorAbi = codec.messages({ ...adjudicatorMessages, ...virtualMessages })
export type VirtualAdjudicatorCall = codec.Infer<typeof virtualAdjudicatorAbi>
export type VirtualCall = Extract<VirtualAdjudicatorCall, { type: 'registerVirtual' | 'concludeVirtual' }>

/**
 * The port's interpretation gas the mock's general units (EVM_STEP) do not
 * cover, measured on VirtualAdjudicator.sol with the parity profile:
 *   params      reading the parameters tuple in place (PARAMS_WORDS words,
 *               not charged as decoded ABI words) and writing its fields into
 *               the id's preimage, beyond the two amounts (codecStepGas(2));
 *   signedState the virtual state's digest (read from calldata), Ingrid's
 *               activation digest and the signature words, beyond the
 *               signature checks (EVM_STEP.signature) and the state's amounts;
 *   witness     parsing the encoded parameters of a lock's witness (the
 *               fields at fixed offsets, the amounts' lengths, canonical
 *               checks) and the lock's side checks, beyond its two amounts.
 */
export const VIRTUAL_STEP = { params: 330, signedState: 2650, witness: 3100 } as const

/** ABI words of the parameters tuple (15 fields, the three keys (prefix, x) two words each): read in place by the port. */
export const PARAMS_WORDS = 18

/** The stored outcome of a virtual channel (2 slots: version + deadline + flag, the two balances). */
export interface VirtualDispute {
  version: bigint
  balances: readonly [Amount, Amount]
  /** Height after which the outcome is final (for a concluded one: the height it was concluded at). */
  deadline: number
  /** Concluded by Ingrid with a final state: final at once. */
  concluded: boolean
  /** Who registered the current state: 0 Alice, 1 Bob, 2 Ingrid. */
  by: 0 | 1 | 2
}

/** Slot 0: version, deadline, concluded, by; slot 1: both balances. */
const OUTCOME_SLOTS: SlotLayout<VirtualDispute> = (d) => [
  [d.version, d.deadline, d.concluded, d.by],
  [d.balances[0], d.balances[1]],
]

/** Whether the stored outcome can no longer change at `height`. */
export function isFinalOutcome(d: VirtualDispute | undefined, height: number): boolean {
  return d !== undefined && (d.concluded || height > d.deadline)
}

export class VirtualAdjudicator extends Adjudicator {
  override readonly name: string = 'VirtualAdjudicator'
  // The wider ABI (base calls + virtual ones). Typed as the base's so the subclass stays an Adjudicator for ChannelNode.
  override readonly abi = virtualAdjudicatorAbi as unknown as Adjudicator['abi']
  override readonly solidityAbi: readonly AbiItem[] = [...ADJUDICATOR_ABI, ...VIRTUAL_ABI]

  override toAbiCall(call: AdjudicatorCall | VirtualCall, env: AbiEnv): AbiCall | undefined {
    if (call.type === 'registerVirtual' || call.type === 'concludeVirtual') return virtualAbiCall(call, env)
    return super.toAbiCall(call, env)
  }

  override lazyAbiWords(call: AbiCall): number {
    return call.functionName === 'registerVirtual' || call.functionName === 'concludeVirtual' ? PARAMS_WORDS : 0
  }

  override execute(ctx: CallContext, call: AdjudicatorCall | VirtualCall): unknown {
    if (call.type === 'registerVirtual') return this.registerVirtual(ctx, call)
    if (call.type === 'concludeVirtual') return this.concludeVirtual(ctx, call)
    return super.execute(ctx, call)
  }

  private registerVirtual(ctx: CallContext, call: Extract<VirtualCall, { type: 'registerVirtual' }>): void {
    const { params: p, state } = call
    const vid = this.checkVirtual(ctx, p, state)
    const by = p.alice === ctx.sender ? 0 : p.bob === ctx.sender ? 1 : p.ingrid === ctx.sender ? 2 : -1
    if (by === -1) ctx.revert('only Alice, Bob or Ingrid registers a virtual channel', 'sender')
    if (by === 2 && BigInt(ctx.height) < p.validity) ctx.revert(`Ingrid may register only from height ${p.validity} on`, 'sender')
    if (state.version === 0n) {
      if (state.balances[0] !== p.deposits[0] || state.balances[1] !== p.deposits[1]) ctx.revert('version 0 holds the deposits', 'state.balances')
    } else {
      ctx.chargeGas('keccakBase', 'activation.digest', keccakGas(32))
      if (call.activation.length !== 64 || !ctx.verifySignature('sig.activation', call.activation, activationDigest(vid), p.pkIngrid))
        ctx.revert('states past version 0 need Ingrid’s activation', 'activation')
      this.checkSigs(ctx, p, state, call.sigA, call.sigB)
    }
    const key = `vc:${toHex(vid)}`
    const old = this.loadDispute(ctx, key)
    if (old !== undefined) {
      if (isFinalOutcome(old, ctx.height)) ctx.revert('the virtual channel’s outcome is final', 'state')
      if (state.version <= old.version) ctx.revert(`version ${state.version} not above registered ${old.version}`, 'state.version')
    }
    const d: VirtualDispute = {
      version: state.version,
      balances: state.balances,
      deadline: old?.deadline ?? ctx.height + p.disputeWindow,
      concluded: false,
      by,
    }
    ctx.sstore(key, d, 'virtual.dispute', OUTCOME_SLOTS)
    ctx.emit('VirtualRegistered', { channelId: vid, version: state.version, deadline: d.deadline, by: ctx.sender }, this.log('VirtualRegistered'))
  }

  private concludeVirtual(ctx: CallContext, call: Extract<VirtualCall, { type: 'concludeVirtual' }>): void {
    const { params: p, state } = call
    const vid = this.checkVirtual(ctx, p, state)
    if (ctx.sender !== p.ingrid) ctx.revert('only Ingrid concludes with a final state', 'sender')
    if (!state.isFinal) ctx.revert('conclude needs a final state', 'state.isFinal')
    this.checkSigs(ctx, p, state, call.sigA, call.sigB)
    const key = `vc:${toHex(vid)}`
    const old = this.loadDispute(ctx, key)
    if (old !== undefined && isFinalOutcome(old, ctx.height)) ctx.revert('the virtual channel’s outcome is final', 'state')
    const d: VirtualDispute = { version: state.version, balances: state.balances, deadline: ctx.height, concluded: true, by: 2 }
    ctx.sstore(key, d, 'virtual.dispute', OUTCOME_SLOTS)
    ctx.emit('VirtualConcluded', { channelId: vid, version: state.version }, this.log('VirtualConcluded'))
  }

  /**
   * A ledger's virtual lock, split by the virtual channel's final outcome:
   * the witness is the virtual channel's parameters (their hash is the lock).
   */
  protected override splitWithWitness(ctx: CallContext, lock: StoredLock, witness: Uint8Array): readonly [Amount, Amount] | undefined {
    let p: VirtualParams
    try {
      p = decodeParams(witness)
    } catch (err) {
      if (err instanceof DecodeError) ctx.revert(`witness is not virtual channel parameters (${err.message})`, 'witness')
      throw err
    }
    ctx.chargeGas('keccakBase', 'virtual.id', keccakGas(witness.length))
    ctx.step('params.encode', codecStepGas(2))
    ctx.step('virtual.witness', VIRTUAL_STEP.witness)
    const vid = virtualId(p)
    if (!bytesEqual(vid, lock.id) || !bytesEqual(vid, lock.hash)) ctx.revert('these parameters are not this lock’s virtual channel', 'witness')
    if (lock.amount !== totalOf(p)) ctx.revert('lock amount is not the virtual channel’s deposits', 'lockId')
    const [alicesSide, bobsSide] = bytesEqual(lock.channelId, p.ledgerA)
      ? ([p.alice, p.ingrid] as const)
      : bytesEqual(lock.channelId, p.ledgerB)
        ? ([p.ingrid, p.bob] as const)
        : ([undefined, undefined] as const)
    const dir = lock.direction
    if (alicesSide === undefined || lock.parties[dir] !== alicesSide || lock.parties[other(dir)] !== bobsSide)
      ctx.revert('the lock is not in one of the virtual channel’s ledgers on the right side', 'lockId')
    const d = this.loadDispute(ctx, `vc:${toHex(vid)}`)
    if (d === undefined) ctx.revert('the virtual channel was never registered', 'witness')
    if (!isFinalOutcome(d, ctx.height)) ctx.revert(`the virtual channel’s dispute runs until height ${d.deadline}`, 'witness')
    const split: [Amount, Amount] = [0n, 0n]
    split[dir] = d.balances[0]
    split[other(dir)] = d.balances[1]
    return split
  }

  // ------------------------------------------------------------ checks

  /** Domain, id and conservation of a virtual state; returns the id. */
  private checkVirtual(ctx: CallContext, p: VirtualParams, state: ChannelState): Uint8Array {
    if (p.chainId !== ctx.chainId) ctx.revert('parameters for another chain', 'params.chainId')
    if (p.adjudicator !== ctx.self) ctx.revert('parameters for another adjudicator', 'params.adjudicator')
    const bytes = encodeParams(p)
    ctx.chargeGas('keccakBase', 'virtual.id', keccakGas(bytes.length))
    ctx.step('params.encode', codecStepGas(2) + VIRTUAL_STEP.params)
    const vid = virtualId(p)
    if (!bytesEqual(state.channelId, vid)) ctx.revert('state is not this virtual channel’s', 'state.channelId')
    if (state.locked.length > 0) ctx.revert('a virtual state carries no locked entries', 'state.locked')
    if (state.balances[0] + state.balances[1] !== totalOf(p))
      ctx.revert(`balances add up to ${state.balances[0] + state.balances[1]}, deposits to ${totalOf(p)}`, 'state.balances')
    return vid
  }

  private checkSigs(ctx: CallContext, p: VirtualParams, state: ChannelState, sigA: Uint8Array, sigB: Uint8Array): void {
    const stateBytes = encode(stateCodec, state)
    const domain = encodeDomain({ chainId: ctx.chainId, adjudicator: ctx.self })
    ctx.chargeGas('keccakBase', 'state.digest', keccakGas(domain.length + stateBytes.length + 32))
    ctx.step('state.encode', codecStepGas(2) + VIRTUAL_STEP.signedState)
    const digest = stateDigestFromBytes(domain, stateBytes)
    if (sigA.length !== 64 || !ctx.verifySignature('sig.A', sigA, digest, p.pkAlice)) ctx.revert('Alice’s signature invalid', 'sigA')
    if (sigB.length !== 64 || !ctx.verifySignature('sig.B', sigB, digest, p.pkBob)) ctx.revert('Bob’s signature invalid', 'sigB')
  }

  private loadDispute(ctx: CallContext, key: string): VirtualDispute | undefined {
    return ctx.sload<VirtualDispute>(key, 'virtual.dispute', OUTCOME_SLOTS)
  }

  // ------------------------------------------------------------ views

  override view(ctx: ReadContext, method: string, args: unknown[]): unknown {
    if (method === 'virtual') {
      const id = args[0]
      if (!(id instanceof Uint8Array) || id.length !== 32) throw new TypeError('virtual(id): id must be 32 bytes')
      return ctx.sload<VirtualDispute>(`vc:${toHex(id)}`)
    }
    return super.view(ctx, method, args)
  }
}

/** The adjudicator as a contract of its virtual calls (for Wallet.callOk). */
export function virtualCalls(adj: VirtualAdjudicator): Contract<VirtualCall> {
  return adj as unknown as Contract<VirtualCall>
}
