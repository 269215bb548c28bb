/**
 * The Adjudicator: one contract on the L1 that holds every channel's deposits
 * and decides how they are paid out.
 *
 * Lifecycle of a channel (Perun §3.1 plus a cooperative close and an optional
 * penalty):
 *   open(B, pkA, pkB, …) + value  → funding  (A's deposit; B has `fundingTimeout` blocks)
 *   confirm + value (B)            → open     (B's deposit, exactly as A declared it)
 *   refund (A, after the timeout)  → closed   (A takes her deposit back)
 *   topUp(state, sigs) + value     → open     (deposit grows by value; the state signed by both must hold the new total)
 *   close(final state, both sigs)  → closed   (pays at once)
 *   register(state, both sigs)     → disputed (window Δ blocks starts; only a party may register)
 *   challenge(newer state)         → disputed (same deadline: refuting never extends the window)
 *   finalize (after the deadline)  → closed   (pays the newest registered state)
 *
 * Penalty `slash`: when a registered state is superseded by one at least two
 * versions newer, the party who registered it is marked; at finalize a marked
 * party's balance goes to the other side. A gap of one version is not
 * punished, because an honest proposer whose counterparty went silent mid
 * update holds only v-1 countersigned while the other side may hold v (the
 * reason Perun has no penalty at all). An honest party never signs v+1 before
 * it holds v countersigned, so a gap of two proves the registrant knew a newer
 * state.
 *
 * Locked entries are kept apart on close: they are stored per entry and paid
 * by `resolveLocked` — to the payer (`direction`) once the L1 height reaches
 * `expiry`, or as decided by `resolveWithWitness`, which subclasses (the HTLC
 * router) override to release on a preimage, or split between both parties
 * by `splitWithWitness` (the virtual channel's lock).
 *
 * Storage is modelled on a compact EVM layout: per channel the two public keys
 * (2 slots each), one packed config/phase slot, one slot of deposits (two
 * u128), and while disputed one slot (version, deadline, flags) plus one of
 * balances plus two per locked entry. Every write and read is charged through
 * the CallContext; a value standing for k slots is charged k times.
 */
import {
  type Address,
  type Amount,
  addAmounts,
  codec,
  encode,
  publicKeyToAddress,
  toHex,
} from '@l2bench/core'
import { type CallContext, Contract, GAS_SCHEDULE, type ReadContext, words } from '@l2bench/l1-mock'
import {
  type ChannelState,
  type LockedEntry,
  PENALTIES,
  type PartyIndex,
  type Penalty,
  channelIdHex,
  deriveChannelId,
  encodeDomain,
  lockedTotal,
  stateCodec,
  stateDigestFromBytes,
} from './state.ts'

const signedArgs = codec.struct({ state: stateCodec, sigA: codec.fixedBytes(64), sigB: codec.fixedBytes(64) })

/** The adjudicator's calls (tag, arguments): a subclass extends its ABI with more (tags from 32 on). */
export const adjudicatorMessages = {
  open: [
    1,
    codec.struct({
      b: codec.address,
      pkA: codec.fixedBytes(33),
      pkB: codec.fixedBytes(33),
      nonce: codec.u64,
      depositB: codec.amount,
      disputeWindow: codec.u32,
      fundingTimeout: codec.u32,
      penalty: codec.enumeration(PENALTIES),
    }),
  ],
  confirm: [2, codec.struct({ channelId: codec.fixedBytes(32) })],
  refund: [3, codec.struct({ channelId: codec.fixedBytes(32) })],
  topUp: [4, signedArgs],
  close: [5, signedArgs],
  register: [6, signedArgs],
  challenge: [7, signedArgs],
  finalize: [8, codec.struct({ channelId: codec.fixedBytes(32) })],
  resolveLocked: [9, codec.struct({ channelId: codec.fixedBytes(32), lockId: codec.fixedBytes(32), witness: codec.bytes(1024) })],
} as const
export const adjudicatorAbi = codec.messages(adjudicatorMessages)
export type AdjudicatorCall = codec.Infer<typeof adjudicatorAbi>

export type OnChainPhase = 'funding' | 'open' | 'disputed' | 'closed'

/** Immutable channel parameters as stored at open. */
interface Params {
  parties: readonly [Address, Address]
  publicKeys: readonly [Uint8Array, Uint8Array]
}

