/**
 * The verdict: which design wins this run's workload, and why — in a few
 * sentences, every figure read from results.json. It leads report.md,
 * report.html and docs/results.md.
 *
 * "Wins" means the least L1 gas per payment (what a Layer-2 design exists to
 * cut) among the designs that ran, conserved funds and completed at least
 * 95 % of their payments. The why is the workload's shape (payments per
 * pair) against each design's fixed on-chain cost, and the latency and
 * capacity trade-offs follow (capacity: what the design sustains as a
 * system, capacity.ts — never the harness's own speed). `**x**` marks emphasis (Markdown; the HTML
 * renderer turns it into <b>).
 */
import type { DesignResultJson, ResultsJson } from '../results.ts'
import { designLabel, escapeHtml, fmtInt, fmtMs, fmtNum, pct, sweepLabel } from './format.ts'
import { bindingPhrase, fmtRate } from './seed.ts'

export interface Verdict {
  /** One sentence: the winner and by how much. */
  headline: string
  /** Why, and the trade-offs. */
  reasons: string[]
}

const MIN_SUCCESS = 0.95

const dag = (d: DesignResultJson) => (d.extrapolated ? ' †' : '')
const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN)
const times = (x: number) => (x >= 10 ? `${fmtInt(x)}×` : `${x.toFixed(x >= 1 ? 1 : 2)}×`)

export function verdict(r: ResultsJson): Verdict {
  const ran = r.designs.filter((d) => d.ran)
  const eligible = ran.filter((d) => d.conservation.ok && d.successRate >= MIN_SUCCESS && d.succeeded > 0)
  const excluded = ran.filter((d) => !eligible.includes(d))
  const notRun = r.designs.filter((d) => !d.ran)
  const tail: string[] = []
  if (excluded.length > 0)
    tail.push(
      `Not in the running: ${excluded.map((d) => `${designLabel(d)} (${!d.conservation.ok ? 'funds not conserved' : `${pct(d.successRate)} of payments succeeded`})`).join(', ')}.`,
    )
  if (notRun.length > 0) tail.push(`Did not run: ${notRun.map((d) => designLabel(d)).join(', ')} — see the notes.`)
  if (eligible.length === 0) return { headline: 'No verdict: no design completed the workload with funds conserved.', reasons: tail }
  const byGas = [...eligible].sort((a, b) => a.l1.gasPerPayment - b.l1.gasPerPayment)
  const win = byGas[0]!
  const l1 = r.designs.find((d) => d.name === 'l1' && d.ran)
  const w = r.workload
  const perPair = w.payments / Math.max(1, w.pairs)
  if (eligible.length === 1)
    return {
      headline: `Only **${designLabel(win)}**${dag(win)} completed the workload: ${fmtInt(win.l1.gasPerPayment)} L1 gas per payment, nothing to compare it with.`,
      reasons: tail,
    }

  const vsL1 = l1 !== undefined && win !== l1 ? `, ${times(ratio(win.l1.gasPerPayment, l1.l1.gasPerPayment))} the L1 baseline's ${fmtInt(l1.l1.gasPerPayment)}` : ''
  const headline =
    `**${designLabel(win)}**${dag(win)} wins this workload on L1 cost: ${fmtInt(win.l1.gasPerPayment)} gas per payment${vsL1}, ` +
    `with ${pct(win.successRate)} of its payments succeeding.`

  const reasons: string[] = []
  const fixed = win.l1.byPhase.setup.gas + win.l1.byPhase.settle.gas
  const shape = `This workload has ${fmtNum(perPair, 1)} payments per pair on average (${fmtInt(w.payments)} payments among ${fmtInt(w.users)} users over ${fmtInt(w.pairs)} pairs).`
  if (win.name === 'l1') {
    reasons.push(
      `${shape} Too few for any design's fixed on-chain cost (opening and closing channels, deposits) to pay off against one ${fmtInt(win.l1.gasPerPayment)}-gas transfer per payment.`,
    )
  } else {
    const share = win.l1.gas > 0 ? fixed / win.l1.gas : 0
    reasons.push(
      `${shape} ${pct(share)} of ${designLabel(win)}'s L1 gas is fixed cost (setup and settlement: ${fmtInt(win.l1.byPhase.setup.txs + win.l1.byPhase.settle.txs)} transactions) ` +
        `shared by all ${fmtInt(win.payments)} payments${win.l1.byPhase.payments.txs > 0 ? `; the payments themselves put ${fmtInt(win.l1.byPhase.payments.txs)} transactions on the L1` : '; the payments themselves put nothing on the L1'}.`,
    )
  }
  const second = byGas[1]
  if (second !== undefined)
    reasons.push(
      `Runner-up: **${designLabel(second)}**${dag(second)} at ${fmtInt(second.l1.gasPerPayment)} gas per payment (${times(ratio(second.l1.gasPerPayment, Math.max(1, win.l1.gasPerPayment)))} the winner's).`,
    )
  const cross = r.crossovers.filter((c) => c.b === 'l1').sort((a, b) => a.paymentsPerPair - b.paymentsPerPair)
  if (cross.length > 0)
    reasons.push(
      `Break-even against L1 for a single pair †: ${cross.map((c) => `${sweepLabel(r.sweeps, c.a)} above ${fmtNum(c.paymentsPerPair)} payments per pair`).join(', ')} (fits over the payments-per-pair sweep).`,
    )
  const soft = [...eligible].sort((a, b) => a.latencyMs.soft.p50 - b.latencyMs.soft.p50)[0]!
  const finals = eligible.filter((d) => d.latencyMs.final.count > 0)
  const final = [...finals].sort((a, b) => a.latencyMs.final.p50 - b.latencyMs.final.p50)[0]
  const withCap = eligible.filter((d) => d.capacity !== undefined)
  const cap = [...withCap].sort((a, b) => b.capacity!.paymentsPerSecond - a.capacity!.paymentsPerSecond)[0]
  const lat =
    soft === win && final === win
      ? `${designLabel(win)} is also the fastest: ${fmtMs(win.latencyMs.soft.p50)} to acceptance and ${fmtMs(win.latencyMs.final.p50)} to finality (p50).`
      : final === soft && soft.latencyMs.final.p50 === soft.latencyMs.soft.p50
        ? `If latency matters more: **${designLabel(soft)}**${dag(soft)} accepts a payment and makes it final in ${fmtMs(soft.latencyMs.soft.p50)} (p50), against ${fmtMs(win.latencyMs.soft.p50)} / ${fmtMs(win.latencyMs.final.p50)} (soft / final) for ${designLabel(win)}.`
        : `If latency matters more: **${designLabel(soft)}**${dag(soft)} accepts a payment in ${fmtMs(soft.latencyMs.soft.p50)} (p50)` +
          (final === undefined ? '' : ` and **${designLabel(final)}**${dag(final)} makes it final in ${fmtMs(final.latencyMs.final.p50)}`) +
          `, against ${fmtMs(win.latencyMs.soft.p50)} / ${fmtMs(win.latencyMs.final.p50)} (soft / final) for ${designLabel(win)}.`
  reasons.push(lat)
  if (cap !== undefined) {
    const how = (d: DesignResultJson) => `${fmtRate(d.capacity!.paymentsPerSecond)} payments/s, bound by ${bindingPhrase(d.capacity!.binding)}${d.capacity!.source === 'modelled' ? ', modelled' : ''}`
    reasons.push(
      cap === win
        ? `${designLabel(win)} also has the highest capacity here (${how(win)}).`
        : `Highest capacity: **${designLabel(cap)}**${dag(cap)} (${how(cap)})${win.capacity === undefined ? '' : `; ${designLabel(win)} ${how(win)}`}. Capacity is computed from the costs measured in this run (formulas with the seed-003 table).`,
    )
  }
  const virt = eligible.find((d) => d.name === 'virtual')
  const htlc = eligible.find((d) => d.name === 'htlc')
  if (virt !== undefined && htlc !== undefined) reasons.push(virtualVsHub(virt, htlc))
  if (eligible.some((d) => d.extrapolated)) reasons.push('† = partly extrapolated; the fits and what they rest on are listed with the figures.')
  reasons.push(...tail)
  return { headline, reasons }
}

