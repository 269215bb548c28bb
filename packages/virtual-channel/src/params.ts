/**
 * A virtual channel's parameters, its id, and what it does to the two ledger
 * channels it stands on (Perun §3.3, seed 002).
 *
 * Alice has a ledger channel `ledgerA` with Ingrid, Bob has `ledgerB` with
 * Ingrid. The virtual channel between Alice (virtual party 0) and Bob
 * (virtual party 1) starts with `deposits` = [x_A, x_B]. Its money is locked
 * in both ledgers as one locked entry each:
 *
 *   ledger A: Alice puts in x_A, Ingrid x_B   (Ingrid stands in for Bob)
 *   ledger B: Ingrid puts in x_A, Bob x_B     (Ingrid stands in for Alice)
 *
 * The lock's `direction` is the ledger party that plays Alice's side (Alice
 * in ledger A, Ingrid in ledger B); it contributes x_A and, when the lock is
 * resolved by the virtual channel's final balances [y_A, y_B], receives y_A,
 * while the other party contributes x_B and receives y_B. So whatever the
 * final balances, Ingrid receives y_B − x_B in ledger A and y_A − x_A in
 * ledger B, which sum to zero as long as both locks are resolved by the same
 * balances — the adjudicator stores one outcome per virtual channel and
 * resolves both locks by it.
 *
 * The lock never expires (`expiry` = 2^64 − 1: the base adjudicator's refund
 * to `direction` never applies); its `id` and `hash` are the virtual channel
 * id, a hash of every parameter, so the lock commits to them.
 */
import {
  type Address,
  type Amount,
  AmountError,
  InvalidInputError,
  MAX_AMOUNT,
  addAmounts,
  bytesEqual,
  codec,
  decode,
  encode,
  keccakTagged,
  publicKeyToAddress,
  subAmounts,
} from '@l2bench/core'
import { type Balances, type ChannelParams, type ChannelState, type Domain, type LockedEntry, type PartyIndex, balancesCodec, other, stateDigest } from '@l2bench/payment-channel'
import { VirtualError } from './errors.ts'

export const VIRTUAL_ID_TAG = 'l2bench/virtual-channel/id/v1'
export const ACTIVATION_TAG = 'l2bench/virtual-channel/activate/v1'
/** A virtual lock's expiry: never (the base adjudicator's expiry refund must not apply to it). */
export const NEVER: bigint = (1n << 64n) - 1n

export const virtualParamsCodec = codec.struct({
  chainId: codec.u64,
  adjudicator: codec.address,
  nonce: codec.u64,
  alice: codec.address,
  bob: codec.address,
  pkAlice: codec.fixedBytes(33),
  pkBob: codec.fixedBytes(33),
  ingrid: codec.address,
  pkIngrid: codec.fixedBytes(33),
  /** Alice's ledger channel with Ingrid. */
  ledgerA: codec.fixedBytes(32),
  /** Bob's ledger channel with Ingrid. */
  ledgerB: codec.fixedBytes(32),
  /** [x_A, x_B]: the virtual channel's version 0 balances. */
  deposits: balancesCodec,
  /** Blocks a virtual registration can be refuted in. */
  disputeWindow: codec.u32,
  /** L1 height from which Ingrid alone may register the virtual channel (to free her collateral). */
  validity: codec.u64,
})
export type VirtualParams = codec.Infer<typeof virtualParamsCodec>

/** Which ledger of the virtual channel: A (Alice–Ingrid) or B (Ingrid–Bob). */
export type Side = 'a' | 'b'

export function encodeParams(p: VirtualParams): Uint8Array {
  return encode(virtualParamsCodec, p)
}

export function decodeParams(bytes: Uint8Array): VirtualParams {
  return decode(virtualParamsCodec, bytes, { maxSize: 1024 })
}

/** vid = keccakTagged(tag, encode(params)): binds chain, adjudicator, the three parties and keys, both ledgers, deposits, window, validity. */
export function virtualId(p: VirtualParams): Uint8Array {
  return keccakTagged(VIRTUAL_ID_TAG, encodeParams(p))
}

