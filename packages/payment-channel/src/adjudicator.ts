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
 * Storage and gas mirror the Solidity port (packages/l1-evm/contracts/
 * PaymentChannelAdjudicator.sol), slot for slot: per channel a 4-slot record
 * (parties, phase and parameters, deposits, B's declared deposit); while
 * disputed 2 slots (version, deadline, flags; balances) and a dynamic array
 * of locked entries (3 slots each); a kept entry 2 slots. Public keys are not
 * stored on chain: the port logs them at open and recovers each signer with
 * ecrecover; the host keeps them beside the contract (no slots) for its own
 * signature check. Every read charges the slots the port reads, every write
 * the slots it changes (gas.ts), and calls are charged as their ABI bytes
 * (abi.ts).
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
import {
  type AbiCall,
  type AbiEnv,
  type AbiItem,
  type CallContext,
  Contract,
  NO_SLOTS,
  type ReadContext,
  type SlotLayout,
  findEvent,
  codecStepGas,
  keccakGas,
  logShape,
} from '@l2bench/l1-mock'
import { ADJUDICATOR_ABI, adjudicatorAbiCall } from './abi.ts'
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

/** The channel's record, as the Solidity port's `Channel` struct holds it (4 slots). */
interface ChannelRecord {
  a: Address
  phase: OnChainPhase
  disputeWindow: number
  penalty: Penalty
  /** Height after which A may refund an unconfirmed channel. */
  fundingDeadline: number
  b: Address
  depositA: Amount
  depositB: Amount
  /** B's deposit as declared by A (B must confirm with exactly this). */
  declaredDepositB: Amount
}

const PHASE_CODES: Record<OnChainPhase, number> = { funding: 1, open: 2, disputed: 3, closed: 4 }

/** Slot 0: a, phase, disputeWindow, penalty, fundingDeadline; 1: b; 2: both deposits; 3: B's declared deposit. */
const CHANNEL_SLOTS: SlotLayout<ChannelRecord> = (c) => [
  [c.a, PHASE_CODES[c.phase], c.disputeWindow, PENALTIES.indexOf(c.penalty), c.fundingDeadline],
  [c.b],
  [c.depositA, c.depositB],
  [c.declaredDepositB],
]
const SLOT_HEAD = 0
const SLOT_B = 1
const SLOT_DEPOSITS = 2
const SLOT_DECLARED = 3

interface Dispute {
  version: bigint
  deadline: number
  balances: readonly [Amount, Amount]
  /** Party index that submitted the current registered state, or -1 for a third party (watchtower). */
  by: PartyIndex | -1
  /** Bit i set: party i registered a state later superseded by ≥ 2 versions. */
  cheaters: number
}

/** Slot 0: version, deadline, by, cheaters; slot 1: both balances. */
const DISPUTE_SLOTS: SlotLayout<Dispute> = (d) => [[d.version, d.deadline, d.by, d.cheaters], [d.balances[0], d.balances[1]]]

/** A dynamic array of locked entries: the length slot, then 3 slots per entry (id; hash; amount, expiry, direction). */
const LOCKS_SLOTS: SlotLayout<readonly LockedEntry[]> = (ls) => [[ls.length], ...ls.flatMap((l) => [[l.id], [l.hash], [l.amount, l.expiry, l.direction]])]

/** A locked entry kept apart on close: hash; amount, direction, expiry (2 slots). */
type Kept = Omit<LockedEntry, 'id'>
const KEPT_SLOTS: SlotLayout<Kept> = (k) => [[k.hash], [k.amount, k.direction, k.expiry]]

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
  dispute?: Readonly<Dispute & { locked: readonly LockedEntry[] }>
}

export interface StoredLock extends LockedEntry {
  channelId: Uint8Array
  parties: readonly [Address, Address]
}

/** Signature-bearing calls check both signatures against the parties. */
const SIG_LABELS = ['sig.A', 'sig.B'] as const

const K = {
  channel: (key: string) => `ch:${key}`,
  keys: (key: string) => `pk:${key}`,
  dispute: (key: string) => `disp:${key}`,
  locks: (key: string) => `locks:${key}`,
  kept: (key: string, lockId: Uint8Array) => `kept:${key}:${channelIdHex(lockId)}`,
}

export class Adjudicator extends Contract<AdjudicatorCall> {
  readonly name: string = 'PaymentChannelAdjudicator'
  readonly abi = adjudicatorAbi
  override readonly solidityAbi: readonly AbiItem[] = ADJUDICATOR_ABI

