/**
 * Writes a run directory: results.json, report.md, report.html and the two
 * github-action-benchmark files; and renders the terminal summary table.
 */
import { accessSync, constants, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve, sep } from 'node:path'
import { UsageError } from './errors.ts'
import { designLabel, l1BackendLine } from './report/format.ts'
import { ghaEntries } from './report/gha.ts'
import { renderHtml } from './report/html.ts'
import { SUMMARY_HEAD, summaryRows } from './report/markdown.ts'
import { renderMarkdown } from './report/markdown.ts'
import { capacityFormulas, seedHead, seedRows } from './report/seed.ts'
import { shardsLine, spreadIntro, spreadTable } from './report/spread.ts'
import type { ResultsJson } from './results.ts'

export const OUTPUT_FILES = {
  results: 'results.json',
  markdown: 'report.md',
  html: 'report.html',
  ghaBigger: 'benchmark-bigger-is-better.json',
  ghaSmaller: 'benchmark-smaller-is-better.json',
} as const

/** Kernel pseudo-filesystems: nothing there is a place for a report (and Node's recursive mkdir spins on /proc). */
const PSEUDO = ['/proc', '/sys']

/**
 * Makes sure `dir` is (or can become) a writable directory, before any work is
 * done: creates it, writes and removes a probe file. Throws a UsageError naming
 * `field` (e.g. --out) with the reason; creates nothing outside `dir`'s own
 * missing ancestors.
 */
export function prepareOutDir(dir: string, field = '--out'): void {
  const abs = resolve(dir)
  if (PSEUDO.some((p) => abs === p || abs.startsWith(`${p}${sep}`))) throw new UsageError(field, `${abs} is on a kernel pseudo-filesystem, not a place for reports`)
  // The nearest existing ancestor must be a writable directory; the rest is created one level at a time.
  const missing: string[] = []
  let at = abs
  while (!existsSync(at)) {
    missing.unshift(at)
    const up = dirname(at)
    if (up === at) break
    at = up
  }
  if (!statSync(at).isDirectory()) throw new UsageError(field, `${at} exists and is not a directory`)
  try {
    accessSync(at, constants.W_OK)
  } catch {
    if (missing.length > 0) throw new UsageError(field, `cannot create ${abs}: ${at} is not writable`)
  }
  for (const d of missing) {
    try {
      mkdirSync(d)
    } catch (err) {
      throw new UsageError(field, `cannot create ${d}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
  }
  const probe = join(abs, `.l2bench-write-test-${process.pid}`)
  try {
    writeFileSync(probe, '')
    rmSync(probe, { force: true })
  } catch (err) {
    throw new UsageError(field, `cannot write in ${abs}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

/** Writes the reports (and results.json unless `reportsOnly`). Returns the paths written. */
export function writeRunDir(dir: string, r: ResultsJson, options: { reportsOnly?: boolean } = {}): string[] {
  prepareOutDir(dir)
  const written: string[] = []
  const put = (name: string, text: string) => {
    const p = join(dir, name)
    writeFileSync(p, text)
    written.push(p)
  }
  if (options.reportsOnly !== true) put(OUTPUT_FILES.results, `${JSON.stringify(r, null, 1)}\n`)
  put(OUTPUT_FILES.markdown, renderMarkdown(r))
  put(OUTPUT_FILES.html, renderHtml(r))
  const gha = ghaEntries(r)
  put(OUTPUT_FILES.ghaBigger, `${JSON.stringify(gha.bigger, null, 1)}\n`)
  put(OUTPUT_FILES.ghaSmaller, `${JSON.stringify(gha.smaller, null, 1)}\n`)
  return written
}

/** Plain-text table for the terminal. */
export function terminalTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

export function terminalSummary(r: ResultsJson): string {
  const head = SUMMARY_HEAD.slice(0, 10)
  const rows = summaryRows(r).map((row) => row.slice(0, 10))
  const lines = [l1BackendLine(r), terminalTable(head, rows)]
  const spread = spreadTable(r)
  if (spread !== undefined) lines.push('', spreadIntro(r), terminalTable(spread.head, spread.rows))
  const shards = shardsLine(r)
  if (shards !== undefined) lines.push('', shards)
  for (const d of r.designs) {
    if (!d.ran) lines.push(`  ${designLabel(d)}: not run — ${d.error}`)
    else if (!d.conservation.ok) lines.push(`  ${designLabel(d)}: FUNDS NOT CONSERVED`)
  }
  for (const c of r.crossovers) lines.push(`  † ${c.a} beats ${c.b} on L1 gas above ${c.paymentsPerPair} payments per pair (extrapolated from fits)`)
  lines.push('', "Seed 003's table, answered ((m) measured, (c) computed from measured, (M) modelled, † partly extrapolated):", terminalTable(seedHead(r), seedRows(r)))
  lines.push('', 'Capacity (G block gas, T block time, g L1 gas per payment):')
  for (const f of capacityFormulas(r)) lines.push(`  ${f.design}: ${f.line}`)
  lines.push('  (inputs, their sources and the limits of the model: report.md)')
  for (const d of r.designs) if (d.notes.some((n) => n.startsWith('BUG:'))) lines.push(`  ${designLabel(d)}: ${d.notes.find((n) => n.startsWith('BUG:'))}`)
  return lines.join('\n')
}
