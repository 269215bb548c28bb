/**
 * Benchmarks of the channel, as functions the harness can call (the
 * `bench/` scripts print them as tables):
 *
 *   - off-chain updates per second for one pair, both nodes in one process,
 *     beside the raw crypto bound measured in the same run: one update costs
 *     2 signatures + 2 verifications, so bound = 1 / (2·t_sign + 2·t_verify);
 *   - N pairs spread over worker threads (1, 2, … workers): aggregate updates/s;
 *   - gas of every adjudicator operation, from real receipts on the mock L1.
 *
 * Every figure is measured in the run that returns it; nothing is projected.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import {
  type Amount,
  type Signer,
  type Verifier,
  type VerifierName,
  createSigner,
  getVerifier,
  keccak256,
  monotonicMs,
  secretKeyFromSeed,
  startWorker,
} from '@l2bench/core'
import { MockL1, Wallet } from '@l2bench/l1-mock'
import { Adjudicator } from './adjudicator.ts'
import { AdjudicatorClient } from './client.ts'
import { ChannelNode } from './node.ts'
import { type DurableBenchResult, formatDurableBench, runDurableBench } from './bench-durable.ts'
import { type ChannelState, stateDigest } from './state.ts'
import { type ChannelStore, MemoryStore, SqliteStore } from './store.ts'
import { memoryLinkPair } from './transport.ts'

export type BenchStore = 'memory' | 'sqlite-full' | 'sqlite-normal'

export interface ThroughputRow {
  backend: VerifierName
  store: BenchStore
  updates: number
  seconds: number
  updatesPerSec: number
  /** 1 / (2 sign + 2 verify), measured just before. */
  boundPerSec: number
  /** updatesPerSec / boundPerSec. */
  ratio: number
  /** Store commits per update (both nodes). */
  savesPerUpdate: number
  /** One commit of this store kind, measured in the same run (0 for memory). */
  commitMs: number
  /** 1 / (2 sign + 2 verify + savesPerUpdate × commit): what the disk allows on top of the crypto. */
  diskBoundPerSec: number
  diskRatio: number
}

export interface ScalingRow {
  workers: number
  pairs: number
  updates: number
  seconds: number
  updatesPerSec: number
  speedup: number
}

export interface GasRow {
  op: string
  gas: number
  calldataBytes: number
}

export interface ChannelBenchResult {
  machine: { cpus: number; model: string; node: string }
  throughput: ThroughputRow[]
  scaling: ScalingRow[]
  /** Durable (SQLite FULL) payments/s under a saturating load: one pair and eight channels, merging and group commit off and on. */
  durable?: DurableBenchResult
  gas: GasRow[]
}

export interface ChannelBenchOptions {
  /** Smaller runs (CI smoke). */
  quick?: boolean
  backends?: VerifierName[]
  stores?: BenchStore[]
  /** Updates per throughput measurement. */
  updates?: number
  /** Worker counts for the scaling table (default 1 and 2). */
  workers?: number[]
  pairsPerWorker?: number
  updatesPerPair?: number
  /** Run the durable saturating-load section (default true). */
  durable?: boolean
}

const ETH = 10n ** 18n

/** Times `iterations` × (2 signs + 2 verifies), the crypto of one update; returns updates/s. */
export function measureRawBound(backend: VerifierName, iterations: number): number {
  const a = createSigner(secretKeyFromSeed('bound-a'), backend)
  const b = createSigner(secretKeyFromSeed('bound-b'), backend)
  const v = getVerifier(backend)
  let digest = keccak256(new Uint8Array([1]))
  const t0 = monotonicMs()
  for (let i = 0; i < iterations; i++) {
    const sa = a.sign(digest)
    if (!v.verify(sa, digest, a.publicKey)) throw new Error('bound: verify failed')
    const sb = b.sign(digest)
    if (!v.verify(sb, digest, b.publicKey)) throw new Error('bound: verify failed')
    digest = keccak256(sb)
  }
  return iterations / ((monotonicMs() - t0) / 1000)
}

interface Pair {
  alice: ChannelNode
  bob: ChannelNode
  channelId: `0x${string}`
  stores: [ChannelStore, ChannelStore]
  cleanup: () => void
}

/** Opens one channel between two in-process nodes over an in-memory link. */
/**
 * A pair for the per-update figures: `maxMerge` 1 by default, so every
 * payment is its own update (2 signs + 2 verifies, the bound these rows are
 * compared with) — the queued payments of `runUpdates` would otherwise ride
 * in merged states and pass the per-update bound (bench-durable.ts measures
 * merging).
 */
