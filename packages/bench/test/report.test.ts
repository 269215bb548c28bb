import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
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
  assert.ok((html.match(/<svg /g) ?? []).length >= 4, 'crossover, CDF, throughput, gas breakdown')
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
  assert.throws(() => validateResults({ ...raw, schema: 2 }), (e: unknown) => e instanceof ResultsError && e.field === 'schema')
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
  const slower = structuredClone(r)
  const t = slower.gate.find((m) => m.name.endsWith('/throughput_per_signverify'))!
  t.value *= 0.8 // within the tolerance for timing ratios (35-40 %)
  assert.equal(compareGate(base, slower).ok, true)
  t.value *= 0.5
  assert.equal(compareGate(base, slower).ok, false)
  const other = structuredClone(r)
  other.seed = 99
  assert.equal(compareGate(base, other).ok, false, 'a different seed is not comparable')
  const missing = structuredClone(r)
  missing.gate = missing.gate.slice(1)
  assert.equal(compareGate(base, missing).ok, false, 'a metric that disappeared fails the gate')
})
