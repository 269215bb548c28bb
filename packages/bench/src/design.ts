/**
 * The one shape every design adapter has (ARCHITECTURE.md, "The benchmark
 * harness"): setup(world) → pay(payment)* → flush() → settle().
 *
 * Latency has two parts, reported separately:
 *   soft  — the payee (or operator) has accepted the payment off-chain;
 *   final — the payee can enforce it on L1 without anyone's further help.
 * Each is wall-clock compute time plus simulated L1 time the payment waited
 * for. A design that only learns a payment's final latency later (an L1
 * transfer waiting for its block, a rollup transfer waiting for its batch
 * proof) leaves it out of the PaymentResult and reports it through
 * `world.resolve` once it knows.
 */
import type { Address, Rng, Signer } from '@l2bench/core'
import type { Receipt, TxHash, Wallet } from '@l2bench/l1-mock'
import type { BenchL1 } from './meter.ts'
import type { ProgressTask } from './progress.ts'
import type { FigureJson, ProverCostJson, StoreJson } from './results.ts'
import type { DesignName, Scenario } from './scenario.ts'
import type { FaultKind, Payment, Workload } from './workload.ts'

export interface User {
  index: number
  secretKey: Uint8Array
  signer: Signer
  address: Address
  wallet: Wallet
}

export interface PaymentResult {
  ok: boolean
  /** Stable failure code when !ok (e.g. NO_ROUTE, INSUFFICIENT_CAPACITY, PEER_OFFLINE). */
  reason?: string
  /** Omitted = not known yet (resolved later through `world.resolve`). */
  softLatencyMs?: number
  finalLatencyMs?: number
  /** Hops used (routed designs). */
  hops?: number
}

export interface Resolution {
  ok?: boolean
  reason?: string
  softLatencyMs?: number
  finalLatencyMs?: number
  /**
   * The final latency split into its parts, ms, summing to `finalLatencyMs`
   * (the rollup: waiting for the batch to close, for a free prover, proving,
   * L1 inclusion). Summarized per part in results.json.
   */
  finalParts?: Record<string, number>
}

/** Outcome of a scripted adversarial event. */
export interface FaultOutcome {
  paymentId: number
  kind: FaultKind
  /** What the design did (e.g. "dispute won by watchtower, penalty applied"). */
  outcome: string
  /** True when honest parties lost nothing. */
  safe: boolean
}

/** How a figure beyond what was run was obtained. */
export interface Extrapolation {
  what: string
  fit: string
  measuredAt: string
}

export interface World {
  readonly scenario: Scenario
  readonly workload: Workload
  readonly l1: BenchL1
  readonly users: readonly User[]
  /** Design-private randomness (forked from the scenario seed and the design name). */
  readonly rng: Rng
  /** A funded account the harness does not count as a user (hub, sequencer, watchtower). */
  operator(label: string, balance?: bigint): Promise<User>
  /** Simulated ms since the payment phase began (advances with arrivals and with L1 blocks). */
  nowMs(): number
  /** Simulated ms at which L1 block `height`'s timestamp falls (relative to the payment phase). */
  blockTimeMs(timestamp: number): number
  /** Mines blocks (manual mode) until `hash` has a receipt; returns it. */
  mineUntil(hash: TxHash): Promise<Receipt>
  /** Completes a payment's result later (see the module comment). */
  resolve(paymentId: number, r: Resolution): void
  /** Records the outcome of a scripted fault. */
  fault(outcome: FaultOutcome): void
  /** A note for the report (a modelling assumption, a limitation). */
  note(text: string): void
  /** Marks this design's figures as (partly) extrapolated. */
  extrapolated(e: Extrapolation): void
  /** Progress line for long phases (stderr). */
  progress(message: string): void
  /** A counted long phase (circuit setup, proving): a bar with count, percent and ETA on a terminal, plain lines in CI. */
  task(label: string, total: number): ProgressTask
}

