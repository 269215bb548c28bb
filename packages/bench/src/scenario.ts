/**
 * Scenarios: the workload files in benchmarks/*.yaml, validated with zod.
 *
 * Objects are strict, so a misspelt key is an error rather than a silently
 * ignored default. Every error names the dotted key path that was wrong and,
 * when the scenario came from a file, the file and line (read back from the
 * YAML document's source ranges), e.g.
 *   `arrival.ratePerSecond: expected a number > 0 (benchmarks/default.yaml:14)`.
 *
 * `quick:` in a file holds overrides deep-merged over the scenario when the
 * run is `--quick`; the merged result is validated like any other.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { LineCounter, parseDocument } from 'yaml'
import { z } from 'zod'
import { DESIGN_OPTIONS } from './designs/options.ts'
import { ScenarioError } from './errors.ts'
import { scenariosDir } from './paths.ts'
import { didYouMean } from './suggest.ts'

export const DESIGN_NAMES = ['l1', 'channel', 'paych', 'htlc', 'virtual', 'rollup'] as const
export type DesignName = (typeof DESIGN_NAMES)[number]

const UNITS: Record<string, bigint> = { wei: 1n, gwei: 10n ** 9n, eth: 10n ** 18n, ether: 10n ** 18n }

/** Parses "123", "1.5 gwei", "0.001 eth" or a safe integer into wei. */
export function parseAmount(value: string | number): bigint | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? BigInt(value) : undefined
  const m = /^\s*(\d+)(?:\.(\d+))?\s*([a-zA-Z]*)\s*$/.exec(value)
  if (m === null) return undefined
  const unit = UNITS[(m[3] || 'wei').toLowerCase()]
  if (unit === undefined) return undefined
  const frac = m[2] ?? ''
  const scale = 10n ** BigInt(frac.length)
  const whole = BigInt(m[1] as string) * unit
  const part = frac === '' ? 0n : BigInt(frac) * unit
  if (part % scale !== 0n) return undefined // finer than one wei
  return whole + part / scale
}

