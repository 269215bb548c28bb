/**
 * HTLC benchmarks over real channels (not tests): every figure is measured
 * in the run that prints it.
 *
 *  1. Multi-hop payments per second through 1, 2, 3 and 5 hops, in process:
 *     HtlcNodes on a line, real secp256k1 signatures (node:crypto), in-memory
 *     stores and links, one MockL1. Each payment: invoice, add on every hop
 *     (each a countersigned update), settle back on every hop. Measured
 *     sequentially (one payment at a time: latency) and with 16 in flight
 *     (throughput; one update per channel at a time, so they queue per hop).
 *     Beside them, raw sign and verify loops measured just before and after
 *     each sequential run (mean),
 *     and the bound they imply: a hop costs 2 updates × (2 signs + 2 verifies).
 *  2. Gas of on-chain HTLC resolution on the HtlcAdjudicator: registering a
 *     state with locked HTLCs (marginal gas per HTLC), finalizing, claiming
 *     with the preimage (first reveal, which writes the registry, and a second
 *     HTLC with the same hash), and the refund after expiry.
 *
 * Run: `npm run bench` in packages/htlc-router (both bench files) or
 *   node --conditions=@l2bench/source --import tsx bench/htlc.ts [--quick]
 * `runHtlcBench()` returns the same figures as data for the bench harness.
 */
import { loadavg } from 'node:os'
import { pathToFileURL } from 'node:url'
import { NodeSigner, nodeVerifier, secretKeyFromSeed, sha256 } from '@l2bench/core'
import type { Receipt } from '@l2bench/l1-mock'
import { HtlcNetwork, type HtlcNode, type NetworkChannelSpec, drainEventLoop as settle } from '../src/index.ts'

export interface HopFigures {
  hops: number
  payments: number
  /** One payment at a time. */
  sequentialPerSec: number
  msPerPayment: number
  /** 16 payments in flight. */
  concurrentPerSec: number
  /** Raw rates of plain loops run just before and just after the sequential run of this row (mean). */
  rawSignPerSec: number
  rawVerifyPerSec: number
  /** Payments/s if signing and verifying were all a payment cost: 1 / (4·hops/sign + 4·hops/verify). */
  signatureBoundPerSec: number
  /**
   * The same three rates per second of this process's CPU time (user +
   * system): steadier than wall time when other jobs share the cores.
   */
  sequentialPerCpuSec: number
  rawSignPerCpuSec: number
  rawVerifyPerCpuSec: number
  signatureBoundPerCpuSec: number
}

export interface GasFigures {
  /** register of a state with no locked entry, and with `locks` entries. */
  registerNoLocks: number
  registerWithLocks: number
  locks: number
  registerPerLock: number
  finalizeWithLocks: number
  /** resolveLocked with the preimage: first reveal (registry write + event). */
  claimFirstReveal: number
  /** resolveLocked with the preimage of a hash already registered. */
  claimKnownHash: number
  /** resolveLocked without witness after the expiry. */
  refundAfterExpiry: number
  /** Gas of each claim/refund by schedule entry (first reveal). */
  claimBreakdown: Record<string, number>
}

export interface HtlcBenchResult {
  quick: boolean
  hops: HopFigures[]
  gas: GasFigures
}

const HOPS = [1, 2, 3, 5]
const DEPOSIT = 10n ** 15n

/** CPU seconds (user + system) since `start`. */
const cpuSec = (start: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(start)
  return (d.user + d.system) / 1e6
}

function rawRates(ops: number): { sign: number; verify: number; signCpu: number; verifyCpu: number } {
  const signer = new NodeSigner(secretKeyFromSeed('bench:raw'))
  const digests = Array.from({ length: 64 }, (_, i) => sha256(Uint8Array.of(i)))
  const sigs = digests.map((d) => signer.sign(d))
  let t = performance.now()
  let c = process.cpuUsage()
  for (let i = 0; i < ops; i++) signer.sign(digests[i & 63] as Uint8Array)
  const sign = ops / ((performance.now() - t) / 1000)
  const signCpu = ops / cpuSec(c)
  let ok = 0
  t = performance.now()
  c = process.cpuUsage()
  for (let i = 0; i < ops; i++) if (nodeVerifier.verify(sigs[i & 63] as Uint8Array, digests[i & 63] as Uint8Array, signer.publicKey)) ok++
  const verify = ops / ((performance.now() - t) / 1000)
  const verifyCpu = ops / cpuSec(c)
  if (ok !== ops) throw new Error('raw verify loop: a valid signature failed')
  return { sign, verify, signCpu, verifyCpu }
}

