/**
 * The multi-seed table (results.json `spread`): each figure as mean [low –
 * high], its 95 % interval over the seeds; and the provenance line of a
 * merged sharded run. Shared by report.md, report.html and the terminal.
 */
import type { ResultsJson } from '../results.ts'
import { SPREAD_FIGURES, type SpreadFigureJson } from '../spread.ts'
import { fmtInt, fmtMs, fmtNum, pct } from './format.ts'
import { fmtRate } from './seed.ts'

function fmt(unit: string, x: number): string {
  if (!Number.isFinite(x)) return '–'
  switch (unit) {
    case 'ratio':
      return pct(x)
    case 'gas':
    case 'count':
      return fmtInt(Math.round(x))
    case 'ms':
      return fmtMs(x)
    case 'payments/s':
      return fmtRate(x)
    case 'txs':
      return fmtNum(x, 3)
    case 'ETH·h':
      return x === 0 ? '0' : x < 0.01 ? x.toExponential(2) : x.toFixed(2)
    default:
      return fmtNum(x)
  }
}

function cell(unit: string, f: SpreadFigureJson | undefined): string {
  if (f === undefined) return '–'
  if (f.low === f.high) return `${fmt(unit, f.mean)}${f.n === 1 ? ' (1 seed)' : ''}`
  return `${fmt(unit, f.mean)} [${fmt(unit, f.low)} – ${fmt(unit, f.high)}]`
}

/** The spread table: one row per design, one column per figure; undefined for a single-seed run. */
export function spreadTable(r: ResultsJson): { head: string[]; rows: string[][] } | undefined {
  const s = r.spread
  if (s === undefined) return undefined
  const keys = Object.keys(SPREAD_FIGURES).filter((k) => s.designs.some((d) => d.figures[k] !== undefined))
  const head = ['design', ...keys.map((k) => `${SPREAD_FIGURES[k]!.label}${SPREAD_FIGURES[k]!.unit === 'ETH·h' ? ', ETH·h' : ''}`)]
  const rows = s.designs.map((d) => [d.name, ...keys.map((k) => cell(SPREAD_FIGURES[k]!.unit, d.figures[k]))])
  return { head, rows }
}

export function spreadIntro(r: ResultsJson): string {
  const s = r.spread
  if (s === undefined) return ''
  return (
    `Over ${s.seeds.length} seeds (${s.seeds.join(', ')}): each figure's mean [95 % interval], ${s.method}. ` +
    `The other tables are seed ${r.seed}'s run; every seed's results are in results.json (seedRuns).`
  )
}

/** "Merged from 3 shards: …" for a sharded run, else undefined. */
export function shardsLine(r: ResultsJson): string | undefined {
  const sh = r.shards
  if (sh === undefined) return undefined
  const total = sh.reduce((a, s) => a + s.durationMs, 0)
  return (
    `Merged from ${sh.length} shards (${sh.map((s) => `${s.index}: ${s.units} units on ${s.machine.cpus} × ${s.machine.cpuModel}, ${fmtMs(s.durationMs)}`).join('; ')}); ` +
    `the longest took ${fmtMs(Math.max(...sh.map((s) => s.durationMs)))}, all together ${fmtMs(total)}. Calibration and machine above are shard 1's.`
  )
}
