import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { writeResultsDocs } from '../src/report/docs.ts'
import { chartFiles, crossoverChart, latencyCdfChart, rollupModel } from '../src/report/html.ts'
import { barChart, fmtDuration, logTicks, timeLogTicks } from '../src/report/svg.ts'
import { atAGlance } from '../src/report/markdown.ts'
import { seedRows } from '../src/report/seed.ts'
import { verdict } from '../src/report/verdict.ts'
import { ResultsError, compareGate, baselineFrom, ghaEntries, readResults, renderHtml, renderMarkdown, validateResults } from '../src/index.ts'

const fixture = new URL('./fixtures/results.json', import.meta.url).pathname

test('a stored results.json renders to Markdown with the summary and the breakdown', () => {
  const r = readResults(fixture)
  const md = renderMarkdown(r)
  assert.match(md, /^# l2bench — tiny/)
  assert.match(md, /\| l1 \| 40\/40 \(100 %\) \|/)
  assert.match(md, /\| transfer \| 40 \| 840,000 \| 21,000 \|/)
  assert.match(md, /## How it grows/)
  assert.match(md, /## Gas schedule/)
})

test('report.html is self-contained: inline SVG charts, no scripts, no external assets', () => {
  const html = renderHtml(readResults(fixture))
  assert.match(html, /^<!doctype html>/)
  assert.ok((html.match(/<svg /g) ?? []).length >= 4, 'crossover, CDF, capacity, gas breakdown')
  assert.doesNotMatch(html, /<script|<link|@import|src=|url\(/i)
  // The only URL is the SVG namespace.
  const urls = (html.match(/https?:\/\/[^"' )]+/g) ?? []).filter((u) => u !== 'http://www.w3.org/2000/svg')
  assert.deepEqual(urls, [])
  assert.match(html, /Latency CDF/)
  assert.match(html, /payments per pair/)
})

test('github-action-benchmark entries have name, unit and a numeric value', () => {
  const { bigger, smaller } = ghaEntries(readResults(fixture))
  assert.ok(bigger.length > 0 && smaller.length > 0)
  for (const e of [...bigger, ...smaller]) {
    assert.equal(typeof e.name, 'string')
    assert.equal(typeof e.unit, 'string')
    assert.ok(Number.isFinite(e.value))
  }
  assert.ok(smaller.some((e) => e.name.endsWith('L1 gas per payment') && e.value === 21_000))
})

test('reading a results file checks its schema and names the bad key', () => {
  const raw = JSON.parse(readFileSync(fixture, 'utf8'))
  assert.throws(() => validateResults({ ...raw, schema: 1 }), (e: unknown) => e instanceof ResultsError && e.field === 'schema', 'schema 1 (before capacity) is refused')
  const broken = structuredClone(raw)
  delete broken.designs[0].latencyMs.final.p95
  assert.throws(() => validateResults(broken), (e: unknown) => e instanceof ResultsError && e.field === 'designs.0.latencyMs.final.p95')
})

test('the gate passes against its own baseline and fails on a regression past tolerance', () => {
  const r = readResults(fixture)
  const base = baselineFrom(r)
  assert.equal(compareGate(base, r).ok, true)
  const worse = structuredClone(r)
  const gas = worse.gate.find((m) => m.name.endsWith('/gas_per_payment'))!
  gas.value *= 1.05 // 5 % more gas per payment, tolerance 2 %
  const out = compareGate(base, worse)
  assert.equal(out.ok, false)
  assert.equal(out.checks.find((c) => c.name === gas.name)?.status, 'regressed')
  const other = structuredClone(r)
  other.seed = 99
  assert.equal(compareGate(base, other).ok, false, 'a different seed is not comparable')
  const missing = structuredClone(r)
  missing.gate = missing.gate.slice(1)
  assert.equal(compareGate(base, missing).ok, false, 'a metric that disappeared fails the gate')
})

test('the gate on interleaved ratios: a drop within the tolerance passes, past it fails; no wall-clock or capacity metric is gated', () => {
  const r = readResults(fixture)
  const base = baselineFrom(r)
  const names = r.gate.map((m) => m.name.split('/').pop())
  assert.deepEqual([...new Set(names)].sort(), ['bytes_per_payment', 'gas_per_payment', 'rate_per_bound', 'success_rate'])
  const ratio = base.gate.find((m) => m.name === 'tiny/channel/rate_per_bound')!
  const slower = (factor: number) => {
    const x = structuredClone(r)
    x.gate.find((m) => m.name === ratio.name)!.value = ratio.value * factor
    return compareGate(base, x)
  }
  assert.equal(slower(1 - ratio.tolerance * 0.9).ok, true, 'within tolerance')
  const out = slower(1 - ratio.tolerance * 1.1)
  assert.equal(out.ok, false)
  assert.equal(out.checks.find((c) => c.name === ratio.name)?.status, 'regressed')
  assert.equal(slower(1 + ratio.tolerance * 1.2).checks.find((c) => c.name === ratio.name)?.status, 'improved')
})

test('the gate fails a run in which a design is faster than its own bound (median ratio above 1: a bug)', () => {
  const r = readResults(fixture)
  const base = baselineFrom(r)
  const x = structuredClone(r)
  const b = x.designs.find((d) => d.name === 'paych')!.boundRatio!
  b.cpu.median = 1.2
  b.cpu.faster = { pairs: 200, designFaster: 190, p: 1e-40 }
  const out = compareGate(base, x)
  assert.equal(out.ok, false)
  assert.match(out.problems.join('\n'), /paych ran faster than its own bound/)
})

test('the verdict leads report.html and report.md: the winner, by how much, and why', () => {
  const r = readResults(fixture)
  const html = renderHtml(r)
  const v = html.indexOf('id="verdict"')
  assert.ok(v > 0 && v < html.indexOf('<h2>Summary</h2>'), 'verdict before the summary')
  const cheapest = [...r.designs].filter((d) => d.ran).sort((a, b) => a.l1.gasPerPayment - b.l1.gasPerPayment)[0]!
  assert.match(html, new RegExp(`<b>${cheapest.name}</b> wins this workload on L1 cost`))
  assert.match(html, /payments per pair on average/)
  const md = renderMarkdown(r)
  assert.ok(md.indexOf('## Verdict') < md.indexOf('## Summary'))
})

test('the verdict follows the figures: make paych the cheapest and it wins; a design losing funds is excluded', () => {
  const r = readResults(fixture)
  const paych = r.designs.find((d) => d.name === 'paych')!
  paych.l1.gasPerPayment = 1
  assert.match(verdict(r).headline, /^\*\*paych\*\* wins/)
  paych.conservation.ok = false
  assert.doesNotMatch(verdict(r).headline, /paych/)
  assert.match(verdict(r).reasons.join(' '), /paych \(funds not conserved\)/)
})

test('the verdict weighs virtual channels against the HTLC hub when both ran: gas, latency, the hub’s updates per payment, its collateral', () => {
  const r = readResults(fixture)
  assert.doesNotMatch(verdict(r).reasons.join(' '), /Virtual channels/)
  const h = r.designs.find((d) => d.name === 'htlc')!
  const v = structuredClone(h)
  v.name = 'virtual'
  h.l1.gasPerPayment = 35_313
  v.l1.gasPerPayment = 35_316
  v.capacity!.inputs.u_hub = { value: 0.25, unit: 'updates/payment', source: 'measured', how: 'test' }
  r.designs.push(v)
  const line = verdict(r).reasons.find((x) => x.startsWith('Virtual channels against the HTLC hub')) ?? ''
  assert.match(line, /35,316 vs 35,313 L1 gas per payment/)
  assert.match(line, /0\.25 ledger updates per payment/)
  assert.match(line, /collateral/)
})

test('charts: self-styled with a background, title, axis labels and legend; distinct dashes and markers per design', () => {
  const r = readResults(fixture)
  for (const c of chartFiles(r)) {
    assert.match(c.svg, /^<svg [^>]*class="l2b"/, c.file)
    assert.match(c.svg, /<style>svg\.l2b\{background:#fff\}/, c.file)
    assert.match(c.svg, /<rect class="bg" [^>]*fill="#ffffff"/, c.file)
    assert.match(c.svg, /<title>[^<]+<\/title>/, c.file)
    assert.match(c.svg, /data-axis="x"/, c.file)
    assert.match(c.svg, /data-axis="y"/, c.file)
    assert.match(c.svg, /<g class="legend">/, c.file)
  }
  const cross = crossoverChart(r)
  const dashes = [...cross.matchAll(/<path [^>]*stroke-dasharray="([^"]+)"/g)].map((m) => m[1])
  assert.equal(new Set(dashes).size, dashes.length, `every fit has its own dash pattern: ${dashes}`)
  assert.match(cross, /<rect [^>]*fill="#2563eb"/, 'channel: square markers')
  assert.match(cross, /<path [^>]*stroke="#2563eb" stroke-width="5"/, 'channel: a wide line under the thin paych one')
  assert.ok(cross.indexOf('stroke="#2563eb" stroke-width="5"') < cross.indexOf('stroke="#059669" stroke-width="2"'), 'the wide line is drawn first')
  assert.match(cross, /<path d="M[^"]*Z" fill="none" stroke="#059669"/, 'paych: hollow triangles')
  // The legend is wide enough for its longest label: no "channel (measured" clipped at the edge.
  const width = Number(/viewBox="0 0 (\d+)/.exec(cross)![1])
  const longest = Math.max(...[...cross.matchAll(/class="l">([^<]+)</g)].map((m) => m[1]!.length))
  const legendX = Number(/<g class="legend"><line x1="(\d+)/.exec(cross)![1])
  assert.ok(legendX + 32 + longest * 6.6 <= width, 'legend fits')
})

test('log axes get minor ticks and labels inside a decade; latency ticks are round time units', () => {
  assert.deepEqual(logTicks(10, 100).major, [10, 20, 50, 100])
  assert.ok(logTicks(1, 100_000).minor.includes(300))
  const t = timeLogTicks(0.1, 1_000_000)
  assert.deepEqual(t.major.map(fmtDuration), ['100 µs', '1 ms', '10 ms', '100 ms', '1 s', '10 s', '1 min', '10 min'])
  const html = latencyCdfChart(readResults(fixture))
  assert.doesNotMatch(html, /1\.7 min|16\.7 min/)
})

test('a 0.2/s bar beside 5,926/s stays visible: the bar chart switches to a log scale', () => {
  const svg = barChart(
    [
      { label: 'htlc', segments: [{ name: 'htlc', value: 5926, color: '#d97706' }] },
      { label: 'rollup', segments: [{ name: 'rollup', value: 0.2, color: '#7c3aed' }] },
    ],
    { title: 'Throughput', unit: 'payments/s' },
  )
  assert.match(svg, /Throughput \(log scale\)/)
  const widths = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="20"/g)].map((m) => Number(m[1]))
  assert.equal(widths.length, 2)
  assert.ok(Math.min(...widths) >= 20, `the small bar is visible: ${widths}`)
})

test('the rollup appears in the crossover chart (as a model from its measured deposit and batch gas, marked †)', () => {
  const r = readResults(fixture)
  const l1 = r.designs[0]!
  r.designs.push({
    ...structuredClone(l1),
    name: 'rollup',
    payments: 10,
    l1: { ...structuredClone(l1.l1), gas: 10 * 49_395 + 300_000, byOperation: { 'zk-rollup.deposit': { gas: 10 * 49_395, bytes: 0, txs: 10 }, 'zk-rollup.submitBatch': { gas: 300_000, bytes: 0, txs: 1 } } },
  })
  const m = rollupModel(r)!
  assert.equal(Math.round(m.deposit), 49_395)
  assert.equal(m.batch, 30_000)
  assert.equal(m.perPayment(1), 2 * 49_395 + 30_000)
  assert.match(crossoverChart(r), /rollup model †/)
  assert.match(renderHtml(r), /rollup model †: gas\/payment = 2 × 49,395/)
})

test('l2bench docs: results.md references exactly the SVGs in docs/results/, stale ones are removed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'l2bench-docs-'))
  try {
    mkdirSync(join(dir, 'results'))
    writeFileSync(join(dir, 'results', 'how-it-grows-sweeps-6.svg'), '<svg/>')
    const r = readResults(fixture)
    writeResultsDocs(dir, [r, r], ['out/a', 'out/b'])
    const md = readFileSync(join(dir, 'results.md'), 'utf8')
    const referenced = [...md.matchAll(/\]\(results\/([^)]+\.svg)\)/g)].map((m) => m[1]).sort()
    const files = readdirSync(join(dir, 'results')).sort()
    assert.deepEqual(referenced, files)
    assert.ok(files.includes('crossover.svg') && files.includes('sweep-payments-gas.svg'))
    assert.match(md, /^# Results — tiny/)
    assert.match(md, /l2bench docs --from out\/a --from out\/b/)
    assert.match(md, /## Verdict/)
    assert.match(md, /## tiny — verdict and summary/)
    for (const f of files) assert.match(readFileSync(join(dir, 'results', f), 'utf8'), /<style>svg\.l2b/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test("seed 003's table, answered: every design beside the seed's row, each cell tagged with its source, formulas and limits under it", () => {
  const r = readResults(fixture)
  for (const out of [renderMarkdown(r), renderHtml(r)]) {
    assert.match(out, /Seed 003's table, answered/)
    for (const claim of ['1,000,000+', '65,000', 'T+1 day (settlement)', 'Requires channel lockup', 'No lockup needed', '$0.50-100']) assert.ok(out.includes(claim), claim)
    assert.match(out, /not modelled in l2bench/, 'Bitcoin and Visa have no design here')
    assert.match(out, /Network latency between parties/)
    assert.match(out, /Mempool contention/)
    assert.match(out, /Finality/)
    assert.match(out, /G ÷ g ÷ T/)
  }
  const rows = seedRows(r)
  const l1 = rows.find((x) => x[0] === 'l1')!
  assert.equal(l1[1], 'Ethereum L1')
  assert.match(l1[2]!, /^119 \(c\)$/, 'capacity computed: 30,000,000 ÷ 21,000 ÷ 12')
  // 21,000 gas at 1 gwei = 0.000021 ETH; at $3,000/ETH = $0.063.
  assert.match(l1[6]!, /^21,000 gas \(m\) = 0\.0000210 ETH = \$0\.063 \(c\)$/)
  assert.match(l1[8]!, /^0 \(m\)$/, 'nothing locked')
  const htlc = rows.find((x) => x[0] === 'htlc')!
  assert.match(htlc[2]!, /\(M\)$/, 'the hub rate is modelled until the adapter forwards signed HTLCs')
  for (const row of rows.filter((x) => x[0] !== '–')) for (const cell of [row[2], row[4], row[6], row[8]]) assert.match(cell!, /\((m|c|M|p)†?\)$/, `${row[0]}: ${cell}`)
  // The ETH price and gas price are the scenario's and stated in the header.
  const priced = structuredClone(r)
  priced.model.ethPriceUsd = 1000
  assert.match(renderMarkdown(priced), /L1 cost per payment \(1\.00 gwei, \$1,000\/ETH\)/)
  assert.match(seedRows(priced).find((x) => x[0] === 'l1')![6]!, /\$0\.021/)
})

test('every report says which store and sync mode produced each design’s figures', () => {
  const r = readResults(fixture)
  const md = renderMarkdown(r)
  assert.match(md, /## Stores/)
  for (const d of r.designs) assert.match(md, new RegExp(`\\| ${d.name} \\| ${d.store.kind} \\|`))
  const html = renderHtml(r)
  assert.match(html, /<h2>Stores<\/h2>/)
})

test('the headline uses capacity, not the harness speed: making one design’s harness fast changes nothing', () => {
  const r = readResults(fixture)
  const before = verdict(r)
  const fast = structuredClone(r)
  for (const d of fast.designs) d.harness.paymentsPerSecond = d.name === 'l1' ? 1e9 : 1
  assert.deepEqual(verdict(fast), before)
  assert.deepEqual(atAGlance(fast), atAGlance(r))
  const best = [...r.designs].filter((d) => d.capacity !== undefined).sort((a, b) => b.capacity!.paymentsPerSecond - a.capacity!.paymentsPerSecond)[0]!
  assert.match(atAGlance(r).join('\n'), new RegExp(`Highest capacity: \\*\\*${best.name}\\*\\*`))
  assert.doesNotMatch(renderMarkdown(r), /Highest throughput/)
})

test('a design that ran as a variant (the HTLC design\'s simulated forwarding) is labelled so in every table and chart', () => {
  const r = readResults(fixture)
  const htlc = r.designs.find((d) => d.name === 'htlc')!
  htlc.variant = 'simulated forwarding'
  for (const s of r.sweeps) if (s.design === 'htlc') s.variant = 'simulated forwarding'
  const label = 'htlc (simulated forwarding)'
  const md = renderMarkdown(r)
  // Summary, store, failures, breakdown heading, capacity and seed tables: never the bare name in a table cell or heading.
  assert.match(md, /\| htlc \(simulated forwarding\) \| \d+\/\d+/)
  assert.match(md, /### htlc \(simulated forwarding\)/)
  assert.doesNotMatch(md, /\| htlc \|/)
  assert.doesNotMatch(md, /^### htlc$/m)
  // ... and the limit of the model it brings says which run it was.
  assert.match(md, /\*\*HTLC hub\.\*\* htlc \(simulated forwarding\): the router's simulator forwards without signatures/)
  const html = renderHtml(r)
  assert.doesNotMatch(html, />htlc</)
  for (const c of chartFiles(r)) if (c.svg.includes('htlc')) assert.ok(c.svg.includes(label) || !/>htlc\b(?! \()/.test(c.svg), `${c.file} names htlc without its variant`)
  assert.ok(chartFiles(r).some((c) => c.svg.includes(label)), 'at least one chart shows the label')
  for (const row of seedRows(r)) if (String(row[0]).startsWith('htlc')) assert.match(String(row[0]), /^htlc \(simulated forwarding\)/)
})