async function lineNetwork(hops: number): Promise<HtlcNetwork> {
  const channels: NetworkChannelSpec[] = []
  for (let i = 0; i < hops; i++) channels.push({ a: i, b: i + 1, depositA: DEPOSIT, depositB: DEPOSIT, policyAB: { baseFee: 1n, feeRatePpm: 0n, cltvDelta: 18 } })
  return HtlcNetwork.create({ nodes: hops + 1, channels, seed: `bench-line-${hops}` })
}

async function payOnce(net: HtlcNetwork, hops: number, route: ReturnType<HtlcNetwork['toHtlcRoute']>): Promise<void> {
  const receiver = net.nodes[hops] as HtlcNode
  const inv = receiver.createInvoice(1000n)
  const out = await (net.nodes[0] as HtlcNode).sendPayment(inv.hash, route)
  if (out.status !== 'settled') throw new Error(`payment failed: ${JSON.stringify(out)}`)
}

async function hopFigures(hops: number, payments: number): Promise<HopFigures> {
  const net = await lineNetwork(hops)
  try {
    const route = net.toHtlcRoute(net.findRoute(0, hops, 1000n))
    for (let i = 0; i < 10; i++) await payOnce(net, hops, route) // warm-up
    const rawOps = Math.max(500, payments * 4 * hops)
    const before = rawRates(rawOps)
    let t = performance.now()
    const c = process.cpuUsage()
    for (let i = 0; i < payments; i++) await payOnce(net, hops, route)
    const seqMs = performance.now() - t
    const seqCpu = cpuSec(c)
    // Raw loops just before and just after the sequential run, averaged (the load on a shared machine drifts).
    const after = rawRates(rawOps)
    const raw = {
      sign: (before.sign + after.sign) / 2,
      verify: (before.verify + after.verify) / 2,
      signCpu: (before.signCpu + after.signCpu) / 2,
      verifyCpu: (before.verifyCpu + after.verifyCpu) / 2,
    }
    const inFlight = 16
    t = performance.now()
    for (let done = 0; done < payments; done += inFlight) {
      const batch = Math.min(inFlight, payments - done)
      await Promise.all(Array.from({ length: batch }, () => payOnce(net, hops, route)))
    }
    const conMs = performance.now() - t
    await settle()
    for (const n of net.nodes) if (n.pendingHtlcs().length > 0) throw new Error('HTLCs left pending after the run')
    const perSig = (4 * hops) / raw.sign + (4 * hops) / raw.verify
    const perSigCpu = (4 * hops) / raw.signCpu + (4 * hops) / raw.verifyCpu
    return {
      hops,
      payments,
      sequentialPerSec: payments / (seqMs / 1000),
      msPerPayment: seqMs / payments,
      concurrentPerSec: payments / (conMs / 1000),
      rawSignPerSec: raw.sign,
      rawVerifyPerSec: raw.verify,
      signatureBoundPerSec: 1 / perSig,
      sequentialPerCpuSec: payments / seqCpu,
      rawSignPerCpuSec: raw.signCpu,
      rawVerifyPerCpuSec: raw.verifyCpu,
      signatureBoundPerCpuSec: 1 / perSigCpu,
    }
  } finally {
    net.stop()
  }
}

async function gasFigures(): Promise<GasFigures> {
  const locks = 3
  const net = await HtlcNetwork.create({
    nodes: ['alice', 'bob'],
    channels: [
      { a: 0, b: 1, depositA: 10n ** 9n, depositB: 0n },
      { a: 0, b: 1, depositA: 10n ** 9n, depositB: 0n },
    ],
    seed: 'bench-gas',
    disputeWindow: 6,
  })
  try {
    const [alice, bob] = net.nodes as [HtlcNode, HtlcNode]
    const [withLocks, noLocks] = net.channelIds as [Uint8Array, Uint8Array]
    bob.withholding = true
    const inv = bob.createInvoice(1000n)
    const other = bob.createInvoice(1000n)
    const h = BigInt(net.l1.head().height)
    // Two HTLCs with the invoice's hash (to claim), one with another hash (to refund).
    // Their promises stay pending: the HTLCs resolve by hand below, with both nodes stopped.
    void [
      alice.sendPayment(inv.hash, [{ channelId: withLocks, amount: 1000n, expiry: h + 100n }]),
      alice.sendPayment(inv.hash, [{ channelId: withLocks, amount: 1000n, expiry: h + 100n }]),
      alice.sendPayment(other.hash, [{ channelId: withLocks, amount: 1000n, expiry: h + 40n }]),
    ]
    await settle()
    net.setLinked(0, 1, false)
    const locked = bob.channel.status(withLocks).locked
    if (locked.length !== locks) throw new Error(`expected ${locks} locked entries, got ${locked.length}`)
    if (bob.channel.status(noLocks).locked.length !== 0) throw new Error('the comparison channel should have no locked entry')
    const stop = (n: HtlcNode) => n.stop() // manual steps from here: no automatic claims
    stop(alice)
    stop(bob)
    const reg = await bob.channel.forceClose({ channelId: withLocks })
    const reg0 = await bob.channel.forceClose({ channelId: noLocks })
    net.l1.mine(7)
    const fin = await bob.channel.client.finalize(withLocks)
    const claim1 = await bob.channel.client.resolveLocked(withLocks, (locked[0] as { id: Uint8Array }).id, inv.preimage)
    const claim2 = await bob.channel.client.resolveLocked(withLocks, (locked[1] as { id: Uint8Array }).id, inv.preimage)
    net.l1.advanceTo(Number(h + 40n))
    const refund = await alice.channel.client.resolveLocked(withLocks, (locked[2] as { id: Uint8Array }).id)
    for (const r of [reg, reg0, fin, claim1, claim2, refund]) if (r.status !== 'success') throw new Error('a gas scenario step reverted')
    const byOp = (r: Receipt) => {
      const out: Record<string, number> = {}
      for (const c of r.breakdown) out[c.label] = (out[c.label] ?? 0) + c.gas
      return out
    }
    return {
      registerNoLocks: reg0.gasUsed,
      registerWithLocks: reg.gasUsed,
      locks,
      registerPerLock: (reg.gasUsed - reg0.gasUsed) / locks,
      finalizeWithLocks: fin.gasUsed,
      claimFirstReveal: claim1.gasUsed,
      claimKnownHash: claim2.gasUsed,
      refundAfterExpiry: refund.gasUsed,
      claimBreakdown: byOp(claim1),
    }
  } finally {
    net.stop()
  }
}

