/**
 * Seed 003's throughput table, answered: per design, its capacity, time to
 * soft and to final, L1 cost per payment (gas, and ETH/USD at the scenario's
 * gas price and ETH price) and capital locked per unit of throughput, beside
 * the figures the seed claims. Every cell says where it came from; the
 * formulas and the limits of the model follow the table. Rendered into
 * report.md, report.html, docs/results.md and the terminal.
 */
import { capacityLine } from '../capacity.ts'
import type { DesignResultJson, FigureJson, ResultsJson, Source } from '../results.ts'
import { fmtInt, fmtMs, fmtNum, designLabel } from './format.ts'

export interface SeedClaim {
  system: string
  tps: string
  finality: string
  cost: string
  capital: string
}

/** The table that closes seed 003 (/work/shared/seeds/003_*.txt, "Throughput Comparison"), verbatim. */
export const SEED_003: readonly SeedClaim[] = [
  { system: 'Bitcoin L1', tps: '7', finality: '~60 min', cost: '$1-50', capital: 'N/A' },
  { system: 'Lightning Network', tps: '1,000,000+', finality: '< 1 sec', cost: '< $0.01', capital: 'Requires channel lockup' },
  { system: 'Ethereum L1', tps: '30', finality: '~12 sec', cost: '$0.50-100', capital: 'N/A' },
  { system: 'ZK-Rollup (payments)', tps: '10,000', finality: '~12 sec (with proof)', cost: '< $0.01', capital: 'No lockup needed' },
  { system: 'Visa', tps: '65,000', finality: 'T+1 day (settlement)', cost: '$0.05-0.30', capital: 'N/A' },
]

/** Which of the seed's rows each design answers. */
export const SEED_ROW: Record<string, string> = {
  l1: 'Ethereum L1',
  channel: 'Lightning Network',
  paych: 'Lightning Network',
  htlc: 'Lightning Network',
  virtual: 'Lightning Network',
  rollup: 'ZK-Rollup (payments)',
}

const WHAT: Record<string, string> = {
  l1: 'Ethereum-style L1 transfers',
  channel: "a direct channel (Lightning's building block)",
  paych: 'one-way voucher channels (Filecoin paych)',
  htlc: 'HTLC payments through a hub (Lightning)',
  virtual: 'Perun virtual channels through a hub',
  rollup: 'ZK rollup',
}

/** A capacity bound's name (capacity.ts) as the verdict says it: "bound by …". */
export function bindingPhrase(name: string): string {
  const phrases: Record<string, string> = {
    'L1 blocks': 'L1 block space',
    'L1 (channel opens and closes)': 'the L1 gas of its channel opens and closes',
    'off-chain (pairs)': "its pairs' update rate",
    'hub forwarding': "the hub's forwarding rate",
    'hub (virtual opens and closes)': "the hub's ledger updates for virtual opens and closes",
    'L1 (ledger opens and closes)': 'the L1 gas of its ledger channel opens and closes',
    prover: 'the prover',
    'L1 data (batches)': 'the L1 gas of its batches',
  }
  return phrases[name] ?? name
}

export const TAGS: Record<Source | 'extrapolated', string> = {
  measured: 'm',
  computed: 'c',
  modelled: 'M',
  parameter: 'p',
  extrapolated: '†',
}

export const LEGEND =
  'Where each figure comes from: (m) measured in this run; (c) computed from measured figures (formulas below the table); (M) modelled — a model stands in for a measurement; (p) a scenario parameter or the workload\'s structure; † partly extrapolated (fits listed under "Extrapolated figures").'

const tag = (s: Source, extrapolated = false) => `(${TAGS[s]}${extrapolated ? '†' : ''})`

export function fmtRate(x: number): string {
  if (!Number.isFinite(x)) return '–'
  if (Number.isInteger(x)) return fmtInt(x)
  if (x >= 100) return fmtInt(x)
  if (x >= 10) return fmtNum(x, 1)
  if (x >= 0.1) return fmtNum(x, 2)
  return x.toPrecision(2)
}

/** USD with enough digits to read a fraction of a cent. */
export function fmtUsd(x: number): string {
  if (x === 0) return '$0'
  if (x >= 1) return `$${x.toFixed(2)}`
  if (x >= 0.01) return `$${x.toFixed(3)}`
  return `$${x.toPrecision(2)}`
}

function fmtEthSmall(eth: number): string {
  if (eth === 0) return '0 ETH'
  if (eth >= 0.01) return `${eth.toFixed(4)} ETH`
  return `${eth.toPrecision(3)} ETH`
}

export interface CostPerPayment {
  gas: number
  eth: number
  usd: number
}

export function costPerPayment(r: ResultsJson, d: DesignResultJson): CostPerPayment {
  const eth = (d.l1.gasPerPayment * Number(BigInt(r.workload.l1.gasPriceWei))) / 1e18
  return { gas: d.l1.gasPerPayment, eth, usd: eth * r.model.ethPriceUsd }
}