export function domainOf(p: VirtualParams): Domain {
  return { chainId: p.chainId, adjudicator: p.adjudicator }
}

/** The two-party channel Alice and Bob run (payment-channel's update protocol, funded by the ledger locks). */
export function channelParamsOf(p: VirtualParams, vid: Uint8Array = virtualId(p)): ChannelParams {
  return {
    channelId: vid,
    domain: domainOf(p),
    nonce: p.nonce,
    parties: [p.alice, p.bob],
    publicKeys: [p.pkAlice, p.pkBob],
    deposits: p.deposits,
    disputeWindow: p.disputeWindow,
    fundingTimeout: 1,
    penalty: 'none',
  }
}

export function initialState(p: VirtualParams, vid: Uint8Array = virtualId(p)): ChannelState {
  return { channelId: vid, version: 0n, balances: p.deposits, locked: [], isFinal: false }
}

/** The digest Alice and Bob sign for version 0 (their agreement to the parameters). */
export function initialDigest(p: VirtualParams, vid: Uint8Array = virtualId(p)): Uint8Array {
  return stateDigest(domainOf(p), initialState(p, vid))
}

/** What Ingrid signs once both ledger locks are in place: from then on the virtual channel's later states count on L1. */
export function activationDigest(vid: Uint8Array): Uint8Array {
  return keccakTagged(ACTIVATION_TAG, vid)
}

export function totalOf(p: VirtualParams): Amount {
  return p.deposits[0] + p.deposits[1]
}

/** The ledger channel id of a side. */
export function ledgerOf(p: VirtualParams, side: Side): Uint8Array {
  return side === 'a' ? p.ledgerA : p.ledgerB
}

/** The parties of a side's ledger channel, as [plays Alice's side, plays Bob's side]. */
export function sidesOf(p: VirtualParams, side: Side): readonly [Address, Address] {
  return side === 'a' ? [p.alice, p.ingrid] : [p.ingrid, p.bob]
}

/** The side a ledger channel id is, or undefined. */
export function sideOfLedger(p: VirtualParams, ledgerId: Uint8Array): Side | undefined {
  return bytesEqual(ledgerId, p.ledgerA) ? 'a' : bytesEqual(ledgerId, p.ledgerB) ? 'b' : undefined
}

/**
 * The locked entry of the virtual channel in a side's ledger, whose parties
 * (in the ledger's order) are `ledgerParties`. Throws MISMATCH when they are
 * not that side's two parties.
 */
export function lockFor(p: VirtualParams, side: Side, ledgerParties: readonly [Address, Address], vid: Uint8Array = virtualId(p)): LockedEntry {
  const [alicesSide, bobsSide] = sidesOf(p, side)
  const dir: PartyIndex | -1 = ledgerParties[0] === alicesSide ? 0 : ledgerParties[1] === alicesSide ? 1 : -1
  if (dir === -1 || ledgerParties[other(dir)] !== bobsSide)
    throw new VirtualError('MISMATCH', side === 'a' ? 'params.ledgerA' : 'params.ledgerB', `ledger ${side.toUpperCase()} is not the channel between ${alicesSide} and ${bobsSide}`)
  return { id: vid, amount: totalOf(p), direction: dir, hash: vid, expiry: NEVER }
}

/**
 * The ledger state after locking the virtual channel: version + 1, the party
 * at `direction` puts in x_A, the other x_B. Throws AmountError naming the
 * share when a balance is too small.
 */
export function withLock(prev: ChannelState, p: VirtualParams, lock: LockedEntry): ChannelState {
  const b: [Amount, Amount] = [prev.balances[0], prev.balances[1]]
  const dir = lock.direction
  const fields = ['params.deposits[0]', 'params.deposits[1]'] as const
  if (b[dir] < p.deposits[0]) throw new AmountError(fields[0], `locks ${p.deposits[0]} but the ledger balance is ${b[dir]}`)
  if (b[other(dir)] < p.deposits[1]) throw new AmountError(fields[1], `locks ${p.deposits[1]} but the ledger balance is ${b[other(dir)]}`)
  b[dir] = subAmounts(fields[0], b[dir], p.deposits[0])
  b[other(dir)] = subAmounts(fields[1], b[other(dir)], p.deposits[1])
  return { channelId: prev.channelId, version: prev.version + 1n, balances: b, locked: [...prev.locked, lock], isFinal: false }
}

