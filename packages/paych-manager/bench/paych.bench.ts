/**
 * paych-manager benchmarks (not tests): every figure is measured in the run
 * that prints it.
 *
 *  1. Throughput: voucherCreate (sign + store) and voucherAdd (checks incl. one
 *     signature verify + store) per second, with the memory store and the
 *     SQLite store fsyncing every commit (FULL, its default) or not (NORMAL),
 *     beside the raw secp256k1 sign and verify rates (tinybench, same
 *     run) they are bounded by.
 *  2. Chain cost per 1,000 vouchers (10 per batch, 3 lanes, one settle/collect
 *     at the end): L1 messages, gas, calldata and the number of payments that
 *     had to wait for a block, for
 *       - plain L1 transfers (one per payment),
 *       - a deposit message before every batch (Lotus V0 behaviour, blocking),
 *       - reserve/release per batch on a channel funded up front,
 *       - reserve/release per batch on a channel funded for half (top-ups).
 *
 * Run: `npm run bench` (or `-- --quick`). `runPaychBench()` returns the same
 * figures as data for the bench harness.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { NodeSigner, Rng, monotonicMs, nodeVerifier, secretKeyFromSeed } from '@l2bench/core'
import { MockL1, Wallet } from '@l2bench/l1-mock'
import { Bench } from 'tinybench'
import { MemoryStore, PaychContract, PaychManager, type PaychStore, type SignedVoucher, SqliteStore, plainVoucher, voucherDigest } from '../src/index.ts'

export interface ThroughputFigures {
  store: StoreKind
  /** voucherCreate calls per second (sign + checks + store). */
  createPerSec: number
  /** voucherAdd calls per second (decode, rules, one signature verify, store). */
  addPerSec: number
  /** Raw sign / verify rates of a plain loop over the same number of ops, run just before (same conditions). */
  rawSignPerSec: number
  rawVerifyPerSec: number
  ops: number
}

export interface ChainCostFigures {
  scenario: string
  vouchers: number
  l1Messages: number
  gas: number
  calldataBytes: number
  /** Payments that had to wait for a block before they could be made. */
  paymentsWaitingForChain: number
  /** Gas by schedule entry. */
  gasByOp: Record<string, number>
}

export interface PaychBenchResult {
  quick: boolean
  signPerSec: number
  verifyPerSec: number
  throughput: ThroughputFigures[]
  chainCost: ChainCostFigures[]
}

function world(seed: string) {
  const l1 = new MockL1()
  const contract = l1.deploy(new PaychContract())
  const wallet = (n: string) => new Wallet(new NodeSigner(secretKeyFromSeed(`${seed}/${n}`)), l1)
  const client = wallet('client')
  const provider = wallet('provider')
  for (const w of [client, provider]) l1.mint(w.address, 10n ** 24n)
  return { l1, contract, client, provider }
}

async function signVerifyRates(quick: boolean): Promise<{ sign: number; verify: number }> {
  const signer = new NodeSigner(secretKeyFromSeed('bench/sign'))
  const digest = voucherDigest({ chainId: 1n, contract: signer.address }, plainVoucher(signer.address, 0, 1n, 1000n))
  const sig = signer.sign(digest)
  const bench = new Bench({ time: quick ? 200 : 1000 })
  bench.add('sign', () => {
    signer.sign(digest)
  })
  bench.add('verify', () => {
    nodeVerifier.verify(sig, digest, signer.publicKey)
  })
  await bench.run()
  const rate = (name: string) => {
    const r = bench.getTask(name)?.result as { throughput?: { mean: number } } | undefined
    return r?.throughput?.mean ?? Number.NaN
  }
  return { sign: rate('sign'), verify: rate('verify') }
}

/** memory; SQLite fsyncing every commit (FULL, the store's default) or only at checkpoints (NORMAL). */
type StoreKind = 'memory' | 'sqlite FULL' | 'sqlite NORMAL'

