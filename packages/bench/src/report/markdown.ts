/**
 * report.md: the comparison as plain Markdown tables (renders on GitHub, in
 * CI job summaries and in a terminal). Every figure comes from results.json;
 * extrapolated ones are marked with † and their fit is printed.
 */
import type { DesignResultJson, ResultsJson } from '../results.ts'
import { fmtEth, fmtEthHours, fmtInt, fmtMs, fmtNum, mdTable, pct, designLabel, l1BackendLine, sweepLabel } from './format.ts'
import { rollupModel } from './models.ts'
import { DIAGNOSTIC_HEAD, LEGEND, STORE_HEAD, bindingPhrase, capacityFormulas, diagnosticRows, fmtRate, modelLimits, seedHead, seedRows, storeRows } from './seed.ts'
import { shardsLine, spreadIntro, spreadTable } from './spread.ts'
import { verdictMarkdown } from './verdict.ts'

const mark = (d: DesignResultJson) => (d.extrapolated ? ' †' : '')

export function summaryRows(r: ResultsJson): string[][] {
  return r.designs.map((d) =>
    d.ran
      ? [
          `${designLabel(d)}${mark(d)}`,
          `${d.succeeded}/${d.payments} (${pct(d.successRate)})`,
          d.capacity === undefined ? '–' : fmtRate(d.capacity.paymentsPerSecond),
          `${fmtMs(d.latencyMs.soft.p50)} / ${fmtMs(d.latencyMs.soft.p95)} / ${fmtMs(d.latencyMs.soft.p99)}`,
          `${fmtMs(d.latencyMs.final.p50)} / ${fmtMs(d.latencyMs.final.p95)} / ${fmtMs(d.latencyMs.final.p99)}`,
          fmtInt(d.l1.gasPerPayment),
          `${fmtNum(d.l1.bytesPerPayment)} / ${fmtNum(d.l1.txBytesPerPayment)}`,
          d.prover === undefined
            ? '–'
            : `${fmtInt(d.prover.constraintsPerPayment.value)} / ${d.prover.cpuSecondsPerPayment === undefined ? '– (not measured)' : `${fmtNum(d.prover.cpuSecondsPerPayment.value)} s`}`,
          fmtInt(d.l1.txs),
          fmtEthHours(d.capital.lockedWeiSeconds),
          d.store.kind === 'sqlite' ? `sqlite ${d.store.synchronous}` : d.store.kind,
          d.conservation.ok ? 'ok' : 'FAILED',
        ]
      : [designLabel(d), 'not run', '–', '–', '–', '–', '–', '–', '–', '–', '–', d.error ?? ''],
  )
}

export const SUMMARY_HEAD = [
  'design',
  'succeeded',
  'capacity, payments/s',
  'soft p50 / p95 / p99',
  'final p50 / p95 / p99',
  'L1 gas / payment',
  'L1 calldata / tx bytes per payment',
  'prover constraints / CPU per payment',
  'L1 txs',
  'capital locked × time',
  'store',
  'funds conserved',
]

