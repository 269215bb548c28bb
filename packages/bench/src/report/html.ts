/**
 * report.html: one self-contained file (inline CSS and SVG, no scripts, no
 * external assets) with the summary table and the charts: L1 cost per payment
 * against payments per pair (the crossover), latency CDFs, capacity bars,
 * the stacked gas breakdown and the sweeps.
 */
import { shardsLine, spreadIntro, spreadTable } from './spread.ts'
import type { ResultsJson } from '../results.ts'
import { cdf } from '../stats.ts'
import { escapeHtml, fmtEth, fmtInt, fmtMs, fmtNum, pct, designLabel, l1BackendLine, sweepLabel } from './format.ts'
import { PARTS_HEAD, SUMMARY_HEAD, partsRows, proverLines, summaryRows } from './markdown.ts'
import { type BarRow, PALETTE, type Series, barChart, colorFor, dashFor, fmtDuration, lineChart, markerFor, timeLogTicks, widthFor } from './svg.ts'
import { rollupModel } from './models.ts'
import { DIAGNOSTIC_HEAD, LEGEND, STORE_HEAD, capacityFormulas, diagnosticRows, modelLimits, seedHead, seedRows, storeRows } from './seed.ts'
import { verdictHtml } from './verdict.ts'

export { rollupModel } from './models.ts'

const bold = (s: string) => escapeHtml(s).replace(/\*\*([^*]+)\*\*/g, '<b>$1</b>')

function table(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c, i) => `<td${i === 0 ? '' : ' class="n"'}>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`
}

export function crossoverChart(r: ResultsJson): string {
  const pts = r.sweeps.filter((s) => s.dimension === 'paymentsPerPair' && s.ran)
  if (pts.length === 0) return '<p class="empty">No payments-per-pair sweep in this run, so no crossover chart.</p>'
  const designs = [...new Set(pts.map((p) => p.design))]
  const series: Series[] = []
  const maxN = Math.max(1e5, ...pts.map((p) => p.value))
  const grid: number[] = []
  for (let e = 0; e <= Math.log10(maxN) + 1e-9; e += 0.1) grid.push(10 ** e)
  designs.forEach((d, i) => {
    const mine = pts.filter((p) => p.design === d).sort((a, b) => a.value - b.value)
    series.push({ name: `${sweepLabel(pts, d)} (measured)`, color: colorFor(d, i), points: mine.map((p) => [p.value, p.gas / Math.max(1, p.payments)]), dots: markerFor(d, i), width: widthFor(d) })
    const fit = r.fits.find((f) => f.design === d)
    if (fit !== undefined)
      series.push({ name: `${sweepLabel(pts, d)} fit †`, color: colorFor(d, i), points: grid.map((n) => [n, Math.max(1, fit.intercept / n + fit.slope)]), dashed: dashFor(d, i) })
  })
  const rm = rollupModel(r)
  if (rm !== undefined && !designs.includes('rollup'))
    series.push({ name: 'rollup model †', color: colorFor('rollup'), points: grid.map((n) => [n, rm.perPayment(n)]), dashed: dashFor('rollup') })
  return lineChart(series, {
    title: 'L1 gas per payment vs payments per pair (dashed: fit a/n + b or model †)',
    xLabel: 'payments per pair (log)',
    yLabel: 'L1 gas per payment (log)',
    xLog: true,
    yLog: true,
    xFormat: (v) => fmtInt(v),
    yFormat: (v) => fmtInt(v),
  })
}

export function latencyCdfChart(r: ResultsJson): string {
  const series: Series[] = []
  r.designs.forEach((d, i) => {
    if (!d.ran || d.samples === undefined) return
    const soft = cdf(d.samples.softMs)
    const final = cdf(d.samples.finalMs)
    const same = JSON.stringify(soft) === JSON.stringify(final)
    if (soft.length > 0) series.push({ name: same ? `${designLabel(d)} soft = final` : `${designLabel(d)} soft`, color: colorFor(d.name, i), points: soft })
    if (final.length > 0 && !same) series.push({ name: `${designLabel(d)} final`, color: colorFor(d.name, i), points: final, dashed: dashFor(d.name, i) })
  })
  if (series.length === 0) return '<p class="empty">No latency samples.</p>'
  return lineChart(series, {
    title: 'Latency CDF (solid = soft, dashed = final)',
    xLabel: 'latency, ms (log)',
    yLabel: 'fraction of payments',
    xLog: true,
    xTicks: timeLogTicks,
    xFormat: fmtDuration,
    yFormat: (v) => v.toFixed(1),
  })
}