/** The packed config/phase slot. */
interface Config {
  phase: OnChainPhase
  disputeWindow: number
  penalty: Penalty
  /** Height after which A may refund an unconfirmed channel. */
  fundingDeadline: number
  /** B's deposit as declared by A (B must confirm with exactly this). */
  depositB: Amount
}

interface Dispute {
  version: bigint
  deadline: number
  balances: readonly [Amount, Amount]
  locked: readonly LockedEntry[]
  /** Party index that submitted the current registered state, or -1 for a third party (watchtower). */
  by: PartyIndex | -1
  /** Bit i set: party i registered a state later superseded by ≥ 2 versions. */
  cheaters: number
}

/** Everything `view('channel', [id])` returns. */
export interface ChannelInfo {
  channelId: `0x${string}`
  parties: readonly [Address, Address]
  publicKeys: readonly [Uint8Array, Uint8Array]
  phase: OnChainPhase
  disputeWindow: number
  penalty: Penalty
  fundingDeadline: number
  /** B's deposit as declared at open (what confirm must pay). */
  declaredDepositB: Amount
  deposits: readonly [Amount, Amount]
  dispute?: Readonly<Dispute>
}

export interface StoredLock extends LockedEntry {
  channelId: Uint8Array
  parties: readonly [Address, Address]
}

/** Signature-bearing calls check both signatures against the stored keys. */
const SIG_LABELS = ['sig.A', 'sig.B'] as const

export class Adjudicator extends Contract<AdjudicatorCall> {
  readonly name: string = 'PaymentChannelAdjudicator'
  readonly abi = adjudicatorAbi

  execute(ctx: CallContext, call: AdjudicatorCall): unknown {
    switch (call.type) {
      case 'open':
        return this.open(ctx, call)
      case 'confirm':
        return this.confirm(ctx, call.channelId)
      case 'refund':
        return this.refund(ctx, call.channelId)
      case 'topUp':
        return this.topUp(ctx, call.state, call.sigA, call.sigB)
      case 'close':
        return this.closeCooperative(ctx, call.state, call.sigA, call.sigB)
      case 'register':
        return this.register(ctx, call.state, call.sigA, call.sigB)
      case 'challenge':
        return this.challenge(ctx, call.state, call.sigA, call.sigB)
      case 'finalize':
        return this.finalize(ctx, call.channelId)
      case 'resolveLocked':
        return this.resolveLocked(ctx, call.channelId, call.lockId, call.witness)
    }
  }

  // ------------------------------------------------------------ funding

  private open(ctx: CallContext, call: Extract<AdjudicatorCall, { type: 'open' }>): `0x${string}` {
    const a = ctx.sender
    if (call.b === a) ctx.revert('a channel needs two distinct parties', 'b')
    this.chargeKeccak(ctx, 'pk.address', 64)
    if (!safeAddress(call.pkA, a)) ctx.revert('pkA is not the sender’s public key', 'pkA')
    this.chargeKeccak(ctx, 'pk.address', 64)
    if (!safeAddress(call.pkB, call.b)) ctx.revert('pkB is not B’s public key', 'pkB')
    if (call.disputeWindow < 1) ctx.revert('dispute window must be at least 1 block', 'disputeWindow')
    if (call.fundingTimeout < 1) ctx.revert('funding timeout must be at least 1 block', 'fundingTimeout')
    this.chargeKeccak(ctx, 'channelId', 32 + 20 + 20 + 20 + 8 + 32)
    const id = deriveChannelId({ chainId: ctx.chainId, adjudicator: ctx.self }, a, call.b, call.nonce)
    const key = channelIdHex(id)
    if (ctx.sload(`cfg:${key}`, 'channel.exists') !== undefined) ctx.revert('channel already exists', 'nonce')
    const params: Params = { parties: [a, call.b], publicKeys: [call.pkA.slice(), call.pkB.slice()] }
    ctx.sstore(`pk:${key}`, params, 'channel.keys', 4)
    const cfg: Config = {
      phase: 'funding',
      disputeWindow: call.disputeWindow,
      penalty: call.penalty,
      fundingDeadline: ctx.height + call.fundingTimeout,
      depositB: call.depositB,
    }
    ctx.sstore(`cfg:${key}`, cfg, 'channel.config', 2)
    ctx.sstore(`dep:${key}`, [ctx.value, 0n] as const, 'channel.deposits')
    ctx.emit('Opened', { channelId: id, a, b: call.b, depositA: ctx.value, depositB: call.depositB }, { topics: 3 })
    return toHex(id)
  }

