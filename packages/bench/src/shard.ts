/**
 * Sharded runs: a run is a list of independent units — each design's main
 * run and each sweep point, for every seed — and `l2bench run --shard i/n`
 * runs a deterministic 1/n of them and writes a partial results file;
 * `l2bench merge` puts the partial files back together into the results.json
 * the whole run would have written. Anything that starts n processes can fan
 * a run out: a CI matrix, a Kubernetes indexed Job, a shell loop.
 *
 * Which units go where: units are grouped, groups are dealt round-robin in
 * plan order (group k to shard k mod n + 1), and a shard runs its units in
 * plan order. A group is one unit, except for designs whose figures depend on
 * what ran before them in the same process: the rollup's sweep points reuse
 * the proving time and fixed gas its main run measured, and a later run
 * reuses a deeper circuit built earlier (designs/rollup.ts, MEASURED and
 * DEPTH_BUILT). Every rollup unit therefore runs on one shard, in plan order,
 * as in an unsharded run, and a merged run's exact figures are the unsharded
 * run's (test/shard.test.ts). Spread the rollup's proofs with the prover farm
 * instead (docs/scale.md).
 *
 * What must agree for partials to merge, each checked with its own error
 * naming it (ShardError): the scenario as resolved (name, every key after
 * --quick and the CLI's overrides, the designs and whether sweeps run), the
 * seed set, the code version (a hash of every package's source and circuits)
 * and the L1 gas schedule; and every shard 1..n present once.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { GAS_SCHEDULE } from '@l2bench/l1-mock'
import { z } from 'zod'
import { ShardError, UsageError } from './errors.ts'
import type { DesignResultJson, L1Backend, ResultsJson, SweepPointJson } from './results.ts'
import type { DesignName, Scenario } from './scenario.ts'

/** One independent piece of a run. */
export interface Unit {
  /** Stable name, e.g. "seed=1/design=channel" or "seed=1/sweep=payments:250/design=l1". */
  id: string
  seed: number
  design: DesignName
  kind: 'design' | 'sweep'
  dimension?: SweepPointJson['dimension']
  value?: number
  /** Units of one group run on the same shard, in plan order. */
  group: string
}

export interface RunPlan {
  scenario: Scenario
  /** The chain every unit runs on. */
  l1: L1Backend
  /** The seeds, headline first. */
  seeds: number[]
  designs: DesignName[]
  sweeps: boolean
  quick: boolean
  units: Unit[]
}

export interface ShardSpec {
  /** 1-based. */
  index: number
  count: number
}

/** Designs whose units must share a process (see the module comment). */
export const STATEFUL_DESIGNS: ReadonlySet<DesignName> = new Set(['rollup'])

export const SWEEP_DIMENSIONS: readonly SweepPointJson['dimension'][] = ['payments', 'users', 'pairs', 'paymentsPerPair']

/** Every unit of a run, in the order an unsharded run executes them: per seed, the designs, then the sweep points. */
export function planRun(
  scenario: Scenario,
  o: { designs: readonly DesignName[]; seeds?: readonly number[]; sweeps: boolean; quick: boolean; l1?: L1Backend; sweepable: (d: DesignName) => boolean },
): RunPlan {
  const seeds = o.seeds !== undefined && o.seeds.length > 0 ? [...o.seeds] : [scenario.seed]
  const designs = [...o.designs]
  const units: Unit[] = []
  const group = (id: string, design: DesignName) => (STATEFUL_DESIGNS.has(design) ? `design=${design}` : id)
  for (const seed of seeds) {
    for (const design of designs) {
      const id = `seed=${seed}/design=${design}`
      units.push({ id, seed, design, kind: 'design', group: group(id, design) })
    }
    if (!o.sweeps) continue
    const sweepDesigns = (scenario.sweeps.designs ?? designs).filter((d) => designs.includes(d) && o.sweepable(d))
    for (const dimension of SWEEP_DIMENSIONS)
      for (const value of scenario.sweeps[dimension])
        for (const design of sweepDesigns) {
          const id = `seed=${seed}/sweep=${dimension}:${value}/design=${design}`
          units.push({ id, seed, design, kind: 'sweep', dimension, value, group: group(id, design) })
        }
  }
  return { scenario: { ...scenario, seed: seeds[0]! }, l1: o.l1 ?? 'mock', seeds, designs, sweeps: o.sweeps, quick: o.quick, units }
}