export async function openBenchPair(backend: VerifierName, store: BenchStore, seed = 'p', maxMerge = 1): Promise<Pair> {
  const l1 = new MockL1()
  const adj = l1.deploy(new Adjudicator())
  const verifier: Verifier = getVerifier(backend)
  let dir: string | undefined
  const mkStore = (name: string): ChannelStore => {
    if (store === 'memory') return new MemoryStore()
    dir ??= mkdtempSync(join(os.tmpdir(), 'pc-bench-'))
    return new SqliteStore(join(dir, `${name}.db`), { synchronous: store === 'sqlite-full' ? 'FULL' : 'NORMAL' })
  }
  const party = (name: string): { signer: Signer; wallet: Wallet } => {
    const signer = createSigner(secretKeyFromSeed(`${seed}-${name}`), backend)
    l1.mint(signer.address, 1000n * ETH)
    return { signer, wallet: new Wallet(signer, l1) }
  }
  const pa = party('a')
  const pb = party('b')
  const stores: [ChannelStore, ChannelStore] = [mkStore('a'), mkStore('b')]
  const alice = new ChannelNode({ ...pa, adjudicator: adj, store: stores[0], verifier, timers: false, maxMerge })
  const bob = new ChannelNode({ ...pb, adjudicator: adj, store: stores[1], verifier, timers: false, maxMerge, acceptLimits: { maxDeposit: 100n * ETH } })
  const links = memoryLinkPair()
  alice.attach(links[0])
  bob.attach(links[1])
  await alice.whenConnected(pb.signer.address)
  const channelId = await alice.open({ peer: pb.signer.address, peerPublicKey: pb.signer.publicKey, deposit: 100n * ETH, peerDeposit: 100n * ETH, disputeWindow: 100 })
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
  return {
    alice,
    bob,
    channelId,
    stores,
    cleanup: () => {
      alice.stop()
      bob.stop()
      for (const s of stores) s.close()
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Runs `n` sequential updates, alternating direction in blocks of 8 (each waits for the last one's confirm). */
export async function runUpdates(pair: Pair, n: number, amount: Amount = 1n): Promise<number> {
  const { alice, bob, channelId } = pair
  const t0 = monotonicMs()
  let done = 0
  while (done < n) {
    const k = Math.min(8, n - done)
    const payer = (done / 8) % 2 === 0 ? alice : bob
    const jobs: Promise<bigint>[] = []
    for (let i = 0; i < k; i++) jobs.push(payer.pay({ channelId, amount }))
    await Promise.all(jobs)
    done += k
  }
  // The last confirm is in flight; let it land so the next run starts idle.
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r))
  return (monotonicMs() - t0) / 1000
}

function saves(s: ChannelStore): number {
  return (s as { saves?: number }).saves ?? 0
}

/** Seconds per commit of the store's kind: the same UPSERT the store does, `n` times (0 for memory). */
export function measureCommit(store: BenchStore, n: number): number {
  if (store === 'memory') return 0
  const dir = mkdtempSync(join(os.tmpdir(), 'pc-commit-'))
  const s = new SqliteStore(join(dir, 'c.db'), { synchronous: store === 'sqlite-full' ? 'FULL' : 'NORMAL' })
  try {
    const stmt = s.db.prepare('INSERT INTO channels (id, record, version, phase, updated) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record')
    // The content must change every time: SQLite skips the WAL write (and the fsync) for an identical page.
    const blob = Buffer.alloc(600, 7)
    const t0 = monotonicMs()
    for (let i = 0; i < n; i++) {
      blob.writeUInt32BE(i, 0)
      stmt.run('x', blob, i, 'open', 0)
    }
    return (monotonicMs() - t0) / 1000 / n
  } finally {
    s.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Updates/s of one pair, beside the crypto bound. The machine may be shared
 * and noisy, so the run alternates in rounds: bound chunk, update chunk,
 * commit chunk; each figure is the total over its chunks.
 */
export async function measureThroughput(backend: VerifierName, store: BenchStore, updates: number, rounds = 5): Promise<ThroughputRow> {
  const pair = await openBenchPair(backend, store)
  try {
    await runUpdates(pair, Math.min(40, updates))
    const per = Math.max(8, Math.floor(updates / rounds))
    let boundSeconds = 0
    let updateSeconds = 0
    let commitSeconds = 0
    const s0 = saves(pair.stores[0]) + saves(pair.stores[1])
    for (let r = 0; r < rounds; r++) {
      boundSeconds += per / measureRawBound(backend, per)
      updateSeconds += await runUpdates(pair, per)
      commitSeconds += measureCommit(store, Math.min(per, 20)) * per
    }
    const n = per * rounds
    const s1 = saves(pair.stores[0]) + saves(pair.stores[1])
    const savesPerUpdate = (s1 - s0) / n
    const updatesPerSec = n / updateSeconds
    const boundPerSec = n / boundSeconds
    const commit = commitSeconds / n
    const diskBoundPerSec = 1 / (1 / boundPerSec + savesPerUpdate * commit)
    return {
      backend,
      store,
      updates: n,
      seconds: updateSeconds,
      updatesPerSec,
      boundPerSec,
      ratio: updatesPerSec / boundPerSec,
      savesPerUpdate,
      commitMs: commit * 1000,
      diskBoundPerSec,
      diskRatio: updatesPerSec / diskBoundPerSec,
    }
  } finally {
    pair.cleanup()
  }
}

/** `pairsPerWorker` pairs in each of `workers` threads, all updating at once. */
export async function measureScaling(workers: number, pairsPerWorker: number, updatesPerPair: number, backend: VerifierName = 'node'): Promise<Omit<ScalingRow, 'speedup'>> {
  const threads = Array.from({ length: workers }, (_, i) =>
    startWorker(new URL('./bench-worker.ts', import.meta.url), import.meta.url, { workerData: { pairs: pairsPerWorker, updatesPerPair, backend, seed: `w${i}` } }),
  )
  try {
    const ready = threads.map((w) => new Promise<void>((resolve, reject) => {
      w.once('error', reject)
      w.once('message', () => resolve())
    }))
    await Promise.all(ready)
    const t0 = monotonicMs()
    const done = threads.map((w) => new Promise<number>((resolve, reject) => {
      w.once('error', reject)
      w.once('message', (m: { updates: number }) => resolve(m.updates))
    }))
    for (const w of threads) w.postMessage('go')
    const counts = await Promise.all(done)
    const seconds = (monotonicMs() - t0) / 1000
    const updates = counts.reduce((a, b) => a + b, 0)
    return { workers, pairs: workers * pairsPerWorker, updates, seconds, updatesPerSec: updates / seconds }
  } finally {
    await Promise.all(threads.map((w) => w.terminate()))
  }
}

/** Gas of each adjudicator operation, from receipts. */
export async function measureGas(): Promise<GasRow[]> {
  const l1 = new MockL1()
  const adj = l1.deploy(new Adjudicator())
  const domain = { chainId: l1.chainId, adjudicator: adj.address }
  const mk = (name: string) => {
    const signer = createSigner(secretKeyFromSeed(`gas-${name}`), 'node')
    l1.mint(signer.address, 1000n * ETH)
    return { signer, client: new AdjudicatorClient(new Wallet(signer, l1), adj) }
  }
  const a = mk('a')
  const b = mk('b')
  const rows: GasRow[] = []
  const row = (op: string, r: { gasUsed: number; calldataBytes: number }) => rows.push({ op, gas: r.gasUsed, calldataBytes: r.calldataBytes })
  const sign = (state: ChannelState) => {
    const d = stateDigest(domain, state)
    return { state, digest: d, sigs: [a.signer.sign(d), b.signer.sign(d)] as const }
  }
  const open = async (nonce: bigint) => {
    const r = await a.client.open({ b: b.signer.address, pkA: a.signer.publicKey, pkB: b.signer.publicKey, nonce, depositA: 10n * ETH, depositB: 5n * ETH, disputeWindow: 10, fundingTimeout: 10, penalty: 'none' })
    const id = new Uint8Array(Buffer.from((r.result as string).slice(2), 'hex'))
    const c = await b.client.confirm(id, 5n * ETH)
    return { r, c, id }
  }
  const st = (id: Uint8Array, version: bigint, balances: readonly [Amount, Amount], isFinal = false): ChannelState => ({ channelId: id, version, balances, locked: [], isFinal })
  const c1 = await open(1n)
  row('open (A deposits)', c1.r)
  row('confirm (B deposits)', c1.c)
  row('top-up', await a.client.topUp(sign(st(c1.id, 1n, [11n * ETH, 5n * ETH])), ETH))
  row('cooperative close', await a.client.close(sign(st(c1.id, 5n, [9n * ETH, 7n * ETH], true))))
  const c2 = await open(2n)
  const reg = await a.client.register(sign(st(c2.id, 3n, [9n * ETH, 6n * ETH])))
  row('register', reg)
  l1.mine(11)
  const fin = await a.client.finalize(c2.id)
  row('finalize', fin)
  rows.push({ op: 'register + finalize', gas: reg.gasUsed + fin.gasUsed, calldataBytes: reg.calldataBytes + fin.calldataBytes })
  const c3 = await open(3n)
  await a.client.register(sign(st(c3.id, 3n, [9n * ETH, 6n * ETH])))
  row('challenge', await b.client.challenge(sign(st(c3.id, 7n, [8n * ETH, 7n * ETH]))))
  return rows
}

export async function runChannelBench(options: ChannelBenchOptions = {}): Promise<ChannelBenchResult> {
  const quick = options.quick === true
  const backends = options.backends ?? ['node', 'noble']
  const stores = options.stores ?? ['memory', 'sqlite-full', 'sqlite-normal']
  const throughput: ThroughputRow[] = []
  for (const backend of backends)
    for (const store of stores) {
      // noble verifies ~7× slower: fewer updates keep the run short at the same precision.
      const n = options.updates ?? (quick ? (backend === 'node' ? 300 : 60) : backend === 'node' ? 2000 : 400)
      throughput.push(await measureThroughput(backend, store, n))
    }
  const scaling: ScalingRow[] = []
  const pairsPerWorker = options.pairsPerWorker ?? 4
  const updatesPerPair = options.updatesPerPair ?? (quick ? 100 : 500)
  for (const w of options.workers ?? [1, 2]) {
    const r = await measureScaling(w, pairsPerWorker, updatesPerPair)
    scaling.push({ ...r, speedup: scaling.length === 0 ? 1 : r.updatesPerSec / (scaling[0] as ScalingRow).updatesPerSec })
  }
  const durable = options.durable === false ? undefined : await runDurableBench(quick ? { rounds: 3, roundMs: 400 } : {})
  const gas = await measureGas()
  const cpu = os.cpus()[0]
  return { machine: { cpus: os.cpus().length, model: cpu?.model ?? 'unknown', node: process.version }, throughput, scaling, ...(durable === undefined ? {} : { durable }), gas }
}

/** Plain-text tables of a result. */
export function formatChannelBench(r: ChannelBenchResult): string {
  const lines: string[] = []
  lines.push(`machine: ${r.machine.cpus} × ${r.machine.model}, node ${r.machine.node}`)
  lines.push('')
  lines.push('one channel pair, both nodes in one process (in-memory link)')
  lines.push('backend  store          updates   upd/s  bound/s  of bound  saves/upd  commit ms  disk bound/s  of disk bound')
  for (const t of r.throughput)
    lines.push(
      `${t.backend.padEnd(8)} ${t.store.padEnd(14)} ${String(t.updates).padStart(7)} ${t.updatesPerSec.toFixed(0).padStart(7)} ${t.boundPerSec.toFixed(0).padStart(8)} ${(100 * t.ratio).toFixed(0).padStart(8)}% ${t.savesPerUpdate.toFixed(2).padStart(10)} ${t.commitMs.toFixed(2).padStart(10)} ${t.diskBoundPerSec.toFixed(0).padStart(13)} ${(100 * t.diskRatio).toFixed(0).padStart(13)}%`,
    )
  lines.push('  bound = 1 / (2 sign + 2 verify); disk bound adds saves/upd × one commit; all measured in the same run, interleaved')
  lines.push('')
  lines.push('pairs across worker threads (node:crypto, in-memory store)')
  lines.push('workers  pairs  updates   upd/s  speedup')
  for (const s of r.scaling)
    lines.push(`${String(s.workers).padStart(7)} ${String(s.pairs).padStart(6)} ${String(s.updates).padStart(8)} ${s.updatesPerSec.toFixed(0).padStart(7)} ${s.speedup.toFixed(2).padStart(8)}`)
  if (r.durable !== undefined) {
    lines.push('')
    lines.push(formatDurableBench(r.durable))
  }
  lines.push('')
  lines.push('adjudicator gas (mock L1 schedule)')
  lines.push('operation               gas  calldata B')
  for (const g of r.gas) lines.push(`${g.op.padEnd(22)} ${String(g.gas).padStart(7)} ${String(g.calldataBytes).padStart(11)}`)
  return lines.join('\n')
}