  private confirm(ctx: CallContext, channelId: Uint8Array): void {
    const key = channelIdHex(channelId)
    const cfg = this.config(ctx, key)
    if (cfg.phase !== 'funding') ctx.revert(`channel is ${cfg.phase}, not funding`, 'channelId')
    const params = this.params(ctx, key)
    if (ctx.sender !== params.parties[1]) ctx.revert('only B confirms', 'sender')
    if (ctx.height > cfg.fundingDeadline) ctx.revert('funding timeout passed', 'channelId')
    if (ctx.value !== cfg.depositB) ctx.revert(`deposit must be exactly ${cfg.depositB}`, 'value')
    const dep = this.deposits(ctx, key)
    ctx.sstore(`dep:${key}`, [dep[0], ctx.value] as const, 'channel.deposits')
    ctx.sstore(`cfg:${key}`, { ...cfg, phase: 'open' }, 'channel.phase')
    ctx.emit('Funded', { channelId, depositA: dep[0], depositB: ctx.value }, { topics: 2 })
  }

  private refund(ctx: CallContext, channelId: Uint8Array): void {
    const key = channelIdHex(channelId)
    const cfg = this.config(ctx, key)
    if (cfg.phase !== 'funding') ctx.revert(`channel is ${cfg.phase}, not funding`, 'channelId')
    const params = this.params(ctx, key)
    if (ctx.sender !== params.parties[0]) ctx.revert('only A refunds', 'sender')
    if (ctx.height <= cfg.fundingDeadline) ctx.revert(`funding timeout runs until height ${cfg.fundingDeadline}`, 'channelId')
    const dep = this.deposits(ctx, key)
    ctx.sstore(`cfg:${key}`, { ...cfg, phase: 'closed' }, 'channel.phase')
    ctx.sstore(`dep:${key}`, [0n, 0n] as const, 'channel.deposits')
    ctx.transfer(params.parties[0], dep[0], 'refund')
    ctx.emit('Refunded', { channelId, amount: dep[0] }, { topics: 2 })
  }

  /**
   * A deposit lands only together with a state signed by both that accounts
   * for it (Σ state = deposits + value). Money sent any other way cannot
   * raise the deposits, so no one can make the signed states unenforceable
   * by depositing outside them (a 1-wei "ransom" top-up).
   */
  private topUp(ctx: CallContext, state: ChannelState, sigA: Uint8Array, sigB: Uint8Array): void {
    const key = channelIdHex(state.channelId)
    const cfg = this.config(ctx, key)
    if (cfg.phase !== 'open') ctx.revert(`channel is ${cfg.phase}, not open`, 'state.channelId')
    if (ctx.value <= 0n) ctx.revert('top-up must be positive', 'value')
    const params = this.params(ctx, key)
    const who = partyOf(params, ctx.sender)
    if (who === -1) ctx.revert('only a party tops up', 'sender')
    const dep = this.deposits(ctx, key)
    const next: [Amount, Amount] = [dep[0], dep[1]]
    next[who] = addAmounts('value', next[who], ctx.value)
    this.checkSigned(ctx, key, params, state, sigA, sigB, next)
    ctx.sstore(`dep:${key}`, next, 'channel.deposits')
    ctx.emit('ToppedUp', { channelId: state.channelId, party: who, amount: ctx.value, deposits: next, version: state.version }, { topics: 2 })
  }

  // ------------------------------------------------------------ closing

  private closeCooperative(ctx: CallContext, state: ChannelState, sigA: Uint8Array, sigB: Uint8Array): void {
    const key = channelIdHex(state.channelId)
    const cfg = this.config(ctx, key)
    if (cfg.phase !== 'open' && cfg.phase !== 'disputed') ctx.revert(`channel is ${cfg.phase}`, 'state.channelId')
    if (!state.isFinal) ctx.revert('cooperative close needs a final state', 'state.isFinal')
    const params = this.params(ctx, key)
    this.checkSigned(ctx, key, params, state, sigA, sigB)
    if (cfg.phase === 'disputed') {
      const d = this.dispute(ctx, key)
      if (state.version <= d.version) ctx.revert(`version ${state.version} not above registered ${d.version}`, 'state.version')
    }
    this.payout(ctx, key, params, cfg, state.balances, state.locked, state.channelId, state.version, -1)
  }

