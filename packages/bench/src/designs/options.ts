/**
 * Per-design options (`designOptions.<design>` in a scenario), one zod schema
 * per design. They live here, apart from the adapters (which load heavy
 * packages lazily), so a scenario is validated whole when it loads: a typo in
 * a design's options fails the load, naming the key, before anything runs.
 * The descriptions feed the options reference (`l2bench list --options`,
 * docs/options.md).
 */
import { z } from 'zod'
import { ScenarioError } from '../errors.ts'
import type { DesignName } from '../scenario.ts'

export const l1Options = z.strictObject({}).describe('The L1 baseline has no options.')

export const channelOptions = z.strictObject({
  store: z.enum(['sqlite', 'memory']).default('sqlite').describe('Where each party keeps its channel states: SQLite with fsync (real durability cost) or memory.'),
  synchronous: z
    .enum(['FULL', 'NORMAL'])
    .default('FULL')
    .describe("SQLite synchronous pragma for the sqlite store: FULL (the package's default) fsyncs every commit; NORMAL does not (faster, loses the last updates on an OS crash)."),
  disputeWindow: z.number().int().min(1).max(1_000_000).default(100).describe('Dispute window in L1 blocks.'),
})

export const paychOptions = z.strictObject({
  store: z.enum(['sqlite', 'memory']).default('sqlite').describe('Where each manager keeps its vouchers: SQLite or memory.'),
  synchronous: z
    .enum(['FULL', 'NORMAL'])
    .default('FULL')
    .describe("SQLite synchronous pragma for the sqlite store: FULL (the package's default) fsyncs every commit; NORMAL does not."),
  settleDelay: z.number().int().min(1).max(1_000_000).default(100).describe("Settle delay in L1 blocks (Filecoin's default is 12 h)."),
})

export const htlcOptions = z.strictObject({
  forwarding: z
    .enum(['auto', 'real', 'simulated'])
    .default('auto')
    .describe(
      "'real': every node an HtlcNode, every payment signed HTLCs added, forwarded and settled inside channel states; 'simulated': the router's NetworkSimulator moves abstract balances (no signatures), labelled so in every report; 'auto': real up to maxRealChannels channels.",
    ),
  maxRealChannels: z
    .number()
    .int()
    .min(0)
    .default(5_000)
    .describe("With forwarding 'auto', the most channels run with real nodes; bigger graphs are simulated (the 16,500-node network: ~33,000 channels)."),
  store: channelOptions.shape.store.describe(
    'Real forwarding: where each node keeps its channel states and HTLC book — SQLite (one group-committing database per node) or memory. Same choices and default as the channel design.',
  ),
  synchronous: channelOptions.shape.synchronous.describe('SQLite synchronous pragma of the nodes\' databases (same default as the channel design).'),
  disputeWindow: z
    .number()
    .int()
    .min(1)
    .max(1_000)
    .default(40)
    .describe('Dispute window of every channel, blocks. Each hop asks an expiry delta of window + 6 (the forwarding rule), the receiver window + 12.'),
  hopLatencyMs: z.number().min(0).max(60_000).default(50).describe('Simulated one-way network delay of one hop, ms (added to the measured compute time).'),
  feeRatePpm: z.number().int().min(0).max(100_000).default(100).describe('Proportional routing fee, parts per million.'),
  baseFeeMsat: z.number().int().min(0).max(1_000_000).default(0).describe('Base routing fee per hop in gwei (the router\'s msat: 1 msat here = 1 gwei).'),
  cost: z.enum(['fee', 'probability']).default('fee').describe('Pathfinding cost: cheapest fee, or fee weighted by success probability.'),
  maxAttempts: z.number().int().min(1).max(1000).default(16).describe('Routes a sender tries before the payment fails.'),
  paymentTimeoutMs: z
    .number()
    .min(0)
    .max(86_400_000)
    .default(60_000)
    .describe("A sender starts no new attempt once this much simulated time has passed since the payment began (lnd's payment timeout)."),
  missionControl: z
    .enum(['per-sender', 'per-payment', 'shared'])
    .default('per-payment')
    .describe(
      "Whose failures a sender learns from. lnd keeps them per sender for about an hour, which in a short simulated run turns one transient failure into 'no route' for the rest of the run; the default forgets between payments.",
    ),
  maxOnchainChannels: z
    .number()
    .int()
    .min(0)
    .default(1500)
    .describe('Simulated forwarding only: channels opened and closed on the L1 for real; beyond this the L1 cost is extrapolated from a sample.'),
  sampleChannels: z.number().int().min(1).default(100).describe('Simulated forwarding only: channels in the sample used for that extrapolation.'),
  batchWindowMs: z
    .number()
    .min(0)
    .max(86_400_000)
    .default(5_000)
    .describe('Simulated forwarding only: payments are simulated in batches spanning this much arrival time, so they overlap in the network as they would.'),
})

