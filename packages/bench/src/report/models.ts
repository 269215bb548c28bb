/** Modelled figures the reports draw beside the measured ones (each marked † with its formula). */
import type { ResultsJson } from '../results.ts'
import { fmtInt } from './format.ts'

/**
 * The rollup on the crossover chart. Its per-payment runs are too slow for the
 * payments-per-pair sweep, so its line is a model from the main run's own
 * figures (marked †): a lone pair pays two deposits (the measured gas of one
 * deposit each) and, per payment, the run's measured batch gas per transfer
 * (all non-deposit gas ÷ its payments):  gas/payment(n) = 2·deposit/n + batch.
 */
export function rollupModel(r: ResultsJson): { deposit: number; batch: number; perPayment: (n: number) => number; formula: string } | undefined {
  const d = r.designs.find((x) => x.name === 'rollup' && x.ran && x.payments > 0)
  if (d === undefined) return undefined
  const dep = Object.entries(d.l1.byOperation).find(([k]) => /\.deposit$/.test(k))?.[1]
  if (dep === undefined || dep.txs === 0) return undefined
  const deposit = dep.gas / dep.txs
  const batch = (d.l1.gas - dep.gas) / d.payments
  return {
    deposit,
    batch,
    perPayment: (n) => (2 * deposit) / n + batch,
    formula: `rollup model †: gas/payment = 2 × ${fmtInt(deposit)} (one deposit per user, measured) / n + ${fmtInt(batch)} (batch gas per transfer in this run, measured)`,
  }
}