  private register(ctx: CallContext, state: ChannelState, sigA: Uint8Array, sigB: Uint8Array): void {
    const key = channelIdHex(state.channelId)
    const cfg = this.config(ctx, key)
    if (cfg.phase !== 'open') ctx.revert(`channel is ${cfg.phase}, not open (use challenge while disputed)`, 'state.channelId')
    const params = this.params(ctx, key)
    const by = partyOf(params, ctx.sender)
    if (by === -1) ctx.revert('only a party registers', 'sender')
    this.checkSigned(ctx, key, params, state, sigA, sigB)
    const d: Dispute = {
      version: state.version,
      deadline: ctx.height + cfg.disputeWindow,
      balances: state.balances,
      locked: state.locked,
      by,
      cheaters: 0,
    }
    ctx.sstore(`disp:${key}`, d, 'dispute.state', 2 + 2 * state.locked.length)
    ctx.sstore(`cfg:${key}`, { ...cfg, phase: 'disputed' }, 'channel.phase')
    ctx.emit('Registered', { channelId: state.channelId, version: state.version, deadline: d.deadline, by: ctx.sender }, { topics: 2 })
  }

  private challenge(ctx: CallContext, state: ChannelState, sigA: Uint8Array, sigB: Uint8Array): void {
    const key = channelIdHex(state.channelId)
    const cfg = this.config(ctx, key)
    if (cfg.phase !== 'disputed') ctx.revert(`channel is ${cfg.phase}, not disputed`, 'state.channelId')
    const old = this.dispute(ctx, key)
    if (ctx.height > old.deadline) ctx.revert(`dispute window closed at height ${old.deadline}`, 'state')
    if (state.version <= old.version) ctx.revert(`version ${state.version} not above registered ${old.version}`, 'state.version')
    const params = this.params(ctx, key)
    this.checkSigned(ctx, key, params, state, sigA, sigB)
    let cheaters = old.cheaters
    if (cfg.penalty === 'slash' && old.by !== -1 && state.version >= old.version + 2n) cheaters |= 1 << old.by
    const d: Dispute = {
      version: state.version,
      // Perun's storeChallenge: the deadline is the registration's, never extended.
      deadline: old.deadline,
      balances: state.balances,
      locked: state.locked,
      by: partyOf(params, ctx.sender),
      cheaters,
    }
    ctx.sstore(`disp:${key}`, d, 'dispute.state', 2 + 2 * state.locked.length)
    ctx.emit('Challenged', { channelId: state.channelId, version: state.version, deadline: d.deadline, by: ctx.sender }, { topics: 2 })
  }

  private finalize(ctx: CallContext, channelId: Uint8Array): void {
    const key = channelIdHex(channelId)
    const cfg = this.config(ctx, key)
    if (cfg.phase !== 'disputed') ctx.revert(`channel is ${cfg.phase}, not disputed`, 'channelId')
    const d = this.dispute(ctx, key)
    if (ctx.height <= d.deadline) ctx.revert(`dispute window open until height ${d.deadline}`, 'channelId')
    this.chargeSlots(ctx, 'storageColdRead', 'dispute.state', 1 + 2 * d.locked.length)
    const params = this.params(ctx, key)
    let balances: readonly [Amount, Amount] = d.balances
    let slashed: PartyIndex | -1 = -1
    if (d.cheaters === 1 || d.cheaters === 2) {
      slashed = d.cheaters === 1 ? 0 : 1
      const b: [Amount, Amount] = [balances[0], balances[1]]
      const honest = slashed === 0 ? 1 : 0
      b[honest] = b[honest] + b[slashed]
      b[slashed] = 0n
      balances = b
    }
    ctx.sstore(`disp:${key}`, undefined, 'dispute.clear', 2 + 2 * d.locked.length)
    this.payout(ctx, key, params, cfg, balances, d.locked, channelId, d.version, slashed)
  }

