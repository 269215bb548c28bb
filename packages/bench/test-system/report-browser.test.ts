/**
 * report.html in a real browser: Debian's Chromium (/usr/bin/chromium, a
 * system package — hence `npm run test:system`, not `npm test`), driven by
 * playwright-core with that executable: no browser download. A quick run of
 * the tiny scenario writes the report; the page must show the verdict first,
 * and every chart must have rendered with a title, both axis labels and a
 * legend that is not clipped. The standalone SVGs that `l2bench docs` writes
 * are opened on their own too: they must carry their background and fonts.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { type Browser, chromium } from 'playwright-core'
import { loadScenario, runScenario, writeRunDir } from '../src/index.ts'
import { writeResultsDocs } from '../src/report/docs.ts'

const CHROMIUM = '/usr/bin/chromium'
const tmp = mkdtempSync(join(tmpdir(), 'l2bench-browser-'))
let browser: Browser

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (see the README, "System tests")`)
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
})
after(async () => {
  await browser?.close()
  rmSync(tmp, { recursive: true, force: true })
})

interface ChartCheck {
  title: string
  width: number
  height: number
  heading: string
  xLabel: string
  yLabel: string
  legend: string[]
  clipped: string[]
  background: string
  font: string
}

/** Runs in the page: what each chart shows. */
function inspectCharts(): ChartCheck[] {
  return [...document.querySelectorAll('svg.l2b')].map((svg) => {
    const s = svg as SVGSVGElement
    const box = s.getBoundingClientRect()
    const text = (sel: string) => (s.querySelector(sel)?.textContent ?? '').trim()
    const clipped: string[] = []
    for (const t of s.querySelectorAll('text')) {
      // Screen rectangles (transforms applied, e.g. the rotated y label) against the chart's own.
      const b = t.getBoundingClientRect()
      if (t.textContent && (b.left < box.left - 1 || b.top < box.top - 1 || b.right > box.right + 1 || b.bottom > box.bottom + 1)) clipped.push(t.textContent)
    }
    const first = s.querySelector('text') as SVGTextElement | null
    return {
      title: text('title'),
      width: box.width,
      height: box.height,
      heading: text('text.t'),
      xLabel: text('[data-axis="x"]'),
      yLabel: text('[data-axis="y"]'),
      legend: [...s.querySelectorAll('g.legend text')].map((t) => t.textContent ?? ''),
      clipped,
      background: s.querySelector('rect.bg')?.getAttribute('fill') ?? '',
      font: first === null ? '' : getComputedStyle(first).fontFamily,
    }
  })
}

function checkCharts(charts: ChartCheck[], where: string): void {
  for (const c of charts) {
    const name = `${where}: ${c.title}`
    assert.ok(c.title.length > 0, `${where}: a chart without a title`)
    assert.ok(c.width > 100 && c.height > 100, `${name} rendered (${c.width}×${c.height})`)
    assert.equal(c.heading, c.title, `${name}: visible title`)
    assert.ok(c.xLabel.length > 0, `${name}: x-axis label`)
    assert.ok(c.yLabel.length > 0, `${name}: y-axis label`)
    assert.ok(c.legend.length > 0 && c.legend.every((l) => l.length > 0), `${name}: legend`)
    assert.deepEqual(c.clipped, [], `${name}: text outside the chart`)
    assert.equal(c.background, '#ffffff', `${name}: own background`)
    assert.match(c.font, /system-ui|sans-serif/, `${name}: sans-serif font, got ${c.font}`)
  }
}

test('report.html in Chromium: the verdict leads, every chart rendered with a title, axis labels and a legend', async () => {
  const scenario = loadScenario(new URL('../test/fixtures/tiny.yaml', import.meta.url).pathname, { quick: true })
  const results = await runScenario(scenario, { quick: true, calibrationMs: 50 })
  const dir = join(tmp, 'run')
  writeRunDir(dir, results)
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  // tsx (esbuild, keepNames) wraps named functions in __name(); inspectCharts runs in the page, which has none.
  await page.addInitScript({ content: 'globalThis.__name = (f) => f' })
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  page.on('requestfailed', (r) => errors.push(`request ${r.url()}`))
  await page.goto(`file://${join(dir, 'report.html')}`)

  const verdict = page.locator('#verdict')
  assert.equal(await verdict.isVisible(), true, 'verdict visible')
  assert.match(await verdict.innerText(), /wins this workload on L1 cost: [\d,]+ gas per payment/)
  const vTop = (await verdict.boundingBox())!.y
  const sTop = (await page.locator('h2', { hasText: 'Summary' }).boundingBox())!.y
  assert.ok(vTop < sTop, 'the verdict is above the summary')

  const charts = await page.evaluate(inspectCharts)
  const titles = charts.map((c) => c.title)
  for (const want of [/payments per pair/, /Latency CDF/, /System capacity/, /L1 gas per payment, by operation/, /vs payments \(measured\)/])
    assert.ok(titles.some((t) => want.test(t)), `a chart titled ${want}: ${titles.join(' | ')}`)
  checkCharts(charts, 'report.html')
  assert.equal(await page.locator('p.empty').count(), 0, 'no chart left empty')
  await page.screenshot({ path: join(tmp, 'report.png'), fullPage: true })
  assert.deepEqual(errors, [])

  // The same charts as the standalone files of docs/results/, opened one by one.
  const docs = join(tmp, 'docs')
  writeResultsDocs(docs, [results], [dir])
  for (const file of ['crossover.svg', 'latency.svg', 'capacity.svg', 'l1-gas-breakdown.svg']) {
    await page.goto(`file://${join(docs, 'results', file)}`)
    checkCharts(await page.evaluate(inspectCharts), file)
  }
  await page.close()
})
