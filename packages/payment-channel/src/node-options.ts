/**
 * What a ChannelNode takes and what it reports: its options, the parameters
 * of `open`, `pay` and `topUp`, a channel's status; and the checks those
 * inputs get at the boundary, each a typed error naming the field, before
 * anything is stored or sent. The node itself is node.ts.
 */
import { type Address, type Amount, InvalidInputError, type Signer, type Verifier, describe, publicKeyToAddress, toAddress, toAmount } from '@l2bench/core'
import type { Wallet } from '@l2bench/l1-mock'
import type { Adjudicator } from './adjudicator.ts'
import type { AcceptLimits } from './funding.ts'
import { DEFAULT_MAX_MERGE, MAX_MERGE } from './merge.ts'
import type { ChannelParams, Machine, UpdatePolicy } from './protocol.ts'
import type { RetryLimits } from './runtime.ts'
import { type ChannelState, type LockedEntry, PENALTIES, type PartyIndex, type Penalty, type SignedState } from './state.ts'
import type { ChannelStore } from './store.ts'

export interface ChannelNodeOptions {
  signer: Signer
  /** Wallet for L1 transactions (its signer may differ from the channel signer). */
  wallet: Wallet
  adjudicator: Adjudicator
  store: ChannelStore
  verifier?: Verifier
  /** Proposal retransmission timeout (ms); default 2,000. */
  timeoutMs?: number
  maxAttempts?: number
  /** Extra checks on the peer's proposals. */
  policy?: UpdatePolicy
  /** `policy` replaces the default one instead of adding to it (see StepContext). */
  policyReplacesDefault?: boolean
  /** Challenge stale registrations automatically (default true). */
  autoChallenge?: boolean
  /** What this node agrees to when a peer opens a channel (defaults: DEFAULT_ACCEPT_LIMITS). */
  acceptLimits?: Partial<AcceptLimits>
  /** An extra decision on an incoming channel, after the limits (default: none). */
  acceptChannel?: (params: ChannelParams) => boolean
  /** How often a request is re-proposed after losing a crossing or a rejection (defaults 16 and 2). */
  retryLimits?: Partial<RetryLimits>
  /** Link handshake and idle timeouts (ms; defaults 10,000 and 60,000). */
  links?: { helloTimeoutMs?: number; idleTimeoutMs?: number }
  /** Receives every fully signed state (e.g. a Watchtower's `watch`); `steps`: a merged state's intermediate states, one per update it carries. */
  onSignedState?: (signed: SignedState, steps?: ChannelState[]) => void
  /**
   * Most queued requests one proposal carries (merged updates; default
   * DEFAULT_MAX_MERGE = 64, at most MAX_MERGE; 1 turns merging off).
   */
  maxMerge?: number
  /**
   * Group commit: the records of every channel updated by the work queued at one moment
   * are written in one store transaction (one fsync), and nothing that
   * depends on them leaves before (default true).
   */
  groupCommit?: boolean
  /** Runs `tick` on a timer (default true; tests drive time themselves with false). */
  timers?: boolean
  now?: () => number
}

export interface OpenParameters {
  peer: Address
  peerPublicKey: Uint8Array
  deposit: Amount
  peerDeposit?: Amount
  /** Dispute window Δ in blocks. */
  disputeWindow: number
  /** Blocks B has to confirm before A may refund. */
  fundingTimeout?: number
  penalty?: Penalty
  nonce?: bigint
}

export interface PayParameters {
  channelId: `0x${string}` | Uint8Array
  amount: Amount
}

export interface ChannelStatus {
  channelId: `0x${string}`
  phase: Machine['phase']
  me: PartyIndex
  peer: Address
  version: bigint
  balances: readonly [Amount, Amount]
  myBalance: Amount
  locked: readonly LockedEntry[]
  pendingVersion: bigint | undefined
  total: Amount
}

/** Names one channel of the node (its id, hex or bytes). */
export type ChannelRef = { channelId: `0x${string}` | Uint8Array }

/** `open`'s parameters checked in order, the first bad one named; `self` is the opener's address. */
export function openTerms(
  p: OpenParameters,
  self: Address,
): { peer: Address; deposit: Amount; peerDeposit: Amount; fundingTimeout: number; penalty: Penalty } {
  const peer = toAddress('peer', p.peer)
  if (peer === self) throw new InvalidInputError('peer', 'cannot open a channel with oneself')
  const deposit = toAmount('deposit', p.deposit)
  const peerDeposit = toAmount('peerDeposit', p.peerDeposit ?? 0n)
  if (deposit + peerDeposit === 0n) throw new InvalidInputError('deposit', 'a channel needs some funds')
  if (!Number.isInteger(p.disputeWindow) || p.disputeWindow < 1 || p.disputeWindow > 0xffffffff)
    throw new InvalidInputError('disputeWindow', 'expected a positive number of blocks')
  const fundingTimeout = p.fundingTimeout ?? 20
  if (!Number.isInteger(fundingTimeout) || fundingTimeout < 1 || fundingTimeout > 0xffffffff)
    throw new InvalidInputError('fundingTimeout', 'expected a positive number of blocks')
  if (!(p.peerPublicKey instanceof Uint8Array) || !isKeyOf(p.peerPublicKey, peer))
    throw new InvalidInputError('peerPublicKey', `expected the 33-byte public key of ${peer}, got ${describe(p.peerPublicKey)}`)
  const penalty = p.penalty ?? 'none'
  if (!PENALTIES.includes(penalty)) throw new InvalidInputError('penalty', `expected one of ${PENALTIES.join(', ')}, got ${describe(penalty)}`)
  if (p.nonce !== undefined && (typeof p.nonce !== 'bigint' || p.nonce < 0n || p.nonce >= 1n << 64n))
    throw new InvalidInputError('nonce', `expected a bigint in [0, 2^64), got ${describe(p.nonce)}`)
  return { peer, deposit, peerDeposit, fundingTimeout, penalty }
}

/** The merge bound: an integer in 1..MAX_MERGE. */
export function maxMerge(given: number | undefined): number {
  const n = given ?? DEFAULT_MAX_MERGE
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_MERGE) throw new InvalidInputError('maxMerge', `expected an integer in 1..${MAX_MERGE}, got ${describe(n)}`)
  return n
}

/** The retry defaults with `given` on top, each a non-negative integer. */
export function retryLimits(given: Partial<RetryLimits> = {}): RetryLimits {
  const l = { maxConflicts: 16, maxRejections: 2, ...given }
  for (const f of ['maxConflicts', 'maxRejections'] as const)
    if (!Number.isSafeInteger(l[f]) || l[f] < 0) throw new InvalidInputError(`retryLimits.${f}`, `expected a non-negative integer, got ${describe(l[f])}`)
  return l
}

/** Whether `pk` is a public key whose address is `address`. */
function isKeyOf(pk: Uint8Array, address: Address): boolean {
  try {
    return publicKeyToAddress(pk) === address
  } catch {
    return false
  }
}