/** The ledger state after unlocking: version + 1, the lock removed, `outcome` = [y_A, y_B] paid to Alice's side and Bob's side. */
export function withoutLock(prev: ChannelState, lock: LockedEntry, outcome: Balances): ChannelState {
  const b: [Amount, Amount] = [prev.balances[0], prev.balances[1]]
  const dir = lock.direction
  b[dir] = addAmounts('outcome[0]', b[dir], outcome[0])
  b[other(dir)] = addAmounts('outcome[1]', b[other(dir)], outcome[1])
  return { channelId: prev.channelId, version: prev.version + 1n, balances: b, locked: prev.locked.filter((e) => !bytesEqual(e.id, lock.id)), isFinal: false }
}

/** Structural checks of parameters a peer sent (keys match addresses, three distinct parties, amounts, window). Throws naming the field. */
export function checkParams(p: VirtualParams, field = 'params'): void {
  const keyOf = (pk: Uint8Array, addr: Address, name: string) => {
    let a: Address
    try {
      a = publicKeyToAddress(pk)
    } catch (err) {
      throw new InvalidInputError(`${field}.${name}`, 'not a valid public key', { cause: err })
    }
    if (a !== addr) throw new InvalidInputError(`${field}.${name}`, 'public key does not hash to the party’s address')
  }
  keyOf(p.pkAlice, p.alice, 'pkAlice')
  keyOf(p.pkBob, p.bob, 'pkBob')
  keyOf(p.pkIngrid, p.ingrid, 'pkIngrid')
  if (p.alice === p.bob || p.alice === p.ingrid || p.bob === p.ingrid) throw new InvalidInputError(`${field}.bob`, 'Alice, Bob and Ingrid must be three different parties')
  if (bytesEqual(p.ledgerA, p.ledgerB)) throw new InvalidInputError(`${field}.ledgerB`, 'the two ledger channels must differ')
  for (const i of [0, 1] as const) {
    const d = p.deposits[i]
    if (typeof d !== 'bigint' || d < 0n || d > MAX_AMOUNT) throw new AmountError(`${field}.deposits[${i}]`, `out of range: ${String(d)}`)
  }
  if (totalOf(p) === 0n) throw new VirtualError('CONSERVATION', `${field}.deposits`, 'a virtual channel needs some funds')
  if (totalOf(p) > MAX_AMOUNT) throw new AmountError(`${field}.deposits`, 'total out of range')
  if (!Number.isInteger(p.disputeWindow) || p.disputeWindow < 1) throw new InvalidInputError(`${field}.disputeWindow`, 'expected at least 1 block')
}

/** Conservation of a virtual state against the parameters (balances only: a virtual channel carries no locks). */
export function checkVirtualState(p: VirtualParams, vid: Uint8Array, state: ChannelState, field = 'state'): void {
  if (!bytesEqual(state.channelId, vid)) throw new VirtualError('UNKNOWN_VIRTUAL', `${field}.channelId`, 'state is for another channel')
  if (state.locked.length > 0) throw new VirtualError('MISMATCH', `${field}.locked`, 'a virtual channel state carries no locked entries')
  for (const i of [0, 1] as const)
    if (state.balances[i] < 0n || state.balances[i] > MAX_AMOUNT) throw new AmountError(`${field}.balances[${i}]`, 'out of range')
  const sum = state.balances[0] + state.balances[1]
  if (sum !== totalOf(p)) throw new VirtualError('CONSERVATION', `${field}.balances`, `balances add up to ${sum}, the virtual channel holds ${totalOf(p)}`)
}