export async function runHtlcBench(options: { quick?: boolean } = {}): Promise<HtlcBenchResult> {
  const quick = options.quick ?? false
  const payments = quick ? 64 : 400
  const hops: HopFigures[] = []
  for (const k of HOPS) hops.push(await hopFigures(k, payments))
  return { quick, hops, gas: await gasFigures() }
}

export function formatHtlcBench(r: HtlcBenchResult): string {
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US')
  const pct = (x: number) => `${Math.round(x * 100)}%`
  const g = r.gas
  return [
    `htlc-router HTLC benchmark${r.quick ? ' (quick)' : ''} — node ${process.version}, load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
    '',
    'Multi-hop payments over real channels in process (node:crypto signatures, memory stores/links, MockL1):',
    '',
    '| hops | payments | sequential/s | ms/payment | 16 in flight/s | raw sign/s | raw verify/s | signature bound/s | sequential / bound |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.hops.map(
      (h) =>
        `| ${h.hops} | ${fmt(h.payments)} | ${fmt(h.sequentialPerSec)} | ${h.msPerPayment.toFixed(2)} | ${fmt(h.concurrentPerSec)} | ${fmt(h.rawSignPerSec)} | ${fmt(h.rawVerifyPerSec)} | ${fmt(h.signatureBoundPerSec)} | ${pct(h.sequentialPerSec / h.signatureBoundPerSec)} |`,
    ),
    '',
    '(signature bound = 1 / (4·hops/sign + 4·hops/verify): each hop is an add and a settle, each a proposal signed and verified and a countersignature signed and verified)',
    '',
    'Per second of this process\'s CPU time (steadier when other jobs share the cores):',
    '',
    '| hops | sequential payments/CPU-s | raw sign/CPU-s | raw verify/CPU-s | signature bound/CPU-s | payments / bound |',
    '|---:|---:|---:|---:|---:|---:|',
    ...r.hops.map(
      (h) =>
        `| ${h.hops} | ${fmt(h.sequentialPerCpuSec)} | ${fmt(h.rawSignPerCpuSec)} | ${fmt(h.rawVerifyPerCpuSec)} | ${fmt(h.signatureBoundPerCpuSec)} | ${pct(h.sequentialPerCpuSec / h.signatureBoundPerCpuSec)} |`,
    ),
    '',
    'Gas of on-chain HTLC resolution (HtlcAdjudicator, measured receipts):',
    '',
    '| step | gas |',
    '|---|---:|',
    `| register, no locked HTLC | ${fmt(g.registerNoLocks)} |`,
    `| register, ${g.locks} locked HTLCs | ${fmt(g.registerWithLocks)} (${fmt(g.registerPerLock)} per HTLC) |`,
    `| finalize, ${g.locks} locked HTLCs | ${fmt(g.finalizeWithLocks)} |`,
    `| claim with preimage (first reveal: registry + event) | ${fmt(g.claimFirstReveal)} |`,
    `| claim with preimage, hash already registered | ${fmt(g.claimKnownHash)} |`,
    `| refund after expiry | ${fmt(g.refundAfterExpiry)} |`,
    '',
    `claim (first reveal) by label: ${Object.entries(g.claimBreakdown)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ')}`,
  ].join('\n')
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runHtlcBench({ quick: process.argv.includes('--quick') })
  console.log(formatHtlcBench(result))
}