  override toAbiCall(call: AdjudicatorCall, env: AbiEnv): AbiCall | undefined {
    return adjudicatorAbiCall(call, env)
  }

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

  /** Gas of a LOG of the port's event `name`. */
  protected log(name: string): { topics: number; dataBytes: number } {
    return logShape(findEvent(this.solidityAbi, name))
  }

  // ------------------------------------------------------------ funding

  private open(ctx: CallContext, call: Extract<AdjudicatorCall, { type: 'open' }>): `0x${string}` {
    const a = ctx.sender
    if (call.b === a) ctx.revert('a channel needs two distinct parties', 'b')
    ctx.chargeGas('keccakBase', 'pk.address', keccakGas(64))
    if (!safeAddress(call.pkA, a)) ctx.revert('pkA is not the sender’s public key', 'pkA')
    ctx.chargeGas('keccakBase', 'pk.address', keccakGas(64))
    if (!safeAddress(call.pkB, call.b)) ctx.revert('pkB is not B’s public key', 'pkB')
    if (call.disputeWindow < 1) ctx.revert('dispute window must be at least 1 block', 'disputeWindow')
    if (call.fundingTimeout < 1) ctx.revert('funding timeout must be at least 1 block', 'fundingTimeout')
    ctx.chargeGas('keccakBase', 'channelId', keccakGas(32 + 8 + 20 + 20 + 20 + 8))
    const id = deriveChannelId({ chainId: ctx.chainId, adjudicator: ctx.self }, a, call.b, call.nonce)
    const key = channelIdHex(id)
    if (ctx.sload(K.channel(key), 'channel.exists', CHANNEL_SLOTS, [SLOT_HEAD]) !== undefined) ctx.revert('channel already exists', 'nonce')
    const record: ChannelRecord = {
      a,
      phase: 'funding',
      disputeWindow: call.disputeWindow,
      penalty: call.penalty,
      fundingDeadline: ctx.height + call.fundingTimeout,
      b: call.b,
      depositA: ctx.value,
      depositB: 0n,
      declaredDepositB: call.depositB,
    }
    ctx.sstore(K.channel(key), record, 'channel.open', CHANNEL_SLOTS)
    // The port stores no key: it logs both (Opened) and recovers signers with ecrecover. The host keeps them for its own check.
    ctx.sstore(K.keys(key), [call.pkA.slice(), call.pkB.slice()] as const, 'channel.keys', NO_SLOTS)
    ctx.emit('Opened', { channelId: id, a, b: call.b, depositA: ctx.value, depositB: call.depositB }, this.log('Opened'))
    return toHex(id)
  }

  private confirm(ctx: CallContext, channelId: Uint8Array): void {
    const key = channelIdHex(channelId)
    const c = this.channel(ctx, key, [SLOT_HEAD, SLOT_B, SLOT_DECLARED])
    if (c.phase !== 'funding') ctx.revert(`channel is ${c.phase}, not funding`, 'channelId')
    if (ctx.sender !== c.b) ctx.revert('only B confirms', 'sender')
    if (ctx.height > c.fundingDeadline) ctx.revert('funding timeout passed', 'channelId')
    if (ctx.value !== c.declaredDepositB) ctx.revert(`deposit must be exactly ${c.declaredDepositB}`, 'value')
    ctx.sstore(K.channel(key), { ...c, depositB: ctx.value, phase: 'open' }, 'channel.confirm', CHANNEL_SLOTS)
    ctx.emit('Funded', { channelId, depositA: c.depositA, depositB: ctx.value }, this.log('Funded'))
  }

  private refund(ctx: CallContext, channelId: Uint8Array): void {
    const key = channelIdHex(channelId)
    const c = this.channel(ctx, key, [SLOT_HEAD, SLOT_DEPOSITS])
    if (c.phase !== 'funding') ctx.revert(`channel is ${c.phase}, not funding`, 'channelId')
    if (ctx.sender !== c.a) ctx.revert('only A refunds', 'sender')
    if (ctx.height <= c.fundingDeadline) ctx.revert(`funding timeout runs until height ${c.fundingDeadline}`, 'channelId')
    ctx.sstore(K.channel(key), { ...c, phase: 'closed', depositA: 0n, depositB: 0n }, 'channel.refund', CHANNEL_SLOTS)
    ctx.transfer(c.a, c.depositA, 'refund')
    ctx.emit('Refunded', { channelId, amount: c.depositA }, this.log('Refunded'))
  }