/** The units shard `index` of `count` runs: whole groups dealt round-robin in plan order. */
export function shardUnits(plan: RunPlan, shard: ShardSpec): Unit[] {
  const groups: string[] = []
  for (const u of plan.units) if (!groups.includes(u.group)) groups.push(u.group)
  const mine = new Set(groups.filter((_, k) => (k % shard.count) + 1 === shard.index))
  return plan.units.filter((u) => mine.has(u.group))
}

/** "i/n" with 1 ≤ i ≤ n ≤ 10,000. */
export function parseShard(text: string, field = '--shard'): ShardSpec {
  const m = /^(\d{1,5})\/(\d{1,5})$/.exec(text.trim())
  if (m === null) throw new UsageError(field, `expected i/n such as 2/3 (shard 2 of 3), got ${JSON.stringify(text)}`)
  const index = Number(m[1])
  const count = Number(m[2])
  if (count < 1 || count > 10_000) throw new UsageError(field, `the shard count must be 1..10000, got ${count}`)
  if (index < 1 || index > count) throw new UsageError(field, `the shard index must be 1..${count} (1-based), got ${index}`)
  return { index, count }
}

/** "1,2,3", "1-5" or a mix ("1-3,7"); distinct seeds 0..2^32−1, at most 1,000, in the order given. */
export function parseSeeds(text: string, field = '--seeds'): number[] {
  const seeds: number[] = []
  for (const part of text.split(',').map((p) => p.trim())) {
    const m = /^(\d{1,10})(?:-(\d{1,10}))?$/.exec(part)
    if (m === null) throw new UsageError(field, `expected seeds such as 1,2,3 or 1-5, got ${JSON.stringify(part)}`)
    const a = Number(m[1])
    const b = m[2] === undefined ? a : Number(m[2])
    if (a > 2 ** 32 - 1 || b > 2 ** 32 - 1) throw new UsageError(field, `a seed is an integer 0..4294967295, got ${part}`)
    if (b < a) throw new UsageError(field, `empty range ${part}`)
    if (b - a >= 1_000 || seeds.length + (b - a + 1) > 1_000) throw new UsageError(field, 'at most 1000 seeds')
    for (let s = a; s <= b; s++) {
      if (seeds.includes(s)) throw new UsageError(field, `seed ${s} is given twice`)
      seeds.push(s)
    }
  }
  return seeds
}

// ---- what must agree ---------------------------------------------------------------------------

/** JSON with object keys sorted (bigints as strings): equal values, equal text. */
export function canonicalJson(v: unknown): string {
  const norm = (x: unknown): unknown => {
    if (typeof x === 'bigint') return x.toString()
    if (Array.isArray(x)) return x.map(norm)
    if (typeof x === 'object' && x !== null)
      return Object.fromEntries(
        Object.keys(x)
          .sort()
          .map((k) => [k, norm((x as Record<string, unknown>)[k])]),
      )
    return x
  }
  return JSON.stringify(norm(v))
}

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex')

const packagesDir = new URL('../../', import.meta.url).pathname
let codeHash: string | undefined

/**
 * The code version: sha256 over every package's name, version, src/ and
 * circuits/ files (paths and bytes). Tests, benchmarks and caches are left
 * out: they do not change a figure.
 */