const amount = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const a = parseAmount(v)
  if (a === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected an amount such as "1000", "2.5 gwei" or "0.01 eth", got ${JSON.stringify(v)}` })
    return z.NEVER
  }
  return a
})
const positiveAmount = amount.refine((v) => v > 0n, 'expected an amount > 0')

const int = (min: number, max: number) =>
  z
    .number({ error: (i) => (i.input === undefined ? 'required' : `expected an integer, got ${JSON.stringify(i.input)}`) })
    .int(`expected an integer`)
    .min(min, `expected an integer ≥ ${min}`)
    .max(max, `expected an integer ≤ ${max}`)

const pairDistribution = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('uniform') }),
  z.strictObject({ kind: z.literal('zipf'), s: z.number().gt(0, 'expected a number > 0').max(10) }),
])

const amounts = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('fixed'), value: positiveAmount }),
  z.strictObject({ kind: z.literal('uniform'), min: positiveAmount, max: positiveAmount }),
  z.strictObject({ kind: z.literal('lognormal'), median: positiveAmount, sigma: z.number().min(0).max(5) }),
])

const topology = z.discriminatedUnion('kind', [
  /** Every user opens one channel to a single hub operated by the harness. */
  z.strictObject({ kind: z.literal('hub') }),
  /** Preferential attachment (Barabási–Albert): each new node opens `m` channels; users are the nodes. */
  z.strictObject({
    kind: z.literal('scale-free'),
    m: int(1, 20).default(2),
    capacity: positiveAmount.default(10n ** 18n),
  }),
])

export const scenarioSchema = z
  .strictObject({
    name: z.string().min(1).describe('Scenario name (default: the file name); names the run directory and the gate metrics.'),
    description: z.string().default('').describe('One paragraph shown at the top of the reports.'),
    seed: int(0, 2 ** 32 - 1).default(1).describe('Seed of every random choice in the workload (same seed, same payments).'),
    users: int(2, 100_000).describe('Number of users.'),
    payments: int(1, 10_000_000).describe('Number of payments in the workload.'),
    pairs: z
      .strictObject({
        count: z.union([int(1, 10_000_000), z.literal('all')]).default('all').describe('Distinct unordered user pairs that ever pay each other ("all" = every pair).'),
        distribution: pairDistribution.default({ kind: 'uniform' }).describe('How payments spread over the pairs: uniform, or Zipf with exponent s (a few hot pairs, a long tail).'),
        direction: z.enum(['forward', 'both']).default('both').describe('"forward": the lower-numbered user always pays; "both": a coin flip per payment.'),
      })
      .default({ count: 'all', distribution: { kind: 'uniform' }, direction: 'both' }),
    amounts: amounts.default({ kind: 'lognormal', median: 10n ** 15n, sigma: 1 }).describe('Payment amounts: fixed, uniform between min and max, or log-normal around a median.'),
    arrival: z
      .discriminatedUnion('kind', [
        z.strictObject({ kind: z.literal('poisson'), ratePerSecond: z.number().gt(0, 'expected a number > 0').max(1e6) }),
      ])
      .default({ kind: 'poisson', ratePerSecond: 10 })
      .describe('Arrival process of the payments on the simulated clock.'),
    capital: z
      .strictObject({
        userBalance: positiveAmount.default(1000n * 10n ** 18n).describe('L1 balance minted to every user at genesis.'),
        channelDeposit: z
          .union([z.literal('auto'), positiveAmount])
          .default('auto')
          .describe('Per-side channel (or rollup) deposit; "auto" = each side\'s peak outflow in the workload × headroom.'),
        headroom: z.number().min(1).max(100).default(1.25).describe('Multiplier on the perfect-foresight deposits.'),
      })
      .default({ userBalance: 1000n * 10n ** 18n, channelDeposit: 'auto', headroom: 1.25 }),
    topology: topology.default({ kind: 'hub' }).describe('HTLC network: one channel per user to a hub, or a scale-free graph where each new node opens m channels of the given capacity.'),
    faults: z
      .strictObject({
        staleState: int(0, 10_000).default(0).describe('Payments at which a party publishes an old channel state; the counterparty (or its watchtower) must dispute.'),
        offlineHop: int(0, 10_000).default(0).describe('Payments during which an intermediate hop goes offline.'),
        withheldPreimage: int(0, 10_000).default(0).describe('Payments whose payee withholds the preimage until the HTLC times out.'),
      })
      .default({ staleState: 0, offlineHop: 0, withheldPreimage: 0 }),
    l1: z
      .strictObject({
        blockTime: int(1, 3600).default(12).describe('L1 block interval, simulated seconds.'),
        blockGasLimit: int(21_000, 1_000_000_000).default(30_000_000).describe('Gas per L1 block.'),
        gasPrice: positiveAmount.default(10n ** 9n).describe('Gas price every L1 transaction pays; also the price the cost-per-payment column converts gas to ETH and USD with.'),
      })
      .default({ blockTime: 12, blockGasLimit: 30_000_000, gasPrice: 10n ** 9n }),
    model: z
      .strictObject({
        provers: int(1, 1_000_000)
          .default(1)
          .describe('Rollup provers working in parallel, each as fast as the prover measured in the run (capacity: prover bound = measured constraints/s × provers ÷ constraints per payment).'),
        ethPriceUsd: z
          .number()
          .gt(0, 'expected a number > 0')
          .max(1e9)
          .default(3000)
          .describe('ETH price in USD for the cost-per-payment column (an assumption, not a quote; gas price is l1.gasPrice).'),
      })
      .default({ provers: 1, ethPriceUsd: 3000 })
      .describe('Parameters of the capacity and cost model: not measured, stated with every figure they enter.'),
    designs: z.array(z.enum(DESIGN_NAMES)).min(1).default([...DESIGN_NAMES]).describe('Designs to run (the CLI\'s --designs narrows this).'),
    /**
     * Per-design cap on payments: a design slower than the time budget runs the
     * first N payments of the workload; its figures are marked as extrapolated.
     */
    limits: z
      .partialRecord(z.enum(DESIGN_NAMES), int(1, 10_000_000))
      .default({})
      .describe('Per-design cap on payments: a slower design runs the first N payments of the workload; its figures are marked extrapolated (†).'),
    /** Per-design options (designs/options.ts), validated with the scenario (errors name `designOptions.<design>.<key>`). */
    designOptions: z
      .strictObject({
        l1: DESIGN_OPTIONS.l1.optional(),
        channel: DESIGN_OPTIONS.channel.optional(),
        paych: DESIGN_OPTIONS.paych.optional(),
        htlc: DESIGN_OPTIONS.htlc.optional(),
        virtual: DESIGN_OPTIONS.virtual.optional(),
        rollup: DESIGN_OPTIONS.rollup.optional(),
      })
      .default({}),
    /** Re-runs at other sizes, to show how each metric grows. Values replace the base figure. */
    sweeps: z
      .strictObject({
        payments: z.array(int(1, 10_000_000)).default([]).describe('Re-run with these payment counts.'),
        users: z.array(int(2, 100_000)).default([]).describe('Re-run with these user counts.'),
        pairs: z.array(int(1, 10_000_000)).default([]).describe('Re-run with these pair counts.'),
        paymentsPerPair: z.array(int(1, 10_000_000)).default([]).describe('Payments per pair with a single pair: the L1-cost crossover between designs.'),
        basePayments: int(1, 10_000_000).optional().describe("Payments in each users and pairs sweep point (default: the scenario's own count, at most 500)."),
        designs: z.array(z.enum(DESIGN_NAMES)).optional().describe('Designs to sweep (default: every design run).'),
      })
      .default({ payments: [], users: [], pairs: [], paymentsPerPair: [] }),
  })
  .superRefine((s, ctx) => {
    if (s.amounts.kind === 'uniform' && s.amounts.min > s.amounts.max)
      ctx.addIssue({ code: 'custom', path: ['amounts', 'max'], message: 'must be ≥ amounts.min' })
    const maxPairs = (s.users * (s.users - 1)) / 2
    if (s.pairs.count !== 'all' && s.pairs.count > maxPairs)
      ctx.addIssue({ code: 'custom', path: ['pairs', 'count'], message: `${s.users} users have only ${maxPairs} pairs` })
    if (s.pairs.count === 'all' && maxPairs > 5_000_000)
      ctx.addIssue({ code: 'custom', path: ['pairs', 'count'], message: `"all" would be ${maxPairs} pairs; give a count` })
  })

export type Scenario = z.output<typeof scenarioSchema>

export interface ParseOptions {
  /** Apply the file's `quick:` overrides. */
  quick?: boolean
  /** Shown in error messages. */
  file?: string
  /** Default for `name` when the file has none. */
  name?: string
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Deep merge: objects merge key by key, everything else (arrays included) is replaced. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v)
  return out
}

/** Validates a plain object as a scenario; throws ScenarioError naming the first bad key path. */
export function parseScenario(raw: unknown, options: ParseOptions & { lineOf?: (path: readonly PropertyKey[]) => number | undefined } = {}): Scenario {
  if (!isPlainObject(raw)) throw new ScenarioError('(root)', 'expected a mapping of keys', withFile(options))
  let input: Record<string, unknown> = { ...raw }
  const quick = input.quick
  delete input.quick
  if (quick !== undefined && !isPlainObject(quick)) throw new ScenarioError('quick', 'expected a mapping of overrides', withFile(options, options.lineOf?.(['quick'])))
  if (options.quick === true && quick !== undefined) input = deepMerge(input, quick) as Record<string, unknown>
  if (input.name === undefined && options.name !== undefined) input.name = options.name
  const result = scenarioSchema.safeParse(input)
  if (result.success) return result.data
  // An unknown key is reported before anything else: a misspelt key also makes the key it was meant to be
  // "missing", and the misspelling is the error to fix.
  const issues = [...result.error.issues].sort((a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'))
  const issue = issues[0]!
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol')
  let field = path.length === 0 ? '(root)' : path.map((p) => String(p)).join('.')
  let message = issue.message
  if (issue.code === 'unrecognized_keys') {
    const key = String(issue.keys[0])
    field = [...path, key].join('.')
    const allowed = path[0] === 'limits' ? [...DESIGN_NAMES] : allowedKeys(path, input)
    const hint = didYouMean(key, allowed)
    message = `unknown key${hint === undefined ? '' : ` (did you mean "${hint}"?)`}${allowed.length > 0 ? ` — allowed here: ${allowed.join(', ')}` : ''}`
  } else if (issue.code === 'invalid_value' && message.startsWith('Invalid option')) {
    const got = valueAt(input, path)
    const allowed = issue.values.map((v) => String(v))
    const hint = typeof got === 'string' ? didYouMean(got, allowed) : undefined
    message = `expected one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(got)}${hint === undefined ? '' : ` (did you mean "${hint}"?)`}`
  } else if ((issue.code === 'too_small' || issue.code === 'too_big') && /^Too (small|big)/.test(message)) {
    const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum
    const op = issue.code === 'too_small' ? (issue.inclusive ? '≥' : '>') : issue.inclusive ? '≤' : '<'
    message = `expected ${issue.origin === 'array' ? 'a list of length' : 'a value'} ${op} ${String(bound)}, got ${JSON.stringify(valueAt(input, path), (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`
  } else if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
    message = `unknown or missing "kind"`
  }
  const line = options.lineOf?.(issue.code === 'unrecognized_keys' ? [...path, issue.keys[0] as string] : path)
  const extra = result.error.issues.length > 1 ? ` (+${result.error.issues.length - 1} more)` : ''
  throw new ScenarioError(field, `${message}${extra}`, withFile(options, line))
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let v = root
  for (const k of path) v = isPlainObject(v) || Array.isArray(v) ? (v as Record<string | number, unknown>)[k] : undefined
  return v
}

function withFile(options: ParseOptions, line?: number): { file?: string; line?: number } {
  return {
    ...(options.file === undefined ? {} : { file: options.file }),
    ...(line === undefined ? {} : { line }),
  }
}

/**
 * Keys allowed at a path of the schema (for "unknown key" hints). A
 * discriminated union (amounts, topology, …) is resolved with the `kind` the
 * input gives at that path.
 */
function allowedKeys(path: readonly (string | number)[], input: unknown): string[] {
  // biome-ignore lint/suspicious/noExplicitAny: walking zod's internal definition tree
  let node: any = scenarioSchema
  let value: unknown = input
  const unwrap = () => {
    for (let i = 0; i < 10 && node?._zod?.def; i++) {
      const d = node._zod.def
      if (d.type === 'pipe') node = d.in
      else if (d.type === 'default' || d.type === 'optional' || d.type === 'prefault') node = d.innerType
      else if (d.type === 'union' && isPlainObject(value)) {
        const kind = value.kind
        // biome-ignore lint/suspicious/noExplicitAny: as above
        const option = d.options.find((o: any) => o?._zod?.def?.shape?.kind?._zod?.def?.values?.includes(kind))
        if (option === undefined) break
        node = option
      } else break
    }
  }
  unwrap()
  for (const key of path) {
    const shape = node?._zod?.def?.shape
    if (shape === undefined) return []
    node = shape[key]
    value = isPlainObject(value) ? value[key] : undefined
    unwrap()
  }
  const shape = node?._zod?.def?.shape
  return shape === undefined ? [] : Object.keys(shape)
}

/** Parses YAML text into a scenario, with line numbers in errors. */
export function parseScenarioYaml(text: string, options: ParseOptions = {}): Scenario {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false })
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!
    const at = lineCounter.linePos(e.pos[0])
    const lines = text.split('\n')
    // Show the offending line; when it is blank (an unclosed bracket found at the end), the last line with text too.
    let from = at.line
    while (from > 1 && (lines[from - 1] ?? '').trim() === '') from--
    const width = String(at.line).length
    const excerpt = [
      ...lines.slice(from - 1, at.line).map((l, i) => `  ${String(from + i).padStart(width)} | ${l}`),
      `  ${' '.repeat(width)} | ${' '.repeat(Math.max(0, at.col - 1))}^`,
    ].join('\n')
    throw new ScenarioError('(yaml)', `${e.message.split('\n')[0] ?? 'invalid YAML'} at line ${at.line}, column ${at.col}`, { ...withFile(options, at.line), excerpt })
  }
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined
      const pair = n > 0 ? findKeyNode(doc, path.slice(0, n)) : undefined
      const offset = pair ?? node?.range?.[0]
      if (offset !== undefined) return lineCounter.linePos(offset).line
    }
    return undefined
  }
  return parseScenario(doc.toJS(), { ...options, lineOf })
}

/** Offset of the key node for `path` (points at the key, which reads better than the value). */
function findKeyNode(doc: ReturnType<typeof parseDocument>, path: readonly PropertyKey[]): number | undefined {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1) as unknown[], true)
  const items = (parent as { items?: { key?: { value?: unknown; range?: [number, number, number] } }[] } | null)?.items
  if (!Array.isArray(items)) return undefined
  const last = path[path.length - 1]
  for (const item of items) if (item?.key?.value === last) return item.key?.range?.[0]
  return undefined
}

/** Directory of the committed scenarios (the repository's benchmarks/, or scenarios/ in an installed package). */
export function benchmarksDir(): string {
  return scenariosDir()
}

/** Loads a scenario by name (benchmarks/<name>.yaml) or by path. */
export function loadScenario(nameOrPath: string, options: { quick?: boolean; dir?: string } = {}): Scenario {
  const dir = options.dir ?? benchmarksDir()
  const candidates = nameOrPath.endsWith('.yaml') || nameOrPath.endsWith('.yml') ? [resolve(nameOrPath)] : [join(dir, `${nameOrPath}.yaml`)]
  const file = candidates.find((f) => existsSync(f))
  if (file === undefined) {
    const known = listScenarioNames(dir)
    const hint = didYouMean(nameOrPath, known)
    throw new ScenarioError('scenario', `no scenario "${nameOrPath}"${hint === undefined ? '' : ` (did you mean "${hint}"?)`} (known: ${known.join(', ') || 'none'})`)
  }
  const text = readFileSync(file, 'utf8')
  return parseScenarioYaml(text, { file: relativeName(file), name: basename(file).replace(/\.ya?ml$/, ''), quick: options.quick ?? false })
}

function relativeName(file: string): string {
  const cwd = process.cwd()
  return file.startsWith(`${cwd}/`) ? file.slice(cwd.length + 1) : file
}

export function listScenarioNames(dir = benchmarksDir()): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.replace(/\.yaml$/, ''))
    .sort()
}