  /**
   * A deposit lands only together with a state signed by both that accounts
   * for it (Σ state = deposits + value). Money sent any other way cannot
   * raise the deposits, so no one can make the signed states unenforceable
   * by depositing outside them (a 1-wei "ransom" top-up).
   */
  private topUp(ctx: CallContext, state: ChannelState, sigA: Uint8Array, sigB: Uint8Array): void {
    const key = channelIdHex(state.channelId)
    const c = this.channel(ctx, key, [SLOT_HEAD])
    if (c.phase !== 'open') ctx.revert(`channel is ${c.phase}, not open`, 'state.channelId')
    if (ctx.value <= 0n) ctx.revert('top-up must be positive', 'value')
    const who = this.partyOf(ctx, key, c, ctx.sender)
    if (who === -1) ctx.revert('only a party tops up', 'sender')
    this.readSlots(ctx, key, [SLOT_DEPOSITS])
    const next: [Amount, Amount] = [c.depositA, c.depositB]
    next[who] = addAmounts('value', next[who], ctx.value)
    this.checkSigned(ctx, key, state, sigA, sigB, next)
    ctx.sstore(K.channel(key), { ...c, depositA: next[0], depositB: next[1] }, 'channel.deposits', CHANNEL_SLOTS)
    ctx.emit('ToppedUp', { channelId: state.channelId, party: who, amount: ctx.value, deposits: next, version: state.version }, this.log('ToppedUp'))
  }

  // ------------------------------------------------------------ closing

  private closeCooperative(ctx: CallContext, state: ChannelState, sigA: Uint8Array, sigB: Uint8Array): void {
    const key = channelIdHex(state.channelId)
    const c = this.channel(ctx, key, [SLOT_HEAD])
    if (c.phase !== 'open' && c.phase !== 'disputed') ctx.revert(`channel is ${c.phase}`, 'state.channelId')
    if (!state.isFinal) ctx.revert('cooperative close needs a final state', 'state.isFinal')
    this.readSlots(ctx, key, [SLOT_DEPOSITS])
    this.checkSigned(ctx, key, state, sigA, sigB, [c.depositA, c.depositB])
    if (c.phase === 'disputed') {
      const d = this.dispute(ctx, key, [0])
      if (state.version <= d.version) ctx.revert(`version ${state.version} not above registered ${d.version}`, 'state.version')
    }
    for (const e of state.locked) this.keep(ctx, key, e)
    this.payout(ctx, key, c, state.balances, lockedTotal(state.locked), state.channelId, state.version, -1)
  }

  private register(ctx: CallContext, state: ChannelState, sigA: Uint8Array, sigB: Uint8Array): void {
    const key = channelIdHex(state.channelId)
    const c = this.channel(ctx, key, [SLOT_HEAD])
    if (c.phase !== 'open') ctx.revert(`channel is ${c.phase}, not open (use challenge while disputed)`, 'state.channelId')
    const by = this.partyOf(ctx, key, c, ctx.sender)
    if (by === -1) ctx.revert('only a party registers', 'sender')
    this.readSlots(ctx, key, [SLOT_DEPOSITS])
    this.checkSigned(ctx, key, state, sigA, sigB, [c.depositA, c.depositB])
    const deadline = ctx.height + c.disputeWindow
    this.storeDispute(ctx, key, state, { version: state.version, deadline, balances: state.balances, by, cheaters: 0 })
    ctx.sstore(K.channel(key), { ...c, phase: 'disputed' }, 'channel.phase', CHANNEL_SLOTS)
    ctx.emit('Registered', { channelId: state.channelId, version: state.version, deadline, by: ctx.sender }, this.log('Registered'))
  }

  private challenge(ctx: CallContext, state: ChannelState, sigA: Uint8Array, sigB: Uint8Array): void {
    const key = channelIdHex(state.channelId)
    const c = this.channel(ctx, key, [SLOT_HEAD])
    if (c.phase !== 'disputed') ctx.revert(`channel is ${c.phase}, not disputed`, 'state.channelId')
    const old = this.dispute(ctx, key, [0])
    if (ctx.height > old.deadline) ctx.revert(`dispute window closed at height ${old.deadline}`, 'state')
    if (state.version <= old.version) ctx.revert(`version ${state.version} not above registered ${old.version}`, 'state.version')
    this.readSlots(ctx, key, [SLOT_DEPOSITS])
    this.checkSigned(ctx, key, state, sigA, sigB, [c.depositA, c.depositB])
    let cheaters = old.cheaters
    if (c.penalty === 'slash' && old.by !== -1 && state.version >= old.version + 2n) cheaters |= 1 << old.by
    // Perun's storeChallenge: the deadline is the registration's, never extended.
    const by = this.partyOf(ctx, key, c, ctx.sender)
    this.storeDispute(ctx, key, state, { version: state.version, deadline: old.deadline, balances: state.balances, by, cheaters })
    ctx.emit('Challenged', { channelId: state.channelId, version: state.version, deadline: old.deadline, by: ctx.sender }, this.log('Challenged'))
  }

