/**
 * Channel state: what both parties sign, version after version.
 *
 * A state is (channelId, version, balances[A,B], locked[], isFinal). Its
 * digest binds the chain id and the adjudicator address too, so a signature
 * for one chain, contract, channel or version is worthless for any other.
 * Exactly one digest is computed per state (encode once, hash once); both
 * signatures are over it.
 *
 * Locked entries are generic conditional amounts kept apart from both
 * balances: {id, amount, direction, hash, expiry}. `direction` is the party
 * whose funds are locked (the payer); `hash` is the condition commitment and
 * `expiry` an L1 height. The HTLC router stores its HTLCs here; this package
 * only conserves them, and on close keeps them apart on the adjudicator.
 *
 * Conservation: Σ balances + Σ locked = total deposits, at every version.
 */
import {
  type Address,
  type Amount,
  AmountError,
  DecodeError,
  InvalidInputError,
  MAX_AMOUNT,
  addAmounts,
  assertBytes,
  codec,
  encode,
  keccakTagged,
  subAmounts,
  toPositiveAmount,
} from '@l2bench/core'
import type { Codec } from '@l2bench/core'
import { ChannelError } from './errors.ts'

export type PartyIndex = 0 | 1
export const PARTY_A: PartyIndex = 0
export const PARTY_B: PartyIndex = 1

export function other(p: PartyIndex): PartyIndex {
  return p === 0 ? 1 : 0
}

/** Most locked entries one state may carry (BOLT 2's limit of in-flight HTLCs). */
export const MAX_LOCKED = 483

export type Penalty = 'none' | 'slash'
export const PENALTIES = ['none', 'slash'] as const

/** A party index on the wire: one byte, 0 or 1. */
export const partyIndex: Codec<PartyIndex> = {
  kind: 'party',
  write(w, v, field) {
    if (v !== 0 && v !== 1) throw new InvalidInputError(field, `expected party index 0 or 1, got ${String(v)}`)
    w.u8(v)
  },
  read(r, field) {
    const v = r.u8(field)
    if (v > 1) throw new DecodeError(field, `party index must be 0 or 1, got ${v}`)
    return v as PartyIndex
  },
}

/** Two amounts, A's then B's. */
export type Balances = readonly [Amount, Amount]
export const balancesCodec: Codec<Balances> = {
  kind: 'balances',
  write(w, v, field) {
    if (!Array.isArray(v) || v.length !== 2) throw new InvalidInputError(field, 'expected [balanceA, balanceB]')
    codec.amount.write(w, v[0], `${field}[0]`)
    codec.amount.write(w, v[1], `${field}[1]`)
  },
  read(r, field) {
    return [codec.amount.read(r, `${field}[0]`), codec.amount.read(r, `${field}[1]`)] as const
  },
}

export const lockedEntryCodec = codec.struct({
  /** Unique per channel (the HTLC router uses a payment-specific id). */
  id: codec.fixedBytes(32),
  amount: codec.amount,
  /** Party whose funds are locked (gets them back at expiry). */
  direction: partyIndex,
  /** Condition commitment (for an HTLC: the payment hash). */
  hash: codec.fixedBytes(32),
  /** L1 height from which the lock can be refunded to `direction`. */
  expiry: codec.u64,
})
export type LockedEntry = codec.Infer<typeof lockedEntryCodec>

export const stateCodec = codec.struct({
  channelId: codec.fixedBytes(32),
  version: codec.u64,
  balances: balancesCodec,
  locked: codec.list(lockedEntryCodec, MAX_LOCKED),
  isFinal: codec.bool,
})
export type ChannelState = codec.Infer<typeof stateCodec>

/** What a signature binds besides the state: the chain and the adjudicator contract. */
export interface Domain {
  chainId: bigint
  adjudicator: Address
}

const domainCodec = codec.struct({ chainId: codec.u64, adjudicator: codec.address })
export const STATE_TAG = 'l2bench/payment-channel/state/v1'
export const CHANNEL_ID_TAG = 'l2bench/payment-channel/id/v1'

/** Digest both parties sign: keccakTagged(tag, chainId ‖ contract ‖ encode(state)). */
export function stateDigest(domain: Domain, state: ChannelState): Uint8Array {
  return keccakTagged(STATE_TAG, encode(domainCodec, domain), encode(stateCodec, state))
}

