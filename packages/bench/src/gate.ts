/**
 * The CI gate: compares a run's gate metrics with a committed baseline and
 * fails when one regressed past its tolerance. Metrics are either ratios
 * measured interleaved within one run (a design's rate on one pair ÷ its own
 * crypto/fsync bound, probe.ts), so a slower or busier machine moves both
 * sides alike, or figures exact for a seed (gas and calldata bytes per
 * payment, success rate); absolute times and capacities are never compared.
 * A design whose rate exceeds its own bound (probe.ts fasterThanBound) fails
 * the gate outright: it skipped work a payment needs.
 */
import { readFileSync } from 'node:fs'
import { ResultsError } from './errors.ts'
import { fasterText, fasterThanBound } from './probe.ts'
import type { GateMetricJson, ResultsJson } from './results.ts'

export interface Baseline {
  schema: 2
  kind: 'l2bench-baseline'
  scenario: string
  seed: number
  quick: boolean
  createdAt: string
  machine: ResultsJson['machine']
  gate: GateMetricJson[]
}

export interface GateCheck {
  name: string
  baseline: number | undefined
  current: number | undefined
  /** (current − baseline) / baseline, signed so that negative = worse. */
  change: number
  tolerance: number
  status: 'ok' | 'regressed' | 'missing' | 'new' | 'improved'
}

export interface GateOutcome {
  ok: boolean
  checks: GateCheck[]
  problems: string[]
}

export function baselineFrom(r: ResultsJson): Baseline {
  return { schema: 2, kind: 'l2bench-baseline', scenario: r.scenario, seed: r.seed, quick: r.quick, createdAt: r.startedAt, machine: r.machine, gate: r.gate }
}

export function readBaseline(file: string): Baseline {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (cause) {
    throw new ResultsError('baseline', `cannot read ${file}: ${(cause as Error).message}`, { cause })
  }
  const b = raw as Partial<Baseline> & { designs?: unknown }
  if (b.schema !== 2) throw new ResultsError('schema', `unsupported baseline schema ${JSON.stringify(b.schema)} in ${file} (expected 2: regenerate it with l2bench gate --update)`)
  if (!Array.isArray(b.gate)) throw new ResultsError('gate', `no gate metrics in ${file}`)
  // A full results.json also works as a baseline.
  return { kind: 'l2bench-baseline', createdAt: '', machine: {} as Baseline['machine'], ...b } as Baseline
}

export function compareGate(baseline: Baseline, current: ResultsJson, toleranceScale = 1): GateOutcome {
  const problems: string[] = []
  if (baseline.scenario !== current.scenario) problems.push(`scenario differs: baseline ${baseline.scenario}, run ${current.scenario}`)
  if (baseline.seed !== current.seed) problems.push(`seed differs: baseline ${baseline.seed}, run ${current.seed}`)
  if (baseline.quick !== current.quick) problems.push(`--quick differs: baseline ${baseline.quick}, run ${current.quick}`)
  for (const d of current.designs)
    if (d.boundRatio !== undefined && fasterThanBound(d.boundRatio))
      problems.push(
        `${d.name} ran faster than its own bound (${d.boundRatio.bound}): ${fasterText(d.boundRatio)} — a bug`,
      )
  const now = new Map(current.gate.map((m) => [m.name, m]))
  const checks: GateCheck[] = []
  for (const b of baseline.gate) {
    const c = now.get(b.name)
    if (c === undefined) {
      checks.push({ name: b.name, baseline: b.value, current: undefined, change: -1, tolerance: b.tolerance, status: 'missing' })
      continue
    }
    const tol = b.tolerance * toleranceScale
    const raw = b.value === 0 ? (c.value === 0 ? 0 : c.value > 0 ? 1 : -1) : (c.value - b.value) / Math.abs(b.value)
    const change = b.better === 'higher' ? raw : -raw
    const status = change < -tol - 1e-12 ? 'regressed' : change > tol ? 'improved' : 'ok'
    checks.push({ name: b.name, baseline: b.value, current: c.value, change, tolerance: tol, status })
  }
  for (const c of current.gate)
    if (!baseline.gate.some((b) => b.name === c.name))
      checks.push({ name: c.name, baseline: undefined, current: c.value, change: 0, tolerance: c.tolerance, status: 'new' })
  const ok = problems.length === 0 && checks.every((c) => c.status !== 'regressed' && c.status !== 'missing')
  return { ok, checks, problems }
}
