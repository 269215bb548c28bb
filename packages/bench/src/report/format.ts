/** Number formatting shared by the Markdown, HTML and terminal renderers. */
import type { ResultsJson } from '../results.ts'

/** A design's name as every table and chart shows it: with what ran when that is not its full form ("htlc (simulated forwarding)"). */
export function designLabel(d: { name: string; variant?: string | undefined }): string {
  return d.variant === undefined ? d.name : `${d.name} (${d.variant})`
}

/** A design's series name in a sweep chart: with its variant, and at how many points it ran that way when not at all of them. */
export function sweepLabel(points: readonly { design: string; variant?: string | undefined }[], design: string): string {
  const mine = points.filter((p) => p.design === design)
  const variants = [...new Set(mine.map((p) => p.variant).filter((v): v is string => v !== undefined))]
  if (variants.length === 0) return design
  const n = mine.filter((p) => p.variant !== undefined).length
  return `${design} (${variants.join(', ')}${n === mine.length ? '' : ` at ${n} of ${mine.length} points`})`
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

export function fmtNum(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return String(n)
  if (Math.abs(n) >= 1000) return fmtInt(n)
  return n.toFixed(digits)
}

/** Milliseconds in the most readable unit. */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–'
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)} h`
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)} min`
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`
  if (ms >= 1) return `${ms.toFixed(2)} ms`
  return `${(ms * 1000).toFixed(0)} µs`
}

/** Wei (decimal string) as ETH with up to 6 significant decimals. */
export function fmtEth(wei: string | bigint): string {
  const v = typeof wei === 'bigint' ? wei : BigInt(wei)
  const whole = v / 10n ** 18n
  const frac = v % 10n ** 18n
  if (frac === 0n) return `${whole.toLocaleString('en-US')} ETH`
  const s = frac.toString().padStart(18, '0').slice(0, 6).replace(/0+$/, '')
  return `${whole.toLocaleString('en-US')}${s === '' ? '' : `.${s}`} ETH`
}

/** ETH·s → ETH·h, readable. */
export function fmtEthHours(weiSeconds: string): string {
  const v = BigInt(weiSeconds)
  const ethHours = Number(v / 10n ** 12n) / 1e6 / 3600
  if (ethHours === 0) return '0'
  return `${ethHours < 0.01 ? ethHours.toExponential(2) : ethHours.toFixed(2)} ETH·h`
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(x === 1 || x === 0 ? 0 : 1)} %`
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

export function mdTable(head: string[], rows: string[][]): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|')
  return [
    `| ${head.map(esc).join(' | ')} |`,
    `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n')
}

/** Which L1 produced the gas and calldata figures (results from before the EVM backend: the mock). */
export function l1BackendLine(r: ResultsJson): string {
  const b = r.l1Backend ?? { name: 'mock', description: 'MockL1: gas from the l1-mock schedule' }
  return `L1: ${b.name === 'evm' ? 'a real EVM' : 'the mock'} — ${b.description}.`
}