export function codeVersion(): string {
  if (codeHash !== undefined) return codeHash
  const h = createHash('sha256')
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name)
      const st = statSync(p)
      if (st.isDirectory()) walk(p, `${rel}/${name}`)
      else if (st.isFile()) {
        h.update(`${rel}/${name}\0`)
        h.update(readFileSync(p))
        h.update('\0')
      }
    }
  }
  for (const pkg of readdirSync(packagesDir).sort()) {
    const manifest = join(packagesDir, pkg, 'package.json')
    if (!existsSync(manifest)) continue
    const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string; version: string }
    h.update(`${name}@${version}\0`)
    for (const sub of ['src', 'circuits']) if (existsSync(join(packagesDir, pkg, sub))) walk(join(packagesDir, pkg, sub), `${name}/${sub}`)
  }
  codeHash = h.digest('hex')
  return codeHash
}

export interface RunFingerprint {
  scenario: string
  /** sha256 of the resolved scenario (every key, seed left out: seeds are compared on their own), the designs, sweeps on/off and --quick. */
  scenarioHash: string
  seeds: number[]
  code: string
  /** sha256 of the L1 gas schedule. */
  gasSchedule: string
}

export function fingerprint(plan: RunPlan): RunFingerprint {
  const { seed: _seed, ...rest } = plan.scenario
  return {
    scenario: plan.scenario.name,
    // Shards that ran on different chains never merge (a mock run's hash is unchanged by the field).
    scenarioHash: sha256(canonicalJson({ scenario: rest, designs: plan.designs, sweeps: plan.sweeps, quick: plan.quick, ...(plan.l1 === 'mock' ? {} : { l1: plan.l1 }) })),
    seeds: [...plan.seeds],
    code: codeVersion(),
    gasSchedule: sha256(canonicalJson(GAS_SCHEDULE)),
  }
}

// ---- partial results ------------------------------------------------------------------------------

/** What one unit produced. */
export interface UnitResult {
  id: string
  design?: DesignResultJson
  sweep?: SweepPointJson
}

/** Where and when a shard (or a whole run) ran. */
export interface ShardRunJson {
  index: number
  count: number
  units: number
  startedAt: string
  durationMs: number
  machine: ResultsJson['machine']
  calibration: ResultsJson['calibration']
}

/** The parts of results.json that depend only on the plan (the same in every shard). */
export type ResultsHeader = Omit<
  ResultsJson,
  'startedAt' | 'durationMs' | 'machine' | 'calibration' | 'designs' | 'sweeps' | 'fits' | 'crossovers' | 'latencyFits' | 'latencyCrossovers' | 'gate'
>

export const PARTIAL_KIND = 'l2bench-partial'
export const PARTIAL_SCHEMA = 1

export interface PartialJson {
  kind: typeof PARTIAL_KIND
  schema: typeof PARTIAL_SCHEMA
  shard: ShardSpec
  fingerprint: RunFingerprint
  /** Every unit of the whole run, in plan order (to check the shards cover it, and to put the results back in order). */
  plan: Unit[]
  header: ResultsHeader
  run: ShardRunJson
  units: UnitResult[]
}

export function partialFileName(shard: ShardSpec): string {
  return `partial-${shard.index}-of-${shard.count}.json`
}

const partialSchema = z.looseObject({
  kind: z.literal(PARTIAL_KIND, { error: () => `not an l2bench partial results file (no "kind": "${PARTIAL_KIND}")` }),
  schema: z.literal(PARTIAL_SCHEMA, { error: (i) => `unsupported partial schema ${JSON.stringify(i.input)} (expected ${PARTIAL_SCHEMA})` }),
  shard: z.object({ index: z.number().int().min(1), count: z.number().int().min(1) }),
  fingerprint: z.object({ scenario: z.string(), scenarioHash: z.string(), seeds: z.array(z.number()), code: z.string(), gasSchedule: z.string() }),
  plan: z.array(z.looseObject({ id: z.string(), seed: z.number(), design: z.string(), kind: z.enum(['design', 'sweep']) })),
  header: z.looseObject({ scenario: z.string() }),
  run: z.looseObject({ durationMs: z.number(), startedAt: z.string() }),
  units: z.array(z.looseObject({ id: z.string() })),
})

