/**
 * What one hop checks before it forwards an HTLC (BOLT 4 failure messages),
 * as pure functions so the abstract simulator and a channel-backed node apply
 * the same rules. The instructions a hop follows are plain (outgoing channel,
 * amount, expiry): no onion, so a hop can see the whole route.
 *
 * A forwarding node refuses when its outgoing edge is disabled, the amount is
 * outside its HTLC limits, the fee it is left is below its policy, its
 * incoming HTLC does not expire at least its cltv delta after the outgoing one
 * (ATTACKS 10: otherwise it could be left paying downstream without time to
 * claim upstream), the outgoing expiry is too close to the current height,
 * or the incoming one too far in the future. The final node refuses an HTLC
 * that expires too soon for it to claim on chain, or that pays less than the
 * instructions said.
 */
import { feeMsat } from '../graph/fees.ts'
import type { ChannelGraph } from '../graph/graph.ts'
import { MAX_TOTAL_CLTV_EXPIRY, MIN_FINAL_CLTV_EXPIRY_DELTA } from '../routing/route.ts'

/** BOLT 4 failure codes the simulator produces, plus the two ways an HTLC ends without an answer. */
export type FailureCode =
  | 'temporary_channel_failure'
  | 'unknown_next_peer'
  | 'permanent_channel_failure'
  | 'channel_disabled'
  | 'amount_below_minimum'
  | 'fee_insufficient'
  | 'incorrect_cltv_expiry'
  | 'expiry_too_soon'
  | 'expiry_too_far'
  | 'incorrect_or_unknown_payment_details'
  | 'final_incorrect_htlc_amount'
  /** The receiver did not get all parts of a multi-part payment in time. */
  | 'mpp_timeout'
  /** The next node held the HTLC without answering; it was timed out on chain. */
  | 'htlc_timed_out'

/** Reasons a payment fails, as the report groups them (CLoTH's categories plus policy and closed channels). */
export type FailureCategory = 'no_route' | 'insufficient_balance' | 'offline' | 'timeout' | 'policy' | 'channel_closed'

export const FAILURE_CATEGORIES: readonly FailureCategory[] = ['no_route', 'insufficient_balance', 'offline', 'timeout', 'policy', 'channel_closed']

export function categoryOf(code: FailureCode): FailureCategory {
  switch (code) {
    case 'temporary_channel_failure':
      return 'insufficient_balance'
    case 'unknown_next_peer':
      return 'offline'
    case 'permanent_channel_failure':
      return 'channel_closed'
    case 'mpp_timeout':
    case 'htlc_timed_out':
      return 'timeout'
    default:
      return 'policy'
  }
}

/** A hop refuses to offer an HTLC expiring within this many blocks (lnd: DefaultOutgoingCltvRejectDelta = 3). */
export const EXPIRY_TOO_SOON_BLOCKS = 3

export interface ForwardCheck {
  graph: ChannelGraph
  outgoingEdge: number
  incomingAmountMsat: bigint
  incomingExpiry: number
  outgoingAmountMsat: bigint
  outgoingExpiry: number
  currentHeight: number
  maxTotalCltv?: number
}

/** The failure a forwarding node returns, or undefined when it forwards. Balance is checked by the Forwarder. */
export function checkForward(c: ForwardCheck): FailureCode | undefined {
  const g = c.graph
  const e = c.outgoingEdge
  if (g.disabled[e] === 1) return 'channel_disabled'
  if (c.outgoingAmountMsat < BigInt(g.htlcMin[e] as number)) return 'amount_below_minimum'
  if (c.outgoingAmountMsat > BigInt(g.htlcMax[e] as number)) return 'temporary_channel_failure'
  const fee = feeMsat(BigInt(g.baseFee[e] as number), BigInt(g.feeRate[e] as number), c.outgoingAmountMsat)
  if (c.incomingAmountMsat - c.outgoingAmountMsat < fee) return 'fee_insufficient'
  if (c.incomingExpiry - c.outgoingExpiry < (g.cltvDelta[e] as number)) return 'incorrect_cltv_expiry'
  if (c.outgoingExpiry <= c.currentHeight + EXPIRY_TOO_SOON_BLOCKS) return 'expiry_too_soon'
  if (c.incomingExpiry > c.currentHeight + (c.maxTotalCltv ?? MAX_TOTAL_CLTV_EXPIRY)) return 'expiry_too_far'
  return undefined
}

export interface FinalCheck {
  incomingAmountMsat: bigint
  incomingExpiry: number
  /** What the instructions say this part delivers. */
  expectedAmountMsat: bigint
  currentHeight: number
  minFinalCltvDelta?: number
}

/** The failure the receiving node returns for one incoming part, or undefined when it accepts it. */
export function checkFinal(c: FinalCheck): FailureCode | undefined {
  if (c.incomingAmountMsat < c.expectedAmountMsat) return 'final_incorrect_htlc_amount'
  if (c.incomingExpiry < c.currentHeight + (c.minFinalCltvDelta ?? MIN_FINAL_CLTV_EXPIRY_DELTA)) return 'incorrect_or_unknown_payment_details'
  return undefined
}