async function throughput(kind: StoreKind, ops: number, dir: string): Promise<ThroughputFigures> {
  const w = world(`tp/${kind}`)
  const store = (name: string): PaychStore =>
    kind === 'memory' ? new MemoryStore() : new SqliteStore(join(dir, `${kind}-${name}.sqlite`), { synchronous: kind === 'sqlite FULL' ? 'FULL' : 'NORMAL' })
  const client = await PaychManager.open({ l1: w.l1, wallet: w.client, contract: w.contract, store: store('client') })
  const provider = await PaychManager.open({ l1: w.l1, wallet: w.provider, contract: w.contract, store: store('provider') })
  const { channel, messageId } = await client.create(w.client.address, w.provider.address, 10n ** 21n)
  await client.waitForMessage(messageId)
  // Raw rates in the same loop style, right before: the baseline the manager figures compare with.
  const signer = new NodeSigner(secretKeyFromSeed(`tp/${kind}/raw`))
  const digests = Array.from({ length: ops }, (_, i) => voucherDigest(client.domain, plainVoucher(channel, 0, BigInt(i + 1), 1000n)))
  let t0 = monotonicMs()
  const sigs = digests.map((d) => signer.sign(d))
  const rawSignPerSec = (ops / (monotonicMs() - t0)) * 1000
  t0 = monotonicMs()
  let valid = 0
  digests.forEach((d, i) => {
    if (nodeVerifier.verify(sigs[i] as Uint8Array, d, signer.publicKey)) valid++
  })
  const rawVerifyPerSec = (ops / (monotonicMs() - t0)) * 1000
  if (valid !== ops) throw new Error(`raw verify: ${ops - valid} signatures failed`)
  const vouchers: SignedVoucher[] = []
  const totals = [0n, 0n, 0n]
  t0 = monotonicMs()
  for (let i = 0; i < ops; i++) {
    const lane = i % 3
    totals[lane] = (totals[lane] as bigint) + 1000n
    const r = await client.voucherCreate(channel, totals[lane] as bigint, lane)
    vouchers.push(r.voucher as SignedVoucher)
  }
  const createMs = monotonicMs() - t0
  t0 = monotonicMs()
  for (const v of vouchers) await provider.voucherAdd(channel, v)
  const addMs = monotonicMs() - t0
  client.close()
  provider.close()
  return { store: kind, createPerSec: (ops / createMs) * 1000, addPerSec: (ops / addMs) * 1000, rawSignPerSec, rawVerifyPerSec, ops }
}

type Scenario = 'l1-transfers' | 'deposit-per-batch' | 'reserve-prefunded' | 'reserve-half-funded'

/** Drives 1,000 payments (or `vouchers`) through one funding scenario and adds up the chain cost. */
async function chainCost(scenario: Scenario, vouchers: number): Promise<ChainCostFigures> {
  const w = world(`cost/${scenario}`)
  const rng = new Rng('paych-bench-prices')
  const batch = 10
  const prices = Array.from({ length: vouchers }, () => BigInt(rng.range(1_000, 5_000)))
  const total = prices.reduce((a, b) => a + b, 0n)
  const hashes: `0x${string}`[] = []
  let waiting = 0
  if (scenario === 'l1-transfers') {
    for (const p of prices) hashes.push((await w.client.transfer(w.provider.address, p)).txHash)
  } else {
    const client = await PaychManager.open({ l1: w.l1, wallet: w.client, contract: w.contract })
    const provider = await PaychManager.open({ l1: w.l1, wallet: w.provider, contract: w.contract })
    const deposit = scenario === 'reserve-prefunded' ? total + 10_000n : scenario === 'reserve-half-funded' ? total / 2n : 0n
    const created = await client.create(w.client.address, w.provider.address, deposit)
    hashes.push(created.messageId)
    await client.waitForMessage(created.messageId)
    const { channel } = created
    const lanes = [0n, 0n, 0n]
    for (let b = 0; b * batch < vouchers; b++) {
      const chunk = prices.slice(b * batch, (b + 1) * batch)
      const cost = chunk.reduce((a, x) => a + x, 0n)
      if (scenario === 'deposit-per-batch') {
        const h = await client.addFunds(channel, cost)
        hashes.push(h)
        await client.waitForMessage(h)
        waiting += chunk.length
      } else {
        const h = await client.reserveFunds(channel, cost)
        if (h !== undefined) {
          hashes.push(h)
          await client.waitForMessage(h)
          waiting += chunk.length
        }
      }
      for (const [i, p] of chunk.entries()) {
        const lane = (b * batch + i) % 3
        lanes[lane] = (lanes[lane] as bigint) + p
        const r = await client.voucherCreate(channel, lanes[lane] as bigint, lane, { fromReserved: scenario !== 'deposit-per-batch' })
        if (r.voucher === undefined) throw new Error(`${scenario}: voucher short by ${r.shortfall}`)
        await provider.voucherAdd(channel, r.voucher, p)
      }
      const reserved = (await client.status(channel)).reservedAmount
      if (reserved > 0n) await client.releaseFunds(channel, reserved)
    }
    hashes.push(await provider.settle(channel))
    await provider.idle()
    for (const e of w.l1.events({ address: w.contract.address, name: 'Update' })) hashes.push(e.txHash)
    const info = w.l1.readSync<{ settlingAt: number; toSend: bigint }>(w.contract.address, 'channel', [channel])
    if (info.toSend !== total) throw new Error(`${scenario}: redeemed ${info.toSend}, paid ${total}`)
    w.l1.advanceTo(info.settlingAt)
    const c = await provider.collect(channel)
    hashes.push(c)
    await provider.waitForMessage(c)
    client.close()
    provider.close()
  }
  let gas = 0
  let calldataBytes = 0
  const gasByOp: Record<string, number> = {}
  for (const h of hashes) {
    const r = await w.l1.receipt(h)
    if (r.status !== 'success') throw new Error(`${scenario}: ${h} reverted: ${r.revertReason}`)
    gas += r.gasUsed
    calldataBytes += r.calldataBytes
    for (const g of r.breakdown) gasByOp[g.op] = (gasByOp[g.op] ?? 0) + g.gas
  }
  const sent = Number(w.l1.nonceOf(w.client.address) + w.l1.nonceOf(w.provider.address))
  if (sent !== hashes.length) throw new Error(`${scenario}: counted ${hashes.length} messages, accounts sent ${sent}`)
  return { scenario, vouchers, l1Messages: hashes.length, gas, calldataBytes, paymentsWaitingForChain: waiting, gasByOp }
}

