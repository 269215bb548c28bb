/**
 * Micro-benchmarks of the harness itself (tinybench): how long generating a
 * workload, summarising latencies and rendering a report take, so the
 * harness's own overhead stays small next to what it measures.
 */
import { Bench } from 'tinybench'
import { generateWorkload, parseScenario, readResults, renderHtml, summarize } from '../src/index.ts'

const scenario = parseScenario({ name: 'micro', users: 200, payments: 10_000, pairs: { count: 500, distribution: { kind: 'zipf', s: 1.1 } } })
const samples = Array.from({ length: 100_000 }, (_, i) => ((i * 7919) % 100_000) / 10)
const fixture = readResults(new URL('../test/fixtures/results.json', import.meta.url).pathname)

const bench = new Bench({ name: 'harness', time: 300, retainSamples: true })
bench
  .add('generate workload (10,000 payments, zipf)', () => {
    generateWorkload(scenario)
  })
  .add('summarize 100,000 latency samples', () => {
    summarize(samples)
  })
  .add('render report.html from a results fixture', () => {
    renderHtml(fixture)
  })
await bench.run()
console.table(bench.table())