export const virtualOptions = z.strictObject({
  store: z.enum(['sqlite', 'memory']).default('sqlite').describe('Where each party (users and the hub) keeps its ledger and virtual channel states and virtual records: SQLite with fsync, or memory.'),
  synchronous: z
    .enum(['FULL', 'NORMAL'])
    .default('FULL')
    .describe("SQLite synchronous pragma for the sqlite store: FULL (the package's default) fsyncs every commit; NORMAL does not."),
  disputeWindow: z.number().int().min(1).max(1_000_000).default(100).describe('Dispute window of the ledger channels, L1 blocks.'),
  virtualDisputeWindow: z.number().int().min(1).max(1_000_000).default(100).describe('Dispute window of a virtual channel registered on L1, blocks.'),
  messageLatencyMs: z
    .number()
    .min(0)
    .max(60_000)
    .default(50)
    .describe(
      "Simulated one-way delay of each message on a payment's critical path, ms (as the htlc design's hopLatencyMs, so the two compare): a payment is one round trip of the pair (2 messages); a pair's first payment also waits for the virtual open (6: propose, accept, fund, the ledger locks' proposal and answer, the activation).",
    ),
})

export const rollupOptions = z.strictObject({
  n: z
    .number()
    .int()
    .min(1)
    .max(4096)
    .default(12)
    .describe('Op slots per batch (circuit parameter): the most transfers a batch carries. Chosen by measurement, see packages/zk-rollup/README.md "Batch size".'),
  d: z.number().int().min(0).max(255).default(4).describe('Deposit slots per batch (circuit parameter).'),
  depth: z.number().int().min(0).max(32).default(0).describe('Account tree depth in index bits (0 = the smallest even depth that holds every user of the scenario: the tree has four children per node).'),
  mode: z
    .enum(['sha', 'packed'])
    .default('packed')
    .describe('How the circuit binds its public inputs: one sha256 hash (fewer gas, ~4.7k more constraints per transfer and ~30k per 64-byte block), or packed field elements.'),
  batchTimeoutMs: z.number().int().min(1).default(30_000).describe('Close a partly filled batch when its oldest op or deposit has waited this long, simulated ms.'),
  provedBatches: z
    .number()
    .int()
    .min(1)
    .default(2)
    .describe(
      'The first batches of the run proven (Groth16) and verified on L1 for real; later batches are built for real and their proving time comes from the prover rate measured on these (the scenario’s probe and sweeps reuse these measurements instead of proving again).',
    ),
  proveAll: z.boolean().default(false).describe('Prove every batch (and then run the withdrawals on L1 for real). `l2bench run --prove-all` sets it.'),
  proverWorkers: z
    .number()
    .int()
    .min(0)
    .max(256)
    .default(0)
    .describe('Proving workers, one single-threaded snarkjs prover per core (0 = the machine’s available parallelism); batches prove side by side.'),
})

export const DESIGN_OPTIONS = {
  l1: l1Options,
  channel: channelOptions,
  paych: paychOptions,
  htlc: htlcOptions,
  virtual: virtualOptions,
  rollup: rollupOptions,
} as const satisfies Record<DesignName, z.ZodType>

export type ChannelOptions = z.output<typeof channelOptions>
export type PaychOptions = z.output<typeof paychOptions>
export type HtlcOptions = z.output<typeof htlcOptions>
export type VirtualOptions = z.output<typeof virtualOptions>
export type RollupOptions = z.output<typeof rollupOptions>

/**
 * A design's options with defaults applied. The scenario was validated when it
 * loaded; this re-checks (scenarios built in code skip the loader) and throws a
 * ScenarioError naming `designOptions.<name>.<key>`.
 */
export function designOptions<N extends DesignName>(scenario: { designOptions: Partial<Record<DesignName, unknown>> }, name: N): z.output<(typeof DESIGN_OPTIONS)[N]> {
  const schema = DESIGN_OPTIONS[name] as z.ZodType
  const r = schema.safeParse(scenario.designOptions[name] ?? {})
  if (r.success) return r.data as z.output<(typeof DESIGN_OPTIONS)[N]>
  const issue = r.error.issues[0]!
  const key = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path
  throw new ScenarioError(['designOptions', name, ...key.map(String)].join('.'), issue.message)
}
