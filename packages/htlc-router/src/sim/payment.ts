/**
 * A payment in the network simulator: what goes in (`Payment`, checked by
 * `checkPayment`), what comes out (`PaymentResult` with one `AttemptRecord`
 * per HTLC attempt, `HopFailure`, a node's `NodeLedger`), and what the
 * simulator keeps while one is under way: its `Session`, each `Attempt`, and
 * the events it schedules (`SimEvent`). The simulator itself is simulator.ts.
 */
import { InvalidInputError, describe, sha256, toPositiveAmount } from '@l2bench/core'
import type { ChannelGraph } from '../graph/graph.ts'
import type { MissionControl } from '../routing/mission-control.ts'
import { type Route, validateRoute } from '../routing/route.ts'
import type { FailureCategory, FailureCode } from './hop.ts'

export interface Payment {
  readonly id: number
  /** Arrival time, ms of simulated time. */
  readonly timeMs: number
  readonly sender: number
  readonly receiver: number
  readonly amountMsat: bigint
  /** Send along exactly this route, once, without retries (lnd's SendToRoute). */
  readonly route?: Route
}

export interface HopFailure {
  /** Index of the hop whose HTLC could not be forwarded (hops.length: the receiver refused). */
  readonly hopIndex: number
  /** The node that produced the failure. */
  readonly reportedBy: number
  readonly code: FailureCode
}

export interface AttemptRecord {
  readonly route: Route
  readonly startMs: number
  endMs: number
  outcome: 'in_flight' | 'settled' | 'failed'
  failure: HopFailure | undefined
}

export interface PaymentResult {
  readonly id: number
  readonly sender: number
  readonly receiver: number
  readonly amountMsat: bigint
  readonly arrivalMs: number
  endMs: number
  success: boolean
  /** Why it failed (undefined on success). */
  reason: FailureCategory | undefined
  /** endMs − arrivalMs. */
  latencyMs: number
  /** Fees the sender paid (0 unless it succeeded). */
  feesMsat: bigint
  /** Parts that settled (0 on failure). */
  parts: number
  readonly attempts: AttemptRecord[]
}

export interface NodeLedger {
  sentMsat: bigint
  receivedMsat: bigint
  feesPaidMsat: bigint
  feesEarnedMsat: bigint
}

export interface Session {
  readonly payment: Payment
  readonly result: PaymentResult
  readonly preimage: Uint8Array
  readonly hash: Uint8Array
  readonly mc: MissionControl
  readonly deadline: number
  unallocated: bigint
  readonly inFlight: Set<Attempt>
  held: Attempt[]
  heldMsat: bigint
  settling: boolean
  settledParts: number
  feesMsat: bigint
  attemptsMade: number
  lastFailure: FailureCategory | undefined
  gaveUp: FailureCategory | undefined
  mppGeneration: number
  mppTimerArmed: boolean
  done: boolean
}

export interface Attempt {
  readonly session: Session
  readonly route: Route
  readonly htlcIds: number[]
  readonly record: AttemptRecord
}

export type SimEvent =
  | { time: number; kind: 'arrive'; s: Session }
  | { time: number; kind: 'htlc'; a: Attempt; i: number }
  | { time: number; kind: 'fail'; a: Attempt; j: number; f: HopFailure }
  | { time: number; kind: 'fulfill'; a: Attempt; j: number }
  | { time: number; kind: 'expire'; a: Attempt; j: number }
  | { time: number; kind: 'mpp_timeout'; s: Session; generation: number }

/** Checks payments[i] against the graph and the simulated time `now` (a typed error names the field). */
export function checkPayment(graph: ChannelGraph, p: Payment, i: number, now: number): void {
  const f = `payments[${i}]`
  if (typeof p !== 'object' || p === null) throw new InvalidInputError(f, 'expected a payment')
  graph.assertNode(`${f}.sender`, p.sender)
  graph.assertNode(`${f}.receiver`, p.receiver)
  if (p.sender === p.receiver) throw new InvalidInputError(`${f}.receiver`, 'sender and receiver are the same node')
  toPositiveAmount(`${f}.amountMsat`, p.amountMsat)
  if (typeof p.timeMs !== 'number' || !Number.isFinite(p.timeMs) || p.timeMs < now)
    throw new InvalidInputError(`${f}.timeMs`, `expected a time ≥ ${now}, got ${describe(p.timeMs)}`)
  if (p.route !== undefined) {
    validateRoute(graph, p.route, { checkPolicy: false })
    if (p.route.source !== p.sender || p.route.target !== p.receiver || p.route.amountMsat !== p.amountMsat)
      throw new InvalidInputError(`${f}.route`, 'route does not match sender, receiver and amount')
  }
}

/** A payment's session before its first attempt: nothing allocated, nothing in flight. */
export function newSession(p: Payment, preimage: Uint8Array, mc: MissionControl, deadline: number): Session {
  return {
    payment: p,
    result: {
      id: p.id,
      sender: p.sender,
      receiver: p.receiver,
      amountMsat: p.amountMsat,
      arrivalMs: p.timeMs,
      endMs: p.timeMs,
      success: false,
      reason: undefined,
      latencyMs: 0,
      feesMsat: 0n,
      parts: 0,
      attempts: [],
    },
    preimage,
    hash: sha256(preimage),
    mc,
    deadline,
    unallocated: p.amountMsat,
    inFlight: new Set(),
    held: [],
    heldMsat: 0n,
    settling: false,
    settledParts: 0,
    feesMsat: 0n,
    attemptsMade: 0,
    lastFailure: undefined,
    gaveUp: undefined,
    mppGeneration: 0,
    mppTimerArmed: false,
    done: false,
  }
}