  private payout(
    ctx: CallContext,
    key: string,
    params: Params,
    cfg: Config,
    balances: readonly [Amount, Amount],
    locked: readonly LockedEntry[],
    channelId: Uint8Array,
    version: bigint,
    slashed: PartyIndex | -1,
  ): void {
    ctx.sstore(`cfg:${key}`, { ...cfg, phase: 'closed' }, 'channel.phase')
    ctx.sstore(`dep:${key}`, [0n, 0n] as const, 'channel.deposits')
    for (const e of locked) {
      const lock: StoredLock = { ...e, channelId, parties: params.parties }
      ctx.sstore(`lk:${key}:${channelIdHex(e.id)}`, lock, 'locked.keep', 2)
    }
    ctx.transfer(params.parties[0], balances[0], 'payout.A')
    ctx.transfer(params.parties[1], balances[1], 'payout.B')
    ctx.emit(
      'Concluded',
      { channelId, version, balances, locked: lockedTotal(locked), slashed },
      { topics: 2, dataBytes: 32 * 5 },
    )
  }

  private resolveLocked(ctx: CallContext, channelId: Uint8Array, lockId: Uint8Array, witness: Uint8Array): void {
    const key = `lk:${channelIdHex(channelId)}:${channelIdHex(lockId)}`
    const lock = ctx.sload<StoredLock>(key, 'locked.load')
    if (lock === undefined) ctx.revert('no such locked entry', 'lockId')
    this.chargeSlots(ctx, 'storageColdRead', 'locked.load', 1)
    let split: readonly [Amount, Amount]
    if (witness.length === 0) {
      if (BigInt(ctx.height) < lock.expiry) ctx.revert(`locked until height ${lock.expiry}`, 'witness')
      split = whole(lock.direction, lock.amount)
    } else {
      const s = this.splitWithWitness(ctx, lock, witness)
      if (s === undefined) ctx.revert('witness does not release this entry', 'witness')
      if (s[0] < 0n || s[1] < 0n || s[0] + s[1] !== lock.amount) ctx.revert(`split ${s[0]} + ${s[1]} is not the locked ${lock.amount}`, 'witness')
      split = s
    }
    ctx.sstore(key, undefined, 'locked.clear', 2)
    // One LockedResolved per party paid (one for an HTLC; two when a subclass splits the entry).
    for (const i of [0, 1] as const) {
      if (split[i] === 0n) continue
      ctx.transfer(lock.parties[i], split[i], 'locked.pay')
      ctx.emit('LockedResolved', { channelId, lockId, to: lock.parties[i], amount: split[i] }, { topics: 3 })
    }
  }

  /**
   * How a locked entry is paid given a non-empty witness: [to party A, to
   * party B], adding up to the entry's amount; undefined refuses the witness.
   * The default gives the whole entry to whoever `resolveWithWitness` names.
   * A subclass whose locks end in a split overrides this one (the virtual
   * channel's lock is paid by the virtual channel's final balances).
   */
  protected splitWithWitness(ctx: CallContext, lock: StoredLock, witness: Uint8Array): readonly [Amount, Amount] | undefined {
    const to = this.resolveWithWitness(ctx, lock, witness)
    return to === undefined ? undefined : whole(to, lock.amount)
  }

  /**
   * Decides who gets a locked entry given a non-empty witness (before or
   * after expiry). The base adjudicator knows no conditions: it returns
   * undefined, so only the expiry refund applies. The HTLC router overrides
   * it (e.g. sha256(witness) = hash before expiry → the receiver).
   */
  protected resolveWithWitness(_ctx: CallContext, _lock: StoredLock, _witness: Uint8Array): PartyIndex | undefined {
    return undefined
  }

  // ------------------------------------------------------------ checks and storage

  /** Verifies conservation against the deposits (stored, or those a top-up is about to make) and both signatures. */
  private checkSigned(
    ctx: CallContext,
    key: string,
    params: Params,
    state: ChannelState,
    sigA: Uint8Array,
    sigB: Uint8Array,
    dep: readonly [Amount, Amount] = this.deposits(ctx, key),
  ): readonly [Amount, Amount] {
    let total = state.balances[0] + state.balances[1]
    for (const e of state.locked) {
      if (e.amount === 0n) ctx.revert('locked amount must be positive', 'state.locked')
      total += e.amount
    }
    const deposits = dep[0] + dep[1]
    if (total !== deposits) ctx.revert(`balances + locked = ${total}, deposits = ${deposits}`, 'state.balances')
    const ids = new Set<string>()
    for (const e of state.locked) {
      const id = channelIdHex(e.id)
      if (ids.has(id)) ctx.revert('duplicate locked entry id', 'state.locked')
      ids.add(id)
    }
    const stateBytes = encode(stateCodec, state)
    const domain = encodeDomain({ chainId: ctx.chainId, adjudicator: ctx.self })
    this.chargeKeccak(ctx, 'state.digest', domain.length + stateBytes.length + 32)
    const digest = stateDigestFromBytes(domain, stateBytes)
    const sigs = [sigA, sigB] as const
    for (const i of [0, 1] as const) {
      if (!ctx.verifySignature(SIG_LABELS[i], sigs[i], digest, params.publicKeys[i] as Uint8Array))
        ctx.revert(`signature of ${i === 0 ? 'A' : 'B'} invalid`, i === 0 ? 'sigA' : 'sigB')
    }
    return dep
  }