/** One line per headline metric: which design leads it in this run (extrapolated leaders keep their †). */
export function atAGlance(r: ResultsJson): string[] {
  const ran = r.designs.filter((d) => d.ran && d.succeeded > 0)
  if (ran.length < 2) return []
  const best = (f: (d: DesignResultJson) => number, lower: boolean) => [...ran].sort((a, b) => (lower ? f(a) - f(b) : f(b) - f(a)))[0]!
  const name = (d: DesignResultJson) => `**${designLabel(d)}**${mark(d)}`
  const gas = best((d) => d.l1.gasPerPayment, true)
  const soft = best((d) => d.latencyMs.soft.p50, true)
  const final = best((d) => d.latencyMs.final.count > 0 ? d.latencyMs.final.p50 : Number.POSITIVE_INFINITY, true)
  const withCap = ran.filter((d) => d.capacity !== undefined)
  const cap = withCap.length > 0 ? [...withCap].sort((a, b) => b.capacity!.paymentsPerSecond - a.capacity!.paymentsPerSecond)[0]! : undefined
  const ok = best((d) => d.successRate, false)
  return [
    `Least L1 gas per payment: ${name(gas)} (${fmtInt(gas.l1.gasPerPayment)}; the L1 baseline pays ${fmtInt(r.designs.find((d) => d.name === 'l1')?.l1.gasPerPayment ?? 21_000)}).`,
    `Fastest acceptance (soft p50): ${name(soft)} (${fmtMs(soft.latencyMs.soft.p50)}); fastest finality (final p50): ${name(final)} (${fmtMs(final.latencyMs.final.p50)}).`,
    `${cap === undefined ? 'No capacity figure' : `Highest capacity: ${name(cap)} (${fmtRate(cap.capacity!.paymentsPerSecond)} payments/s, ${cap.capacity!.source === 'modelled' ? 'modelled' : 'computed from measured costs'}; bound by ${bindingPhrase(cap.capacity!.binding)})`}; best success rate: ${name(ok)} (${pct(ok.successRate)}).`,
  ]
}

const PART_NAMES: Record<string, string> = {
  signAdmit: 'sign + admit',
  batchClose: 'batch closes',
  proverQueue: 'waits for a prover',
  proving: 'proving',
  l1Inclusion: 'L1 inclusion',
}

export const PARTS_HEAD = ['design', 'part of the final latency', 'p50', 'p95', 'mean', 'share of the mean']

/** The final latency split into its parts (designs that report them), one row per part. */
export function partsRows(r: ResultsJson): string[][] {
  return r.designs.flatMap((d) => {
    const parts = d.ran ? d.latencyMs.finalParts : undefined
    if (parts === undefined) return []
    const total = Object.values(parts).reduce((a, p) => a + p.mean, 0)
    return Object.entries(parts).map(([k, p]) => [`${d.name}${mark(d)}`, PART_NAMES[k] ?? k, fmtMs(p.p50), fmtMs(p.p95), fmtMs(p.mean), total > 0 ? pct(p.mean / total) : '–'])
  })
}

/** Prover work in words, per design that proves. */
export function proverLines(r: ResultsJson): string[] {
  return r.designs.flatMap((d) => {
    const p = d.ran ? d.prover : undefined
    if (p === undefined) return []
    return [
      `${d.name}${mark(d)}: ${p.circuit}, ${fmtInt(p.constraintsPerBatch)} constraints per batch, ${fmtInt(p.batches)} batches of which ${fmtInt(p.provenBatches)} proven and verified on L1 in this run, on ${p.workers} proving worker${p.workers === 1 ? '' : 's'}; one proof ${fmtNum(p.wallSecondsPerProof)} s wall, ${p.cpuSecondsPerProof === undefined ? 'CPU not measured' : `${fmtNum(p.cpuSecondsPerProof)} s CPU`}. ` +
        `Constraints per payment ${fmtInt(p.constraintsPerPayment.value)} (${p.constraintsPerPayment.how}); prover CPU per payment ${p.cpuSecondsPerPayment === undefined ? 'not measured (the proving thread’s CPU time is read from /proc on Linux)' : `${fmtNum(p.cpuSecondsPerPayment.value)} s (${p.cpuSecondsPerPayment.source}: ${p.cpuSecondsPerPayment.how})`}.`,
    ]
  })
}