/** Same digest from an already encoded state (the contract and the hot path use it). */
export function stateDigestFromBytes(domainBytes: Uint8Array, stateBytes: Uint8Array): Uint8Array {
  return keccakTagged(STATE_TAG, domainBytes, stateBytes)
}

export function encodeDomain(domain: Domain): Uint8Array {
  return encode(domainCodec, domain)
}

const channelIdCodec = codec.struct({
  chainId: codec.u64,
  adjudicator: codec.address,
  a: codec.address,
  b: codec.address,
  nonce: codec.u64,
})

/** channelId = keccakTagged(tag, chainId ‖ adjudicator ‖ A ‖ B ‖ nonce). */
export function deriveChannelId(domain: Domain, a: Address, b: Address, nonce: bigint): Uint8Array {
  return keccakTagged(CHANNEL_ID_TAG, encode(channelIdCodec, { ...domain, a, b, nonce }))
}

/** A state with both signatures (index 0 = A's, 1 = B's) and its digest. */
export interface SignedState {
  state: ChannelState
  digest: Uint8Array
  sigs: readonly [Uint8Array, Uint8Array]
}

export const signedStateCodec = codec.struct({
  state: stateCodec,
  sigA: codec.fixedBytes(64),
  sigB: codec.fixedBytes(64),
})

export function lockedTotal(locked: readonly LockedEntry[]): Amount {
  let t = 0n
  for (const e of locked) t += e.amount
  return t
}

/** Σ balances + Σ locked (not bounded: the caller compares it with the deposits). */
export function stateTotal(state: ChannelState): Amount {
  return state.balances[0] + state.balances[1] + lockedTotal(state.locked)
}

/**
 * Structural validation of a state against the channel's deposits: amounts in
 * range, lock ids unique, lock amounts positive, conservation exact.
 */
export function checkState(field: string, state: ChannelState, totalDeposits: Amount): void {
  for (const i of [0, 1] as const) {
    const b = state.balances[i]
    if (typeof b !== 'bigint' || b < 0n || b > MAX_AMOUNT) throw new AmountError(`${field}.balances[${i}]`, `balance out of range: ${String(b)}`)
  }
  if (state.locked.length > MAX_LOCKED) throw new InvalidInputError(`${field}.locked`, `more than ${MAX_LOCKED} locked entries`)
  const seen = new Set<string>()
  for (let i = 0; i < state.locked.length; i++) {
    const e = state.locked[i] as LockedEntry
    toPositiveAmount(`${field}.locked[${i}].amount`, e.amount)
    assertBytes(`${field}.locked[${i}].id`, e.id, 32)
    const key = Buffer.from(e.id).toString('hex')
    if (seen.has(key)) throw new InvalidInputError(`${field}.locked[${i}].id`, 'duplicate locked entry id')
    seen.add(key)
  }
  const total = stateTotal(state)
  if (total !== totalDeposits)
    throw new ChannelError('CONSERVATION', `${field}.balances`, `balances + locked = ${total}, deposits = ${totalDeposits}`)
}

/** The state after `from` pays `amount` to the other party (version + 1). */
export function applyPayment(state: ChannelState, from: PartyIndex, amount: Amount): ChannelState {
  toPositiveAmount('amount', amount)
  const balances: [Amount, Amount] = [state.balances[0], state.balances[1]]
  balances[from] = subAmounts('amount', balances[from], amount)
  const to = other(from)
  balances[to] = addAmounts('amount', balances[to], amount)
  return { channelId: state.channelId, version: state.version + 1n, balances, locked: state.locked, isFinal: false }
}

/** Compares two lists of locked entries by content. */
export function sameLocked(a: readonly LockedEntry[], b: readonly LockedEntry[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as LockedEntry
    const y = b[i] as LockedEntry
    if (x.amount !== y.amount || x.direction !== y.direction || x.expiry !== y.expiry) return false
    if (Buffer.compare(x.id, y.id) !== 0 || Buffer.compare(x.hash, y.hash) !== 0) return false
  }
  return true
}

export function channelIdHex(id: Uint8Array): string {
  return Buffer.from(id).toString('hex')
}