/** Mean capital locked ÷ payments per second carried = locked ETH·s per payment (ETH locked per payment/s). */
export function capitalPerThroughput(d: DesignResultJson): number {
  if (d.succeeded === 0) return 0
  return Number(BigInt(d.capital.lockedWeiSeconds) / 10n ** 9n) / 1e9 / d.succeeded
}

export const gweiOf = (wei: string) => Number(BigInt(wei)) / 1e9

export function seedHead(r: ResultsJson): string[] {
  return [
    'design',
    "seed 003's row",
    'capacity, payments/s',
    'seed: TPS',
    'time to soft / final (p50)',
    'seed: finality',
    `L1 cost per payment (${fmtNum(gweiOf(r.workload.l1.gasPriceWei), 2)} gwei, $${fmtInt(r.model.ethPriceUsd)}/ETH)`,
    'seed: cost per txn',
    'capital locked per payment/s',
    'seed: capital efficiency',
  ]
}

/** The table's rows: one per design of the run, then the seed's rows no design answers. */
export function seedRows(r: ResultsJson): string[][] {
  const rows: string[][] = []
  const claim = (system: string) => SEED_003.find((c) => c.system === system)!
  for (const d of r.designs) {
    const s = claim(SEED_ROW[d.name] ?? 'Lightning Network')
    if (!d.ran) {
      rows.push([designLabel(d), s.system, 'not run', s.tps, '–', s.finality, '–', s.cost, '–', s.capital])
      continue
    }
    const x = d.extrapolated
    const cap = d.capacity === undefined ? `– (${d.capacityError ?? 'no capacity inputs'})` : `${fmtRate(d.capacity.paymentsPerSecond)} ${tag(d.capacity.source, x)}`
    const soft = d.latencyMs.soft.count > 0 ? fmtMs(d.latencyMs.soft.p50) : '–'
    const final = d.latencyMs.final.count > 0 ? fmtMs(d.latencyMs.final.p50) : '–'
    const c = costPerPayment(r, d)
    const capital = capitalPerThroughput(d)
    rows.push([
      `${designLabel(d)}${x ? ' †' : ''}`,
      s.system,
      cap,
      s.tps,
      `${soft} / ${final} ${tag('measured', x)}`,
      s.finality,
      `${fmtInt(c.gas)} gas ${tag('measured', x)} = ${fmtEthSmall(c.eth)} = ${fmtUsd(c.usd)} ${tag('computed', x)}`,
      s.cost,
      capital === 0 ? `0 ${tag('measured')}` : `${fmtNum(capital, capital >= 10 ? 0 : 3)} ETH ${tag('computed', x)}`,
      s.capital,
    ])
  }
  const answered = new Set(r.designs.map((d) => SEED_ROW[d.name]))
  for (const s of SEED_003)
    if (!answered.has(s.system)) rows.push(['–', s.system, 'not modelled in l2bench', s.tps, '–', s.finality, '–', s.cost, '–', s.capital])
  return rows
}

const figure = (name: string, f: FigureJson) => `${name} = ${fmtFigure(f)} ${tag(f.source)} — ${f.how}`

const SINGULAR: Record<string, string> = { hubs: 'hub', provers: 'prover', pairs: 'pair' }

function fmtFigure(f: FigureJson): string {
  if (f.unit === 'share of payments') return `${(f.value * 100).toFixed(1)} %`
  return `${fmtRate(f.value)} ${f.value === 1 ? (SINGULAR[f.unit] ?? f.unit) : f.unit}`
}

/** One block per design: the formula with its numbers, then each input and where it came from. */
export function capacityFormulas(r: ResultsJson): { design: string; line: string; inputs: string[] }[] {
  const out: { design: string; line: string; inputs: string[] }[] = []
  for (const d of r.designs) {
    if (!d.ran) continue
    if (d.capacity === undefined) {
      out.push({ design: designLabel(d), line: `no capacity figure: ${d.capacityError ?? 'no capacity inputs'}`, inputs: [] })
      continue
    }
    out.push({
      design: designLabel(d),
      line: `${WHAT[d.name] ?? d.name}: ${capacityLine(d.capacity)}`,
      inputs: Object.entries(d.capacity.inputs).map(([k, f]) => figure(k, f)),
    })
  }
  return out
}