export interface Design {
  readonly name: DesignName
  setup(world: World): Promise<void>
  pay(p: Payment): Promise<PaymentResult>
  /** Makes every accepted payment final (mine pending transfers, prove the last batch). Timed with the payments. */
  flush(): Promise<void>
  /**
   * Untimed work after flush(), still in the payment phase: accounting that
   * needs the chain but is no part of paying (the rollup prices its † batches
   * by executing them on the EVM backend). Its L1 costs count in the payment phase.
   */
  afterPayments?(): Promise<void>
  /** Closes channels, withdraws: after it, every user's money is back on L1. */
  settle(): Promise<void>
  /** Value currently locked away from users' free L1 balances (channel deposits, rollup deposits). */
  lockedCapital(): bigint
  /** Value still held for `user` off L1 after settle (0 for designs that settle completely). */
  heldFor?(user: number): bigint
  /** Extra value moved between users beyond the payments (routing fees), user → delta. */
  adjustments?(): Map<number, bigint>
  /** Wall time the payment phase would have taken on top of what ran (work extrapolated, e.g. unproven batches). */
  extraPaymentWallMs?(): number
  /** L1 cost accounted for without running it on the mock (must also be declared with world.extrapolated). */
  extraCosts?(): ExtraCost[]
  /**
   * What the capacity formula needs from this design beyond results.json
   * (capacity.ts): called after flush(), before settle(). A design without
   * it gets no capacity figure.
   */
  capacityInputs?(): CapacityInputs
  /** Prover work of the run (designs that prove: the rollup), per payment beside gas and calldata; called after flush(), before settle(). */
  proverCost?(): ProverCostJson
  /** Which store and sync mode its parties keep state in (after setup). Without it: "none (in memory)". */
  store?(): StoreJson
  /** What ran, when it is not the design's full form (after setup; e.g. 'simulated forwarding'): reports show it with the name. */
  variant?(): string | undefined
  /**
   * The least work one payment of this design costs on this machine — its
   * signatures, verifications and durable commits, with the same primitives
   * and store settings the design uses — as a function that does it once.
   * The harness times it against the design's own payments in alternating
   * rounds (probe.ts); a design faster than its bound has a bug. Called
   * after setup(). Designs whose payment path has no crypto (simulated
   * forwarding) leave it out.
   */
  bound?(): PaymentBound
}

export interface PaymentBound {
  /** In words: "2 × (noble sign + node:crypto verify) + 2 SQLite FULL commits". */
  what: string
  run(): void
  /** Releases files or handles (called once after the rounds). */
  close?(): void
}

/**
 * Measured inputs of a design's capacity formula, each with its provenance
 * (capacity.ts combines them with the run's L1 figures and the scenario):
 *
 * - `l1`: nothing beyond the run (gas per payment from the receipts);
 * - `channels` (channel, paych, virtual): the pairs that can update at once;
 *   the per-pair update rate comes from the interleaved probe unless given;
 *   a design whose channels an intermediary funds and settles (virtual) adds
 *   that intermediary's ledger updates per payment (its own bound);
 * - `hub` (htlc): the hub's forwarding rate (its signatures and persistence
 *   per forwarded payment) and the effective number of hubs;
 * - `rollup`: the prover's constraints per second, constraints per payment,
 *   and the L1 gas one transfer adds in a full batch.
 */
export type CapacityInputs =
  | { model: 'l1' }
  | { model: 'channels'; concurrentPairs: FigureJson; perPairRate?: FigureJson; hottestPairShare?: FigureJson; hubUpdatesPerPayment?: FigureJson }
  | { model: 'hub'; forwardRate: FigureJson; hubs: FigureJson }
  | { model: 'rollup'; proverConstraintsPerSecond: FigureJson; constraintsPerPayment: FigureJson; gasPerTransfer: FigureJson }

/** L1 cost a design did not incur on the mock but accounts for (extrapolated or modelled); the report marks it †. */
export interface ExtraCost {
  operation: string
  phase: 'setup' | 'payments' | 'settle'
  gas: number
  bytes: number
  txs: number
}

export type DesignFactory = () => Design