export async function runPaychBench(options: { quick?: boolean } = {}): Promise<PaychBenchResult> {
  const quick = options.quick ?? false
  const dir = mkdtempSync(join(tmpdir(), 'paych-bench-'))
  try {
    const sv = await signVerifyRates(quick)
    const ops = quick ? 1_000 : 10_000
    const tp = [await throughput('memory', ops, dir), await throughput('sqlite FULL', ops, dir), await throughput('sqlite NORMAL', ops, dir)]
    const n = 1000
    const scenarios: Scenario[] = ['l1-transfers', 'deposit-per-batch', 'reserve-half-funded', 'reserve-prefunded']
    const cost: ChainCostFigures[] = []
    for (const s of scenarios) cost.push(await chainCost(s, n))
    return { quick, signPerSec: sv.sign, verifyPerSec: sv.verify, throughput: tp, chainCost: cost }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export function formatPaychBench(r: PaychBenchResult): string {
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US')
  const pct = (x: number) => `${Math.round(x * 100)}%`
  const lines = [
    `paych-manager benchmark${r.quick ? ' (quick)' : ''} — node ${process.version}`,
    '',
    `raw secp256k1 (node:crypto, tinybench): sign ${fmt(r.signPerSec)}/s, verify ${fmt(r.verifyPerSec)}/s`,
    '',
    '| store | vouchers | voucherCreate/s | raw sign/s (adjacent loop) | ratio | voucherAdd/s | raw verify/s (adjacent loop) | ratio |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...r.throughput.map(
      (t) =>
        `| ${t.store} | ${fmt(t.ops)} | ${fmt(t.createPerSec)} | ${fmt(t.rawSignPerSec)} | ${pct(t.createPerSec / t.rawSignPerSec)} | ${fmt(t.addPerSec)} | ${fmt(t.rawVerifyPerSec)} | ${pct(t.addPerSec / t.rawVerifyPerSec)} |`,
    ),
    '',
    `(measured sequentially on this machine, load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}; under load the ratios to the adjacent raw loops are steadier than the absolute figures)`,
    '',
    'Chain cost per 1,000 vouchers (10 per batch, 3 lanes; channel scenarios include create, settle, 3 lane updates, collect):',
    '',
    '| scenario | L1 messages | gas | gas/voucher | calldata B | payments waiting for a block |',
    '|---|---:|---:|---:|---:|---:|',
    ...r.chainCost.map(
      (c) =>
        `| ${c.scenario} | ${fmt(c.l1Messages)} | ${fmt(c.gas)} | ${fmt(c.gas / c.vouchers)} | ${fmt(c.calldataBytes)} | ${fmt(c.paymentsWaitingForChain)} |`,
    ),
  ]
  return lines.join('\n')
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runPaychBench({ quick: process.argv.includes('--quick') })
  console.log(formatPaychBench(result))
}