  private finalize(ctx: CallContext, channelId: Uint8Array): void {
    const key = channelIdHex(channelId)
    const c = this.channel(ctx, key, [SLOT_HEAD])
    if (c.phase !== 'disputed') ctx.revert(`channel is ${c.phase}, not disputed`, 'channelId')
    const d = this.dispute(ctx, key)
    if (ctx.height <= d.deadline) ctx.revert(`dispute window open until height ${d.deadline}`, 'channelId')
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
    const locked = ctx.sload<readonly LockedEntry[]>(K.locks(key), 'dispute.locks', LOCKS_SLOTS) ?? []
    for (const e of locked) this.keep(ctx, key, e)
    ctx.sstore(K.locks(key), undefined, 'dispute.clear', LOCKS_SLOTS)
    ctx.sstore(K.dispute(key), undefined, 'dispute.clear', DISPUTE_SLOTS)
    this.payout(ctx, key, c, balances, lockedTotal(locked), channelId, d.version, slashed)
  }

  /** Closes the channel: pays both balances; locked entries were kept apart by the caller. */
  private payout(
    ctx: CallContext,
    key: string,
    c: ChannelRecord,
    balances: readonly [Amount, Amount],
    locked: Amount,
    channelId: Uint8Array,
    version: bigint,
    slashed: PartyIndex | -1,
  ): void {
    ctx.sstore(K.channel(key), { ...c, phase: 'closed', depositA: 0n, depositB: 0n }, 'channel.close', CHANNEL_SLOTS)
    this.readSlots(ctx, key, [SLOT_HEAD, SLOT_B])
    ctx.transfer(c.a, balances[0], 'payout.A')
    ctx.transfer(c.b, balances[1], 'payout.B')
    ctx.emit('Concluded', { channelId, version, balances, locked, slashed }, this.log('Concluded'))
  }

  /** Keeps a locked entry apart until resolveLocked pays it (2 slots). */
  private keep(ctx: CallContext, key: string, e: LockedEntry): void {
    ctx.sstore(K.kept(key, e.id), { amount: e.amount, direction: e.direction, hash: e.hash, expiry: e.expiry }, 'locked.keep', KEPT_SLOTS)
  }