/** What the capacity formulas leave out, with this run's numbers where they bear on it. */
export function modelLimits(r: ResultsJson): string[] {
  const out: string[] = []
  const byName = (n: string) => r.designs.find((d) => d.name === n && d.ran && d.capacity !== undefined)
  const pairs = ['channel', 'paych', 'virtual'].map(byName).filter((d): d is DesignResultJson => d !== undefined)
  const rttMs = 50
  if (pairs.length > 0) {
    const eg = pairs
      .map((d) => {
        const rp = d.capacity!.inputs.r_pair?.value ?? 0
        const M = d.capacity!.inputs.M?.value ?? 0
        const withRtt = M / (rttMs / 1000 + 1 / Math.max(rp, 1e-9))
        return `${designLabel(d)} ${fmtRate(withRtt)}`
      })
      .join(', ')
    out.push(
      `**Network latency between parties.** The per-pair rates are measured with both parties in one process. Each update is a round trip, so at a round-trip time RTT a pair makes at most 1 ÷ (RTT + its compute) updates per second: at ${rttMs} ms the off-chain bounds become ${eg} payments/s.`,
    )
    const skew = pairs
      .map((d) => {
        const share = d.capacity!.inputs.hottestPairShare?.value
        const rp = d.capacity!.inputs.r_pair?.value ?? 0
        return share === undefined || share <= 0 ? undefined : `${designLabel(d)}: the busiest pair carries ${(share * 100).toFixed(1)} % of the payments, so this mix saturates that pair at ${fmtRate(rp / share)} payments/s`
      })
      .filter((x) => x !== undefined)
    out.push(
      `**Concurrency and skew.** M pairs updating at once assumes every party on its own machine, one update at a time, and traffic spread over the matched pairs${skew.length > 0 ? ` (${skew.join('; ')})` : ''}.`,
    )
  }
  out.push(
    '**Mempool contention and fee markets.** Every L1 bound gives the design whole blocks at a fixed gas price. Real blocks are shared with other traffic and the price rises with demand (EIP-1559), so the L1 bounds are ceilings and the USD costs hold at the stated gas price only.',
  )
  const rollup = byName('rollup')
  if (rollup !== undefined)
    out.push(
      `**Prover hardware.** The prover rate (${fmtInt(rollup.capacity!.inputs.c?.value ?? 0)} constraints/s) is snarkjs (JavaScript and WebAssembly, one worker thread) on this machine's CPU. Native or GPU provers are commonly one to two orders of magnitude faster, and P provers (model.provers = ${r.model.provers}) are taken to scale linearly. Proving time is taken as linear in the circuit's slots. The operator's admission of transfers (signature check, tree update, single-threaded here) is not counted as a bound; its cost shows in the soft latency. Batch data goes on L1 as calldata (no EIP-4844 blobs, which would raise the L1 data bound).`,
    )
  const htlc = byName('htlc')
  if (htlc !== undefined && htlc.capacity!.source === 'modelled')
    out.push(
      `**HTLC hub.** ${designLabel(htlc)}: the router's simulator forwards without signatures or persistence, so the hub's forwarding rate is modelled from this machine's measured primitives (four channel updates per forwarded payment). A hub on several cores, or several hubs, would multiply it.`,
    )
  out.push(
    "**Finality.** Final means enforceable on the mock L1: included in one block (no reorgs), after the proof for the rollup. Ethereum's economic finality takes about two epochs (≈ 13 min), and Bitcoin's customary six confirmations about an hour.",
  )
  if (r.designs.some((d) => d.ran && BigInt(d.capital.lockedWeiSeconds) > 0n))
    out.push(
      "**Capital.** Channel deposits (direct channels, voucher channels, the HTLC hub's channels, the virtual channels' ledgers and their shares) and rollup deposits are perfect foresight for this workload (peak outflow × headroom) unless the scenario fixes them (capital.channelDeposit): a floor. Real parties lock more against unknown future payments. Rollup deposits are locked too: off L1, though spendable with any rollup user.",
    )
  const disk = r.designs.filter((d) => d.ran && d.store.kind === 'sqlite')
  if (disk.length > 0)
    out.push(
      `**Disk.** The off-chain rates include this machine's SQLite commits (${disk.map((d) => `${designLabel(d)}: synchronous=${d.store.synchronous}`).join(', ')}${disk[0]!.store.filesystem === undefined ? '' : `, ${disk[0]!.store.filesystem}`}); another disk changes them.`,
    )
  return out
}

/** Per design, which store and sync mode produced its figures. */
export function storeRows(r: ResultsJson): string[][] {
  return r.designs.filter((d) => d.ran).map((d) => [designLabel(d), d.store.kind, d.store.synchronous ?? '–', d.store.description])
}

export const STORE_HEAD = ['design', 'store', 'synchronous', 'what produced these figures']

/** The interleaved rate ÷ bound ratios and the harness's own speed (diagnostics). */
export function diagnosticRows(r: ResultsJson): string[][] {
  return r.designs
    .filter((d) => d.ran)
    .map((d) => {
      const b = d.boundRatio
      return [
        designLabel(d),
        b === undefined ? 'none (no crypto on its payment path)' : b.bound,
        b === undefined ? '–' : `${b.cpu.median.toFixed(3)} (${b.cpu.min.toFixed(3)}–${b.cpu.max.toFixed(3)})`,
        b === undefined ? '–' : `${b.wall.median.toFixed(3)} (${b.wall.min.toFixed(3)}–${b.wall.max.toFixed(3)})`,
        b === undefined ? '–' : fmtRate(b.designPerSecond),
        b === undefined ? '–' : fmtRate(b.boundPerSecond),
        `${fmtRate(d.harness.paymentsPerSecond)}${d.extrapolated ? ' †' : ''}`,
      ]
    })
}

export const DIAGNOSTIC_HEAD = [
  'design',
  'bound: the least work of one payment',
  'rate ÷ bound, CPU time (gated): median (min–max)',
  'rate ÷ bound, wall time: median (min–max)',
  'one pair, payments/s (wall)',
  'bound, runs/s (wall)',
  'harness speed, payments/s (wall clock)',
]