/** Reads a partial file; ShardError naming the file and the key when it is not one. */
export function readPartial(file: string): PartialJson {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (cause) {
    throw new ShardError('file', `cannot read ${file}: ${(cause as Error).message}`, { cause })
  }
  const r = partialSchema.safeParse(raw)
  if (!r.success) {
    const issue = r.error.issues[0]!
    throw new ShardError('file', `${file}: ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
  }
  return raw as PartialJson
}

/** Partial files from paths: a file, or a directory's partial-*.json. */
export function findPartials(paths: readonly string[]): string[] {
  const files: string[] = []
  for (const p of paths) {
    if (!existsSync(p)) throw new ShardError('file', `${p} does not exist`)
    if (statSync(p).isDirectory()) {
      const found = readdirSync(p)
        .filter((f) => /^partial-\d+-of-\d+\.json$/.test(f))
        .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
      if (found.length === 0) throw new ShardError('file', `${p} holds no partial-<i>-of-<n>.json`)
      files.push(...found.map((f) => join(p, f)))
    } else files.push(p)
  }
  return files
}

/**
 * Checks that partial files are the shards of one run, all of them once, and
 * returns their unit results in plan order. Throws ShardError naming the
 * cause: `shards` (count, missing, twice, a unit missing or extra),
 * `scenario`, `seeds`, `gasSchedule` or `code`.
 */
export function checkPartials(parts: readonly { file: string; partial: PartialJson }[]): { header: ResultsHeader; plan: Unit[]; units: Map<string, UnitResult>; runs: ShardRunJson[] } {
  if (parts.length === 0) throw new ShardError('shards', 'no partial files to merge')
  const [first, ...rest] = parts as [{ file: string; partial: PartialJson }, ...{ file: string; partial: PartialJson }[]]
  const a = first.partial
  for (const { file, partial: b } of rest) {
    const fa = a.fingerprint
    const fb = b.fingerprint
    const pair = `${file} and ${first.file}`
    if (b.shard.count !== a.shard.count) throw new ShardError('shards', `${pair} split the run differently (${b.shard.count} and ${a.shard.count} shards)`)
    if (fb.scenario !== fa.scenario || fb.scenarioHash !== fa.scenarioHash)
      throw new ShardError(
        'scenario',
        `${pair} ran different scenarios (${fb.scenario} ${fb.scenarioHash.slice(0, 12)} and ${fa.scenario} ${fa.scenarioHash.slice(0, 12)}: the scenario, its quick overrides, --designs or --no-sweeps differ)`,
      )
    if (canonicalJson(fb.seeds) !== canonicalJson(fa.seeds)) throw new ShardError('seeds', `${pair} ran different seed sets ([${fb.seeds.join(', ')}] and [${fa.seeds.join(', ')}])`)
    if (fb.gasSchedule !== fa.gasSchedule)
      throw new ShardError('gasSchedule', `${pair} ran under different L1 gas schedules (${fb.gasSchedule.slice(0, 12)} and ${fa.gasSchedule.slice(0, 12)})`)
    if (fb.code !== fa.code) throw new ShardError('code', `${pair} ran different code versions (${fb.code.slice(0, 12)} and ${fa.code.slice(0, 12)}): run every shard from the same commit`)
    if (canonicalJson(b.plan) !== canonicalJson(a.plan)) throw new ShardError('shards', `${pair} planned different units`)
  }
  const count = a.shard.count
  const seen = new Map<number, string>()
  for (const { file, partial } of parts) {
    const other = seen.get(partial.shard.index)
    if (other !== undefined) throw new ShardError('shards', `shard ${partial.shard.index} of ${count} is given twice (${other} and ${file})`)
    if (partial.shard.index > count) throw new ShardError('shards', `${file}: shard ${partial.shard.index} of ${count} does not exist`)
    seen.set(partial.shard.index, file)
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !seen.has(i))
  if (missing.length > 0)
    throw new ShardError('shards', `shard${missing.length === 1 ? '' : 's'} ${missing.join(', ')} of ${count} missing: no result is complete without ${missing.length === 1 ? 'it' : 'them'}`)
  const units = new Map<string, UnitResult>()
  for (const { file, partial } of parts)
    for (const u of partial.units) {
      if (units.has(u.id)) throw new ShardError('shards', `unit ${u.id} appears in two shards (again in ${file})`)
      units.set(u.id, u)
    }
  const planned = new Set(a.plan.map((u) => u.id))
  const absent = a.plan.filter((u) => !units.has(u.id))
  if (absent.length > 0) throw new ShardError('shards', `${absent.length} unit(s) of the run are in no shard, e.g. ${absent[0]!.id}`)
  for (const u of a.plan) {
    const got = units.get(u.id)!
    const body = u.kind === 'design' ? got.design : got.sweep
    if (typeof body !== 'object' || body === null || (body as { design?: unknown; name?: unknown })[u.kind === 'design' ? 'name' : 'design'] !== u.design)
      throw new ShardError('shards', `unit ${u.id} has no ${u.kind === 'design' ? 'design result' : 'sweep point'} for ${u.design}`)
  }
  const extra = [...units.keys()].filter((id) => !planned.has(id))
  if (extra.length > 0) throw new ShardError('shards', `unit ${extra[0]} is not part of the run`)
  const runs = [...parts].map((p) => p.partial.run).sort((x, y) => x.index - y.index)
  return { header: a.header, plan: a.plan, units, runs }
}

/**
 * The figures exact for a seed — the same on any machine, sharded or not —
 * projected out of results.json: per design, payments and their outcomes, L1
 * gas, calldata and transactions by operation and phase, conservation and
 * faults, capital locked × simulated time; per sweep point the same counts;
 * the fits, the crossovers and the
 * gate's exact metrics. Timings, capacity (it multiplies measured rates) and
 * anything measured on the clock are left out.
 */
export function seedExact(r: ResultsJson): unknown {
  const design = (d: DesignResultJson) => ({
    name: d.name,
    ran: d.ran,
    payments: d.payments,
    succeeded: d.succeeded,
    failureReasons: d.failureReasons,
    l1: { gas: d.l1.gas, bytes: d.l1.bytes, txBytes: d.l1.txBytes, txs: d.l1.txs, reverted: d.l1.reverted, feesWei: d.l1.feesWei, byPhase: d.l1.byPhase, byOperation: d.l1.byOperation, byCharge: d.l1.byCharge },
    capital: d.capital,
    conservation: d.conservation,
    faults: d.faults,
  })
  const sweep = (s: SweepPointJson) => ({
    dimension: s.dimension,
    value: s.value,
    design: s.design,
    ran: s.ran,
    payments: s.payments,
    succeeded: s.succeeded,
    gas: s.gas,
    bytesPerPayment: s.bytesPerPayment,
    txsPerPayment: s.txsPerPayment,
    lockedWeiSeconds: s.lockedWeiSeconds,
  })
  return {
    scenario: r.scenario,
    seed: r.seed,
    seeds: r.seeds,
    workload: r.workload,
    gasSchedule: r.gasSchedule,
    designs: r.designs.map(design),
    sweeps: r.sweeps.map(sweep),
    seedRuns: r.seedRuns?.map((s) => ({ seed: s.seed, designs: s.designs.map(design), sweeps: s.sweeps.map(sweep) })),
    fits: r.fits,
    crossovers: r.crossovers,
    gate: r.gate.filter((g) => /\/(gas_per_payment|bytes_per_payment|success_rate)$/.test(g.name)),
  }
}