/** System capacity per design (log bars when they span decades); modelled ones are marked M, extrapolated †. */
export function capacityChart(r: ResultsJson): string {
  const rows: BarRow[] = r.designs
    .filter((d) => d.ran && d.capacity !== undefined)
    .map((d, i) => {
      const marks = [d.capacity!.source === 'modelled' ? 'M' : '', d.extrapolated ? '†' : ''].filter((x) => x !== '').join(' ')
      return {
        label: designLabel(d),
        segments: [{ name: designLabel(d), value: d.capacity!.paymentsPerSecond, color: colorFor(d.name, i) }],
        ...(marks === '' ? {} : { note: marks }),
      }
    })
  if (rows.length === 0) return '<p class="empty">No design has a capacity figure.</p>'
  return barChart(rows, { title: 'System capacity (payments per second, computed from measured costs)', unit: 'payments/s', format: (v) => fmtNum(v, v < 10 ? 2 : 1) })
}

export function gasBreakdownChart(r: ResultsJson): string {
  const ran = r.designs.filter((d) => d.ran)
  if (ran.length === 0) return '<p class="empty">No design ran.</p>'
  const opColor = new Map<string, string>()
  const rows: BarRow[] = ran.map((d) => {
    const ops = Object.entries(d.l1.byOperation).sort((a, b) => b[1].gas - a[1].gas)
    const top = ops.slice(0, 6)
    const rest = ops.slice(6).reduce((a, [, v]) => a + v.gas, 0)
    const segs = top.map(([name, v]) => {
      if (!opColor.has(name)) opColor.set(name, PALETTE[opColor.size % PALETTE.length]!)
      return { name, value: v.gas / Math.max(1, d.payments), color: opColor.get(name)! }
    })
    if (rest > 0) segs.push({ name: 'other', value: rest / Math.max(1, d.payments), color: '#9ca3af' })
    return { label: designLabel(d), segments: segs }
  })
  return barChart(rows, { title: 'L1 gas per payment, by operation (stacked)', unit: 'gas', format: (v) => fmtInt(v) })
}

/** The sweep charts, one gas and one harness-speed chart (a diagnostic) per swept dimension. */
export function sweepChartList(r: ResultsJson): { file: string; alt: string; svg: string }[] {
  const out: { file: string; alt: string; svg: string }[] = []
  for (const dim of ['payments', 'users', 'pairs'] as const) {
    const pts = r.sweeps.filter((s) => s.dimension === dim && s.ran)
    if (pts.length === 0) continue
    const designs = [...new Set(pts.map((p) => p.design))]
    const line = (f: (p: (typeof pts)[number]) => number): Series[] =>
      designs.map((d, i) => ({
        name: sweepLabel(pts, d),
        color: colorFor(d, i),
        dots: markerFor(d, i),
        points: pts
          .filter((p) => p.design === d)
          .sort((a, b) => a.value - b.value)
          .map((p) => [p.value, f(p)] as [number, number]),
      }))
    out.push({
      file: `sweep-${dim}-gas.svg`,
      alt: `L1 gas per payment vs ${dim}`,
      svg: lineChart(
        line((p) => Math.max(1, p.gasPerPayment)),
        { title: `L1 gas per payment vs ${dim} (measured)`, xLabel: dim, yLabel: 'gas / payment (log)', yLog: true, width: 560, yFormat: (v) => fmtInt(v) },
      ),
    })
    out.push({
      file: `sweep-${dim}-harness-speed.svg`,
      alt: `Harness speed vs ${dim} (diagnostic)`,
      svg: lineChart(
        line((p) => Math.max(0.01, p.harnessPaymentsPerSecond)),
        { title: `Harness speed vs ${dim} (wall clock, diagnostic)`, xLabel: dim, yLabel: 'payments/s (log)', yLog: true, width: 560 },
      ),
    })
  }
  return out
}

export function sweepCharts(r: ResultsJson): string {
  const list = sweepChartList(r)
  const out: string[] = []
  for (let i = 0; i < list.length; i += 2) out.push(`<div class="pair">${list[i]!.svg}${list[i + 1]?.svg ?? ''}</div>`)
  return out.join('')
}

/** Every chart of a run as a standalone SVG (docs/results/), in report order. */
export function chartFiles(r: ResultsJson): { file: string; alt: string; svg: string }[] {
  const all = [
    { file: 'crossover.svg', alt: 'L1 gas per payment vs payments per pair', svg: crossoverChart(r) },
    { file: 'latency.svg', alt: 'Latency CDF per design', svg: latencyCdfChart(r) },
    { file: 'capacity.svg', alt: 'System capacity per design', svg: capacityChart(r) },
    { file: 'l1-gas-breakdown.svg', alt: 'L1 gas per payment by operation', svg: gasBreakdownChart(r) },
    ...sweepChartList(r),
  ]
  return all.filter((c) => c.svg.startsWith('<svg'))
}