  private resolveLocked(ctx: CallContext, channelId: Uint8Array, lockId: Uint8Array, witness: Uint8Array): void {
    const key = channelIdHex(channelId)
    const k = ctx.sload<Kept>(K.kept(key, lockId), 'locked.load', KEPT_SLOTS)
    if (k === undefined) ctx.revert('no such locked entry', 'lockId')
    const c = ctx.sload<ChannelRecord>(K.channel(key), 'locked.parties', CHANNEL_SLOTS, []) as ChannelRecord
    const lock: StoredLock = { ...k, id: lockId, channelId, parties: [c.a, c.b] }
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
    ctx.sstore(K.kept(key, lockId), undefined, 'locked.clear', KEPT_SLOTS)
    // One LockedResolved per party paid (one for an HTLC; two when a subclass splits the entry).
    for (const i of [0, 1] as const) {
      if (split[i] === 0n) continue
      this.readSlots(ctx, key, [i === 0 ? SLOT_HEAD : SLOT_B])
      ctx.transfer(lock.parties[i], split[i], 'locked.pay')
      ctx.emit('LockedResolved', { channelId, lockId, to: lock.parties[i], amount: split[i] }, this.log('LockedResolved'))
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

  /** Conservation against `dep` (the stored deposits, or those a top-up is about to make), unique positive locks, both signatures. */
  private checkSigned(
    ctx: CallContext,
    key: string,
    state: ChannelState,
    sigA: Uint8Array,
    sigB: Uint8Array,
    dep: readonly [Amount, Amount],
  ): void {
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
    ctx.chargeGas('keccakBase', 'state.digest', keccakGas(domain.length + stateBytes.length + 32))
    ctx.step('state.encode', codecStepGas(2 + state.locked.length))
    const digest = stateDigestFromBytes(domain, stateBytes)
    const keys = ctx.sload<readonly [Uint8Array, Uint8Array]>(K.keys(key), 'channel.keys', NO_SLOTS) as readonly [Uint8Array, Uint8Array]
    // The port checks each signature against the stored party (slot 0: a, slot 1: b).
    this.readSlots(ctx, key, [SLOT_HEAD, SLOT_B])
    const sigs = [sigA, sigB] as const
    for (const i of [0, 1] as const) {
      if (!ctx.verifySignature(SIG_LABELS[i], sigs[i], digest, keys[i]))
        ctx.revert(`signature of ${i === 0 ? 'A' : 'B'} invalid`, i === 0 ? 'sigA' : 'sigB')
    }
  }

  /** Stores a registered state: the dispute's two slots and its locked entries (entries beyond the new count are cleared). */
  private storeDispute(ctx: CallContext, key: string, state: ChannelState, d: Dispute): void {
    ctx.sstore(K.dispute(key), d, 'dispute.state', DISPUTE_SLOTS)
    ctx.sload(K.locks(key), 'dispute.locks', LOCKS_SLOTS, [0])
    ctx.sstore(K.locks(key), state.locked.length === 0 ? undefined : state.locked, 'dispute.locks', LOCKS_SLOTS)
  }

  /** The channel record; charges the slots `only` the caller reads (reverts for an unknown channel). */
  private channel(ctx: CallContext, key: string, only: readonly number[]): ChannelRecord {
    const c = ctx.sload<ChannelRecord>(K.channel(key), 'channel.load', CHANNEL_SLOTS, only)
    if (c === undefined) ctx.revert('unknown channel', 'channelId')
    return c
  }

  /** Charges reading more slots of the channel record. */
  private readSlots(ctx: CallContext, key: string, only: readonly number[]): void {
    ctx.sload(K.channel(key), 'channel.load', CHANNEL_SLOTS, only)
  }

  private partyOf(ctx: CallContext, key: string, c: ChannelRecord, who: Address): PartyIndex | -1 {
    if (who === c.a) return 0
    this.readSlots(ctx, key, [SLOT_B])
    return who === c.b ? 1 : -1
  }

  private dispute(ctx: CallContext, key: string, only?: readonly number[]): Dispute {
    const d = ctx.sload<Dispute>(K.dispute(key), 'dispute.state', DISPUTE_SLOTS, only)
    if (d === undefined) ctx.revert('no registered state', 'channelId')
    return d
  }

  // ------------------------------------------------------------ views

  override view(ctx: ReadContext, method: string, args: unknown[]): unknown {
    if (method === 'channel') {
      const id = args[0]
      if (!(id instanceof Uint8Array) || id.length !== 32) throw new TypeError('channel(id): id must be 32 bytes')
      const key = channelIdHex(id)
      const c = ctx.sload<ChannelRecord>(K.channel(key))
      const keys = ctx.sload<readonly [Uint8Array, Uint8Array]>(K.keys(key))
      if (c === undefined || keys === undefined) return undefined
      const d = ctx.sload<Dispute>(K.dispute(key))
      const info: ChannelInfo = {
        channelId: toHex(id),
        parties: [c.a, c.b],
        publicKeys: keys,
        phase: c.phase,
        disputeWindow: c.disputeWindow,
        penalty: c.penalty,
        fundingDeadline: c.fundingDeadline,
        declaredDepositB: c.declaredDepositB,
        deposits: [c.depositA, c.depositB],
        ...(d === undefined ? {} : { dispute: { ...d, locked: ctx.sload<readonly LockedEntry[]>(K.locks(key)) ?? [] } }),
      }
      return info
    }
    if (method === 'locked') {
      const [id, lockId] = args
      if (!(id instanceof Uint8Array) || !(lockId instanceof Uint8Array)) throw new TypeError('locked(id, lockId): bytes expected')
      const key = channelIdHex(id)
      const k = ctx.sload<Kept>(K.kept(key, lockId))
      const c = ctx.sload<ChannelRecord>(K.channel(key))
      if (k === undefined || c === undefined) return undefined
      return { ...k, id: lockId.slice(), channelId: id.slice(), parties: [c.a, c.b] } satisfies StoredLock
    }
    return super.view(ctx, method, args)
  }
}

/** A split giving the whole amount to one party. */
function whole(to: PartyIndex, amount: Amount): readonly [Amount, Amount] {
  return to === 0 ? [amount, 0n] : [0n, amount]
}

function safeAddress(pk: Uint8Array, expected: Address): boolean {
  try {
    return publicKeyToAddress(pk) === expected
  } catch {
    return false
  }
}
