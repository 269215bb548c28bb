/**
 * System capacity per design: the payments per second a design sustains as a
 * system — its parties on their own machines, the scenario's L1 — computed
 * from the per-operation costs measured in the run. Each formula is printed
 * with its numbers; each input carries where it came from.
 *
 *   l1       G ÷ g ÷ T
 *   channel,
 *   paych    min(r_pair × M, G ÷ g ÷ T)
 *   virtual  min(r_pair × M, r_pair ÷ u_hub, G ÷ g ÷ T)
 *   htlc     min(f_hub × H, G ÷ g ÷ T)
 *   rollup   min(c × P ÷ k, G ÷ g_tx ÷ T)
 *
 * G block gas limit, T block time (scenario); g the design's L1 gas per
 * payment in this run (every open, close, top-up and dispute ÷ payments:
 * what each payment costs the L1 over the channels' lifetime); r_pair one
 * pair's update rate (interleaved probe); M pairs that can update at once
 * (maximum matching of the channel graph: no party in two updates at a
 * time); u_hub the hub's ledger updates per payment (a virtual channel's
 * locks and unlocks, one update each, as fast as a pair's update); f_hub
 * the hub's forwarding rate, H hubs; c the prover's measured
 * constraints/s, P provers (scenario), k constraints per payment; g_tx the L1
 * gas one transfer adds to a full batch.
 *
 * The harness's own wall-clock speed plays no part: it stays in results.json
 * as a diagnostic.
 */
import type { CapacityInputs } from './design.ts'
import { fmtInt, fmtNum } from './report/format.ts'
import type { BoundJson, BoundRatioJson, CapacityJson, DesignResultJson, FigureJson, Source } from './results.ts'

export interface CapacityContext {
  blockGasLimit: number
  blockTimeSeconds: number
  provers: number
}

const sig = (x: number) => Number(x.toPrecision(4))
const num = (x: number) => (Number.isInteger(x) || x >= 100 ? fmtInt(x) : fmtNum(x, x >= 10 ? 1 : 2))

function param(value: number, unit: string, how: string): FigureJson {
  return { value, unit, source: 'parameter', how }
}

/** The L1 bound: block gas ÷ L1 gas per payment ÷ block time. Undefined when payments put no gas on L1. */
export function l1Bound(gasPerPayment: number, ctx: CapacityContext, name = 'L1 blocks'): BoundJson | undefined {
  if (!(gasPerPayment > 0)) return undefined
  return {
    name,
    paymentsPerSecond: sig(ctx.blockGasLimit / gasPerPayment / ctx.blockTimeSeconds),
    formula: `${fmtInt(ctx.blockGasLimit)} gas per block ÷ ${fmtInt(gasPerPayment)} gas per payment ÷ ${ctx.blockTimeSeconds} s`,
    source: 'computed',
  }
}

function lifecycleGas(d: DesignResultJson, what: string): FigureJson {
  return {
    value: d.l1.gasPerPayment,
    unit: 'gas/payment',
    source: 'measured',
    how: `all of the design's L1 gas in this run (${what}) ÷ ${fmtInt(d.payments)} payments${d.extrapolated ? ' (partly extrapolated, †)' : ''}`,
  }
}

function finish(model: string, bounds: (BoundJson | undefined)[], inputs: Record<string, FigureJson>): CapacityJson {
  const list = bounds.filter((b): b is BoundJson => b !== undefined)
  const binding = [...list].sort((a, b) => a.paymentsPerSecond - b.paymentsPerSecond)[0]!
  const modelled = Object.values(inputs).some((f) => f.source === 'modelled')
  return { paymentsPerSecond: binding.paymentsPerSecond, source: modelled ? 'modelled' : 'computed', model, bounds: list, binding: binding.name, inputs }
}

const worst = (...xs: Source[]): Source => (xs.includes('modelled') ? 'modelled' : 'computed')

/**
 * Capacity from a design's inputs, its results and (channel designs) its
 * probe. Throws a RangeError naming what is missing when a formula lacks an
 * input (the caller reports it as `capacityError`).
 */