const CSS = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1180px;color:#111827;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f9fafb}.meta{color:#4b5563}.empty{color:#6b7280;font-style:italic}svg{max-width:100%;height:auto;margin:8px 0}
.pair{display:flex;flex-wrap:wrap;gap:8px}.warn{color:#b91c1c}
.verdict{border:1px solid #c7d2fe;background:#eef2ff;border-radius:6px;padding:4px 16px 8px;margin:16px 0}.verdict h2{border:0;margin-top:12px}.verdict .headline{font-size:16px}`

export function renderHtml(r: ResultsJson): string {
  const w = r.workload
  const body: string[] = []
  body.push(`<h1>l2bench — ${escapeHtml(r.scenario)}${r.quick ? ' (quick)' : ''}</h1>`)
  if (r.description) body.push(`<p>${escapeHtml(r.description)}</p>`)
  body.push(
    `<p class="meta">${r.seeds === undefined ? `Seed ${r.seed}` : `Seeds ${r.seeds.join(', ')} (headline ${r.seed})`} · ${w.users} users · ${w.pairs} pairs · ${w.payments} payments over ${fmtMs(w.durationSimSeconds * 1000)} simulated · volume ${escapeHtml(fmtEth(w.totalVolumeWei))} · ` +
      `L1 block ${w.l1.blockTime} s · ${escapeHtml(r.machine.os)}, ${r.machine.cpus} × ${escapeHtml(r.machine.cpuModel)}, Node ${escapeHtml(r.machine.node)} · ` +
      `calibration ${fmtInt(r.calibration.signVerifyPerSecond)} sign+verify/s · run ${escapeHtml(r.startedAt)} in ${fmtMs(r.durationMs)}</p>`,
  )
  body.push(`<p class="meta">${escapeHtml(l1BackendLine(r))}</p>`)
  const shards = shardsLine(r)
  if (shards !== undefined) body.push(`<p class="meta">${escapeHtml(shards)}</p>`)
  body.push(verdictHtml(r))
  body.push('<h2>Summary</h2>')
  body.push(table(SUMMARY_HEAD, summaryRows(r)))
  const spread = spreadTable(r)
  if (spread !== undefined) {
    body.push('<h2>Over the seeds</h2>')
    body.push(`<p class="meta">${escapeHtml(spreadIntro(r))}</p>`)
    body.push(table(spread.head, spread.rows))
  }
  body.push(
    '<p class="meta">Capacity: what the design sustains as a system, computed from costs measured in this run (formulas below). Latency: wall-clock computation + simulated L1 waiting (htlc and virtual: + a simulated network delay per message); soft = accepted off-chain, final = enforceable on L1. † = partly extrapolated.</p>',
  )
  const prover = proverLines(r)
  const parts = partsRows(r)
  if (prover.length > 0 || parts.length > 0) {
    body.push('<h2>Prover work and the final latency in parts</h2>')
    if (prover.length > 0) body.push(`<ul>${prover.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`)
    if (parts.length > 0) body.push(table(PARTS_HEAD, parts))
  }
  body.push(seedSectionHtml(r))
  body.push('<h2>Stores</h2>')
  body.push(table(STORE_HEAD, storeRows(r)))
  body.push('<h2>Cost against reuse: the crossover</h2>')
  body.push(crossoverChart(r))
  const rm = rollupModel(r)
  if (rm !== undefined && r.sweeps.some((s) => s.dimension === 'paymentsPerPair') && !r.sweeps.some((s) => s.dimension === 'paymentsPerPair' && s.design === 'rollup'))
    body.push(`<p class="meta">${escapeHtml(rm.formula)}.</p>`)
  if (r.crossovers.length > 0)
    body.push(
      `<ul>${r.crossovers.map((c) => `<li>† ${escapeHtml(sweepLabel(r.sweeps, c.a))} is cheaper on L1 than ${escapeHtml(sweepLabel(r.sweeps, c.b))} above <b>${fmtNum(c.paymentsPerPair)}</b> payments per pair (${escapeHtml(c.from)})</li>`).join('')}</ul>`,
    )
  body.push('<h2>Latency</h2>')
  body.push(latencyCdfChart(r))
  const lc = r.latencyCrossovers ?? []
  if (lc.length > 0)
    body.push(
      `<ul>${lc.map((c) => `<li>† ${escapeHtml(c.a)} has the lower mean latency than ${escapeHtml(c.b)} above <b>${fmtNum(c.paymentsPerPair)}</b> payments per pair (${escapeHtml(c.from)}; total latency = a + b · payments over the payments-per-pair sweep)</li>`).join('')}</ul>`,
    )
  body.push('<h2>Capacity</h2>')
  body.push(capacityChart(r))
  body.push('<h2>L1 gas breakdown</h2>')
  body.push(gasBreakdownChart(r))
  for (const d of r.designs.filter((x) => x.ran)) {
    const ops = Object.entries(d.l1.byOperation).sort((a, b) => b[1].gas - a[1].gas)
    body.push(`<h3>${escapeHtml(designLabel(d))}</h3>`)
    body.push(
      table(
        ['operation', 'txs', 'gas', 'gas / tx', 'bytes', 'share'],
        ops.map(([k, v]) => [k, fmtInt(v.txs), fmtInt(v.gas), fmtInt(v.gas / Math.max(1, v.txs)), fmtInt(v.bytes), pct(v.gas / Math.max(1, d.l1.gas))]),
      ),
    )
  }
  if (r.sweeps.length > 0) {
    body.push('<h2>How it grows (sweeps)</h2>')
    body.push(sweepCharts(r))
  }
  const fails = r.designs.filter((d) => d.ran && Object.keys(d.failureReasons).length > 0)
  if (fails.length > 0) {
    body.push('<h2>Failures</h2>')
    body.push(table(['design', 'reason', 'payments'], fails.flatMap((d) => Object.entries(d.failureReasons).map(([k, v]) => [designLabel(d), k, String(v)]))))
  }
  const faults = r.designs.flatMap((d) => d.faults.map((f) => ({ design: designLabel(d), ...f })))
  if (faults.length > 0) {
    body.push('<h2>Adversarial events</h2>')
    body.push(table(['design', 'payment', 'fault', 'outcome', 'safe'], faults.map((f) => [f.design, String(f.paymentId), f.kind, f.outcome, f.safe ? 'yes' : 'NO'])))
  }
  const notes = r.designs.flatMap((d) => [
    ...(d.error ? [`${designLabel(d)}: ${d.error}`] : []),
    ...d.notes.map((n) => `${designLabel(d)}: ${n}`),
    ...d.extrapolations.map((e) => `${designLabel(d)} †: ${e.what} — fit ${e.fit}; measured at ${e.measuredAt}`),
    ...(d.ran && !d.conservation.ok ? [`${designLabel(d)}: FUNDS NOT CONSERVED`] : []),
  ])
  if (notes.length > 0) body.push(`<h2>Notes</h2><ul>${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`)
  body.push('<h2>Diagnostics: rate against bound, harness speed</h2>')
  body.push(
    "<p class=\"meta\">Each design's payments on one pair timed against its bound (the signatures, verifications and commits one payment needs), alternating one by one in short rounds in this process. The CI gate compares the CPU-time ratio; the wall-time ratio adds fsync waits and other processes' load. A ratio above 1 would be a bug. Harness speed: how fast this run pushed the workload through, every party in one process — a diagnostic.</p>",
  )
  body.push(table(DIAGNOSTIC_HEAD, diagnosticRows(r)))
  body.push('<h2>Gas schedule</h2>')
  body.push(table(['entry', 'gas'], Object.entries(r.gasSchedule).map(([k, v]) => [k, fmtInt(v)])))
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>l2bench — ${escapeHtml(r.scenario)}</title><style>${CSS}</style></head><body>${body.join('\n')}</body></html>\n`
}

export function seedSectionHtml(r: ResultsJson): string {
  const out: string[] = []
  out.push('<section id="seed-003"><h2>Seed 003\'s table, answered</h2>')
  out.push(
    "<p>Seed 003 closes with a throughput table (Bitcoin L1 7 TPS, Lightning 1,000,000+, Ethereum L1 30, ZK rollup 10,000, Visa 65,000). Here is each design of this run beside the row it answers, from this run's measurements.</p>",
  )
  out.push(table(seedHead(r), seedRows(r)))
  out.push(`<p class="meta">${escapeHtml(LEGEND)}</p>`)
  out.push('<h3>Capacity, per design</h3><ul>')
  for (const f of capacityFormulas(r))
    out.push(`<li><b>${escapeHtml(f.design)}</b> — ${escapeHtml(f.line)}${f.inputs.length > 0 ? `<ul>${f.inputs.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>` : ''}</li>`)
  out.push('</ul><h3>Limits of the model</h3><ul>')
  for (const l of modelLimits(r)) out.push(`<li>${bold(l)}</li>`)
  out.push('</ul></section>')
  return out.join('')
}
