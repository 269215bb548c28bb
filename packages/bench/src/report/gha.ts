/**
 * github-action-benchmark "custom" JSON: `[{name, unit, value, range?, extra?}]`.
 * That action takes one direction per file (customBiggerIsBetter or
 * customSmallerIsBetter), so a run writes two files.
 */
import type { ResultsJson } from '../results.ts'

export interface GhaEntry {
  name: string
  unit: string
  value: number
  range?: string
  extra?: string
}

export function ghaEntries(r: ResultsJson): { bigger: GhaEntry[]; smaller: GhaEntry[] } {
  const bigger: GhaEntry[] = []
  const smaller: GhaEntry[] = []
  for (const d of r.designs) {
    if (!d.ran) continue
    const tag = `${r.scenario}${r.quick ? ' (quick)' : ''} / ${d.name}`
    const extra = [`seed ${r.seed}`, `${d.succeeded}/${d.payments} succeeded`, d.extrapolated ? 'partly extrapolated' : 'measured', `store ${d.store.kind}${d.store.synchronous === undefined ? '' : ` ${d.store.synchronous}`}`].join('; ')
    if (d.capacity !== undefined)
      bigger.push({ name: `${tag} / capacity`, unit: 'payments/s', value: d.capacity.paymentsPerSecond, extra: `${extra}; ${d.capacity.source}, bound by ${d.capacity.binding}` })
    if (d.boundRatio !== undefined)
      bigger.push({
        name: `${tag} / rate per bound (interleaved, CPU time)`,
        unit: 'ratio',
        value: d.boundRatio.cpu.median,
        range: `${d.boundRatio.cpu.min}–${d.boundRatio.cpu.max}`,
        extra: `${extra}; bound: ${d.boundRatio.bound}`,
      })
    bigger.push({ name: `${tag} / success rate`, unit: 'ratio', value: d.successRate, extra })
    smaller.push({ name: `${tag} / L1 gas per payment`, unit: 'gas', value: d.l1.gasPerPayment, extra })
    smaller.push({ name: `${tag} / L1 bytes per payment`, unit: 'bytes', value: d.l1.bytesPerPayment, extra })
    smaller.push({
      name: `${tag} / soft latency p50`,
      unit: 'ms',
      value: d.latencyMs.soft.p50,
      range: `p95 ${d.latencyMs.soft.p95.toFixed(2)}, p99 ${d.latencyMs.soft.p99.toFixed(2)}`,
      extra,
    })
    smaller.push({
      name: `${tag} / final latency p50`,
      unit: 'ms',
      value: d.latencyMs.final.p50,
      range: `p95 ${d.latencyMs.final.p95.toFixed(2)}, p99 ${d.latencyMs.final.p99.toFixed(2)}`,
      extra,
    })
  }
  return { bigger, smaller }
}