/**
 * Perun's trade against an HTLC hub, from the run: both stand on one channel
 * per user with a hub; a virtual-channel payment leaves the hub out (a direct
 * two-party update) at the price of the hub's ledger updates for each virtual
 * channel's open and close, and its collateral locked for the channel's life.
 */
function virtualVsHub(v: DesignResultJson, h: DesignResultJson): string {
  const u = v.capacity?.inputs.u_hub?.value
  const updates = u === undefined ? '' : `, the hub signing ${fmtNum(u, 2)} ledger updates per payment for the virtual opens and closes (an HTLC hub takes part in every payment)`
  return (
    `Virtual channels against the HTLC hub: the same ledger channel per user to a hub (${fmtInt(v.l1.gasPerPayment)} vs ${fmtInt(h.l1.gasPerPayment)} L1 gas per payment); ` +
    `a virtual payment is a direct two-party update the hub never sees (${fmtMs(v.latencyMs.soft.p50)} vs ${fmtMs(h.latencyMs.soft.p50)} p50, a pair's first payment waiting for the virtual open)${updates}; ` +
    "the price is the hub's collateral locked for each virtual channel's life (its collateral × time is under Notes)."
  )
}

export function verdictMarkdown(r: ResultsJson): string {
  const v = verdict(r)
  return ['## Verdict', '', v.headline, '', ...v.reasons.map((x) => `- ${x}`), ''].join('\n')
}

const bold = (s: string) => escapeHtml(s).replace(/\*\*([^*]+)\*\*/g, '<b>$1</b>')

export function verdictHtml(r: ResultsJson): string {
  const v = verdict(r)
  return `<section id="verdict" class="verdict"><h2>Verdict</h2><p class="headline">${bold(v.headline)}</p><ul>${v.reasons.map((x) => `<li>${bold(x)}</li>`).join('')}</ul></section>`
}