  private config(ctx: CallContext, key: string): Config {
    const cfg = ctx.sload<Config>(`cfg:${key}`, 'channel.config')
    if (cfg === undefined) ctx.revert('unknown channel', 'channelId')
    this.chargeSlots(ctx, 'storageColdRead', 'channel.config', 1)
    return cfg
  }

  private params(ctx: CallContext, key: string): Params {
    const p = ctx.sload<Params>(`pk:${key}`, 'channel.keys')
    if (p === undefined) ctx.revert('unknown channel', 'channelId')
    this.chargeSlots(ctx, 'storageColdRead', 'channel.keys', 3)
    return p
  }

  private deposits(ctx: CallContext, key: string): readonly [Amount, Amount] {
    return ctx.sload<readonly [Amount, Amount]>(`dep:${key}`, 'channel.deposits') ?? [0n, 0n]
  }

  private dispute(ctx: CallContext, key: string): Dispute {
    const d = ctx.sload<Dispute>(`disp:${key}`, 'dispute.state')
    if (d === undefined) ctx.revert('no registered state', 'channelId')
    return d
  }

  /** Extra slots of a multi-slot value (sload charges the first). */
  private chargeSlots(ctx: CallContext, op: 'storageColdRead', label: string, count: number): void {
    if (count > 0) ctx.charge(op, label, count)
  }

  private chargeKeccak(ctx: CallContext, label: string, bytes: number): void {
    ctx.chargeGas('keccakBase', label, GAS_SCHEDULE.keccakBase + GAS_SCHEDULE.keccakWord * words(bytes))
  }

  // ------------------------------------------------------------ views

  override view(ctx: ReadContext, method: string, args: unknown[]): unknown {
    if (method === 'channel') {
      const id = args[0]
      if (!(id instanceof Uint8Array) || id.length !== 32) throw new TypeError('channel(id): id must be 32 bytes')
      const key = channelIdHex(id)
      const cfg = ctx.sload<Config>(`cfg:${key}`)
      const params = ctx.sload<Params>(`pk:${key}`)
      if (cfg === undefined || params === undefined) return undefined
      const dep = ctx.sload<readonly [Amount, Amount]>(`dep:${key}`) ?? [0n, 0n]
      const d = ctx.sload<Dispute>(`disp:${key}`)
      const info: ChannelInfo = {
        channelId: toHex(id),
        parties: params.parties,
        publicKeys: params.publicKeys,
        phase: cfg.phase,
        disputeWindow: cfg.disputeWindow,
        penalty: cfg.penalty,
        fundingDeadline: cfg.fundingDeadline,
        declaredDepositB: cfg.depositB,
        deposits: dep,
        ...(d === undefined ? {} : { dispute: d }),
      }
      return info
    }
    if (method === 'locked') {
      const [id, lockId] = args
      if (!(id instanceof Uint8Array) || !(lockId instanceof Uint8Array)) throw new TypeError('locked(id, lockId): bytes expected')
      return ctx.sload<StoredLock>(`lk:${channelIdHex(id)}:${channelIdHex(lockId)}`)
    }
    return super.view(ctx, method, args)
  }
}

/** A split giving the whole amount to one party. */
function whole(to: PartyIndex, amount: Amount): readonly [Amount, Amount] {
  return to === 0 ? [amount, 0n] : [0n, amount]
}

function partyOf(params: Params, who: Address): PartyIndex | -1 {
  return who === params.parties[0] ? 0 : who === params.parties[1] ? 1 : -1
}

function safeAddress(pk: Uint8Array, expected: Address): boolean {
  try {
    return publicKeyToAddress(pk) === expected
  } catch {
    return false
  }
}