export function computeCapacity(inputs: CapacityInputs, d: DesignResultJson, probe: BoundRatioJson | undefined, ctx: CapacityContext): CapacityJson {
  const G = param(ctx.blockGasLimit, 'gas/block', 'scenario l1.blockGasLimit')
  const T = param(ctx.blockTimeSeconds, 's', 'scenario l1.blockTime')
  switch (inputs.model) {
    case 'l1': {
      const g: FigureJson = { value: d.l1.gasPerPayment, unit: 'gas/payment', source: 'measured', how: 'L1 gas of the transfers in this run ÷ payments (receipts)' }
      const b = l1Bound(g.value, ctx)
      if (b === undefined) throw new RangeError('l1: no gas per payment')
      return finish('G ÷ g ÷ T', [b], { G, g, T })
    }
    case 'channels': {
      const r: FigureJson | undefined =
        inputs.perPairRate ??
        (probe === undefined
          ? undefined
          : {
              value: probe.designPerSecond,
              unit: 'payments/s',
              source: 'measured',
              how: `1 ÷ the median time of one payment, one pair paying back to back with both parties in this process, over ${probe.rounds} rounds interleaved with the bound (${probe.bound})`,
            })
      if (r === undefined) throw new RangeError(`${d.name}: no per-pair update rate (the probe did not run)`)
      const M = inputs.concurrentPairs
      const g = lifecycleGas(d, 'opens, confirms, closes, top-ups, disputes')
      const off: BoundJson = {
        name: 'off-chain (pairs)',
        paymentsPerSecond: sig(r.value * M.value),
        formula: `${num(r.value)} payments/s per pair × ${fmtInt(M.value)} pairs updating at once`,
        source: worst(r.source, M.source),
      }
      const inputsOut: Record<string, FigureJson> = { r_pair: r, M, G, g, T }
      if (inputs.hottestPairShare !== undefined) inputsOut.hottestPairShare = inputs.hottestPairShare
      const u = inputs.hubUpdatesPerPayment
      if (u === undefined) return finish('min(r_pair × M, G ÷ g ÷ T)', [off, l1Bound(g.value, ctx, 'L1 (channel opens and closes)')], inputsOut)
      inputsOut.u_hub = u
      const hub: BoundJson = {
        name: 'hub (virtual opens and closes)',
        paymentsPerSecond: sig(r.value / Math.max(u.value, 1e-12)),
        formula: `${num(r.value)} ledger updates/s at the hub ÷ ${fmtNum(u.value, 3)} hub updates per payment`,
        source: worst(r.source, u.source),
      }
      return finish('min(r_pair × M, r_pair ÷ u_hub, G ÷ g ÷ T)', [off, hub, l1Bound(g.value, ctx, 'L1 (ledger opens and closes)')], inputsOut)
    }
    case 'hub': {
      const { forwardRate: f, hubs: H } = inputs
      const g = lifecycleGas(d, 'channel opens and closes, on-chain HTLC resolutions')
      const off: BoundJson = {
        name: 'hub forwarding',
        paymentsPerSecond: sig(f.value * H.value),
        formula: `${num(f.value)} payments/s forwarded per hub × ${num(H.value)} hub${H.value === 1 ? '' : 's'}`,
        source: worst(f.source, H.source),
      }
      return finish('min(f_hub × H, G ÷ g ÷ T)', [off, l1Bound(g.value, ctx, 'L1 (channel opens and closes)')], { f_hub: f, H, G, g, T })
    }
    case 'rollup': {
      const { proverConstraintsPerSecond: c, constraintsPerPayment: k, gasPerTransfer: gt } = inputs
      const P = param(ctx.provers, 'provers', 'scenario model.provers')
      const prover: BoundJson = {
        name: 'prover',
        paymentsPerSecond: sig((c.value * P.value) / k.value),
        formula: `${fmtInt(c.value)} constraints/s × ${fmtInt(P.value)} prover${P.value === 1 ? '' : 's'} ÷ ${fmtInt(k.value)} constraints per payment`,
        source: worst(c.source, k.source),
      }
      const data = l1Bound(gt.value, ctx, 'L1 data (batches)')
      if (data !== undefined) data.formula = `${fmtInt(ctx.blockGasLimit)} gas per block ÷ ${fmtNum(gt.value, 0)} gas per transfer in a batch ÷ ${ctx.blockTimeSeconds} s`
      return finish('min(c × P ÷ k, G ÷ g_tx ÷ T)', [prover, data], { c, P, k, G, g_tx: gt, T })
    }
  }
}

/** The capacity formula of a design with its numbers, one line: "min(a, b) = min(x, y) = z payments/s". */
export function capacityLine(c: CapacityJson): string {
  const parts = c.bounds.map((b) => `${b.name}: ${b.formula} = ${num(b.paymentsPerSecond)}`)
  return `${c.model} → ${parts.join('; ')} ⇒ ${num(c.paymentsPerSecond)} payments/s (bound: ${c.binding})`
}