export function renderMarkdown(r: ResultsJson): string {
  const out: string[] = []
  const w = r.workload
  out.push(`# l2bench — ${r.scenario}${r.quick ? ' (quick)' : ''}`)
  out.push('')
  if (r.description) out.push(`${r.description}`, '')
  out.push(
    `${r.seeds === undefined ? `Seed ${r.seed}` : `Seeds ${r.seeds.join(', ')} (headline ${r.seed})`} · ${w.users} users · ${w.pairs} pairs · ${w.payments} payments over ${fmtMs(w.durationSimSeconds * 1000)} simulated · ` +
      `volume ${fmtEth(w.totalVolumeWei)} · L1 block ${w.l1.blockTime} s, ${fmtInt(w.l1.blockGasLimit)} gas · run ${r.startedAt} in ${fmtMs(r.durationMs)}`,
  )
  out.push('')
  out.push(
    `Machine: ${r.machine.os} ${r.machine.arch}, ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGb} GB, Node ${r.machine.node}. ` +
      `Calibration (this run): ${fmtInt(r.calibration.signVerifyPerSecond)} secp256k1 sign+verify/s (noble sign, node:crypto verify), ` +
      `${fmtInt(r.calibration.nodeSignVerifyPerSecond ?? 0)}/s (node:crypto both), ${fmtInt(r.calibration.nobleSignVerifyPerSecond)}/s (noble both), ${fmtInt(r.calibration.sha256PerSecond)} sha256/s.`,
  )
  out.push('')
  out.push(l1BackendLine(r))
  out.push('')
  const shards = shardsLine(r)
  if (shards !== undefined) out.push(shards, '')
  out.push(verdictMarkdown(r))
  out.push('## Summary')
  out.push('')
  out.push(mdTable(SUMMARY_HEAD, summaryRows(r)))
  out.push('')
  const spread = spreadTable(r)
  if (spread !== undefined) {
    out.push('## Over the seeds')
    out.push('')
    out.push(spreadIntro(r))
    out.push('')
    out.push(mdTable(spread.head, spread.rows))
    out.push('')
  }
  const glance = atAGlance(r)
  if (glance.length > 0) {
    out.push(...glance.map((g) => `- ${g}`))
    out.push('')
  }
  out.push(
    'Capacity is what the design sustains as a system — its parties on their own machines, the scenario\'s L1 — computed from costs measured in this run; formulas under "Seed 003\'s table, answered". ' +
      'Latency = wall-clock computation + simulated L1 time the payment waited for (htlc and virtual also add a simulated network delay per message on the critical path, under Notes); *soft* = accepted by the payee or operator, ' +
      '*final* = enforceable on L1. L1 figures include setup (opens, deposits) and settlement (closes, withdrawals), divided by all payments. ' +
      'Capital locked × time is integrated over the simulated payment phase.' +
      (r.designs.some((d) => d.extrapolated) ? ' † = some figures of this design are extrapolated (see below).' : ''),
  )
  out.push('')

  const prover = proverLines(r)
  const parts = partsRows(r)
  if (prover.length > 0 || parts.length > 0) {
    out.push('## Prover work and the final latency in parts')
    out.push('')
    if (prover.length > 0) out.push(...prover.map((l) => `- ${l}`), '')
    if (parts.length > 0) out.push(mdTable(PARTS_HEAD, parts), '')
  }

  out.push(...seedSection(r))

  out.push('## Stores')
  out.push('')
  out.push('Which store and sync mode produced each design\'s figures.')
  out.push('')
  out.push(mdTable(STORE_HEAD, storeRows(r)))
  out.push('')

  const failed = r.designs.filter((d) => d.ran && Object.keys(d.failureReasons).length > 0)
  if (failed.length > 0) {
    out.push('## Failures')
    out.push('')
    out.push(
      mdTable(
        ['design', 'reason', 'payments'],
        failed.flatMap((d) => Object.entries(d.failureReasons).map(([k, v]) => [designLabel(d), k, String(v)])),
      ),
    )
    out.push('')
  }

  out.push('## L1 cost breakdown')
  out.push('')
  for (const d of r.designs.filter((x) => x.ran)) {
    out.push(`### ${designLabel(d)}`)
    out.push('')
    const ops = Object.entries(d.l1.byOperation).sort((a, b) => b[1].gas - a[1].gas)
    out.push(
      mdTable(
        ['operation', 'txs', 'gas', 'gas / tx', 'calldata bytes', 'share of gas'],
        ops.map(([k, v]) => [k, fmtInt(v.txs), fmtInt(v.gas), fmtInt(v.gas / Math.max(1, v.txs)), fmtInt(v.bytes), pct(v.gas / Math.max(1, d.l1.gas))]),
      ),
    )
    out.push('')
    const ph = d.l1.byPhase
    out.push(
      `By phase: setup ${fmtInt(ph.setup.gas)} gas (${ph.setup.txs} txs), payments ${fmtInt(ph.payments.gas)} gas (${ph.payments.txs} txs), ` +
        `settle ${fmtInt(ph.settle.gas)} gas (${ph.settle.txs} txs). Fees ${fmtEth(d.l1.feesWei)}.` +
        (d.l1.reverted > 0 ? ` ${d.l1.reverted} reverted transactions.` : ''),
    )
    const charges = Object.entries(d.l1.byCharge).sort((a, b) => b[1] - a[1])
    out.push('')
    out.push(`By gas-schedule charge: ${charges.map(([k, v]) => `${k} ${fmtInt(v)}`).join(', ') || 'none'}.`)
    out.push('')
  }

  const faults = r.designs.flatMap((d) => d.faults.map((f) => ({ design: designLabel(d), ...f })))
  if (faults.length > 0) {
    out.push('## Adversarial events')
    out.push('')
    out.push(mdTable(['design', 'payment', 'fault', 'outcome', 'honest parties safe'], faults.map((f) => [f.design, String(f.paymentId), f.kind, f.outcome, f.safe ? 'yes' : 'NO'])))
    out.push('')
  }

  if (r.sweeps.length > 0) {
    out.push('## How it grows (sweeps, measured)')
    out.push('')
    out.push(
      mdTable(
        ['dimension', 'value', 'design', 'succeeded', 'harness payments/s', 'gas / payment', 'bytes / payment', 'L1 txs / payment', 'final p50'],
        r.sweeps.map((s) => [
          s.dimension,
          String(s.value),
          designLabel({ name: s.design, variant: s.variant }),
          s.ran ? `${s.succeeded}/${s.payments}` : 'not run',
          fmtNum(s.harnessPaymentsPerSecond),
          fmtInt(s.gasPerPayment),
          fmtNum(s.bytesPerPayment),
          fmtNum(s.txsPerPayment, 3),
          fmtMs(s.finalP50Ms),
        ]),
      ),
    )
    out.push('')
  }
  if (r.fits.length > 0) {
    out.push('## Crossover (extrapolated from fits)')
    out.push('')
    out.push(
      mdTable(
        ['design', 'model', 'a (fixed gas)', 'b (gas per payment)', 'R²', 'points'],
        r.fits.map((f) => [sweepLabel(r.sweeps, f.design), f.model, fmtInt(f.intercept), fmtNum(f.slope), f.r2.toFixed(4), String(f.points)]),
      ),
    )
    out.push('')
    if (r.crossovers.length > 0)
      for (const c of r.crossovers)
        out.push(`- † ${sweepLabel(r.sweeps, c.a)} costs less L1 gas per payment than ${sweepLabel(r.sweeps, c.b)} above **${fmtNum(c.paymentsPerPair)} payments per pair** (${c.from}).`)
    else out.push('No crossover between the fitted designs.')
    const rm = rollupModel(r)
    if (rm !== undefined && !r.fits.some((f) => f.design === 'rollup')) out.push(`- ${rm.formula} (drawn on the crossover chart).`)
    out.push('')
    const lf = r.latencyFits ?? []
    if (lf.length > 0) {
      out.push('Latency over the same sweep (a: what a pair waits for once, e.g. a virtual channel’s open inside its first payment; b: each payment):')
      out.push('')
      out.push(
        mdTable(
          ['design', 'model', 'a (ms, once)', 'b (ms per payment)', 'R²', 'points'],
          lf.map((f) => [f.design, f.model, fmtNum(f.intercept), fmtNum(f.slope), f.r2.toFixed(4), String(f.points)]),
        ),
      )
      out.push('')
      for (const c of r.latencyCrossovers ?? []) out.push(`- † ${c.a} has the lower mean latency than ${c.b} above **${fmtNum(c.paymentsPerPair)} payments per pair** (${c.from}).`)
      out.push('')
    }
  }

  const extra = r.designs.filter((d) => d.extrapolations.length > 0)
  if (extra.length > 0) {
    out.push('## Extrapolated figures')
    out.push('')
    for (const d of extra) for (const e of d.extrapolations) out.push(`- † ${designLabel(d)}: ${e.what} — fit: ${e.fit}; measured at ${e.measuredAt}.`)
    out.push('')
  }

  const notes = r.designs.filter((d) => d.notes.length > 0 || d.error)
  if (notes.length > 0) {
    out.push('## Notes')
    out.push('')
    for (const d of notes) {
      if (d.error) out.push(`- ${designLabel(d)}: ${d.error}`)
      for (const n of d.notes) out.push(`- ${designLabel(d)}: ${n}`)
      if (!d.conservation.ok && d.ran)
        out.push(`- ${designLabel(d)}: FUNDS NOT CONSERVED: ${d.conservation.mismatches.map((m) => `user ${m.user} expected ${m.expected} got ${m.actual}`).join('; ')}`)
    }
    out.push('')
  }

  out.push('## Diagnostics: rate against bound, harness speed')
  out.push('')
  out.push(
    "Each design's payments on one pair timed against its bound — the signatures, verifications and commits one payment needs, with the same primitives and store settings — alternating one by one in short rounds in this process. " +
      'In CPU time the ratio holds still on a shared machine, and the CI gate compares it; in wall time it adds the fsync waits and other processes\' load, so it says how close the design comes to what its crypto and disk allow, with a wide spread. A ratio above 1 would be a bug (the design skipped work its bound says a payment needs). ' +
      'Harness speed is how fast this run pushed the workload through the design, every party in one process on this machine: a diagnostic, not a property of the design.',
  )
  out.push('')
  out.push(mdTable(DIAGNOSTIC_HEAD, diagnosticRows(r)))
  out.push('')

  out.push('## Gas schedule')
  out.push('')
  if (r.l1Backend?.name === 'evm') out.push("The mock's schedule, for reference: this run's gas was measured on a real EVM (see the L1 line at the top).", '')
  out.push(mdTable(['entry', 'gas'], Object.entries(r.gasSchedule).map(([k, v]) => [k, fmtInt(v)])))
  out.push('')
  out.push(`Packages: ${Object.entries(r.packages).map(([k, v]) => `${k}@${v}`).join(', ')}.`)
  out.push('')
  return out.join('\n')
}

/** "Seed 003's table, answered": the table, its legend, the formulas and the limits of the model. */
export function seedSection(r: ResultsJson, heading = '##'): string[] {
  const out: string[] = []
  out.push(`${heading} Seed 003's table, answered`)
  out.push('')
  out.push(
    "Seed 003 closes with a throughput table (Bitcoin L1 7 TPS, Lightning 1,000,000+, Ethereum L1 30, ZK rollup 10,000, Visa 65,000). Here is each design of this run beside the row it answers, from this run's measurements.",
  )
  out.push('')
  out.push(mdTable(seedHead(r), seedRows(r)))
  out.push('')
  out.push(LEGEND)
  out.push('')
  out.push('**Capacity, per design** — G block gas, T block time, g L1 gas per payment:')
  out.push('')
  for (const f of capacityFormulas(r)) {
    out.push(`- **${f.design}** — ${f.line}`)
    for (const i of f.inputs) out.push(`  - ${i}`)
  }
  out.push('')
  out.push('**Limits of the model** — what the capacity formulas leave out:')
  out.push('')
  for (const l of modelLimits(r)) out.push(`- ${l}`)
  out.push('')
  return out
}
