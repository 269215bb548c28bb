/**
 * Durable throughput under a saturating load (issue 18): two nodes in one
 * process, SQLite stores (FULL by default: every commit fsynced), an
 * in-memory authenticated link, and many `pay` calls outstanding from both
 * sides at once on one channel (a pair) or on each of N channels between the
 * two nodes (a node with many channels). Each configuration — merging off or
 * on, group commit off or on — keeps its own nodes and files for the whole run.
 *
 * Measured in alternating short rounds in one process, so the machine's load
 * hits every figure alike: per round a crypto chunk (2 signs + 2 verifies,
 * the signatures of one update), an fsync chunk (the store's own UPSERT,
 * committed one by one) and one chunk per configuration. Each configuration's
 * rate is compared with the bounds measured next to it in the same round:
 *
 *   crypto bound   = 1 / (2 t_sign + 2 t_verify)                 updates/s
 *   disk bound     = 1 / (commits per payment × t_commit)         payments/s
 *   combined bound = 1 / (crypto per payment + commit time per payment)
 *                    crypto per payment = (2 t_sign + 2 t_verify) × states / payments
 *
 * (both nodes share this process's one thread, so their commits and their
 * signatures add up). Ratios are given per round as median and range; a
 * merged configuration can pass the crypto bound (one state carries several
 * payments), never the combined one. Latency is per payment: from the `pay`
 * call to its resolution (the state carrying it countersigned). CPU time is
 * `process.cpuUsage()` over the configuration's chunks.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { type Signer, type VerifierName, createSigner, getVerifier, monotonicMs, secretKeyFromSeed } from '@l2bench/core'
import { MockL1, Wallet } from '@l2bench/l1-mock'
import { Adjudicator } from './adjudicator.ts'
import { measureCommit } from './bench.ts'
import { ChannelNode } from './node.ts'
import { SqliteStore, type SyncMode } from './store.ts'
import { memoryLinkPair } from './transport.ts'

const ETH = 10n ** 18n

export interface DurableConfig {
  name: string
  /** Channels between the two nodes (1: a pair). */
  channels: number
  /** The nodes' `maxMerge` (1: merging off). */
  maxMerge: number
  groupCommit: boolean
  /** `pay` calls each side keeps outstanding per channel. */
  window: number
}

export interface Spread {
  median: number
  min: number
  max: number
}

export interface DurableRow extends DurableConfig {
  payments: number
  seconds: number
  paymentsPerSec: number
  /** Countersigned states (versions) the payments took. */
  states: number
  paymentsPerState: number
  /** Store transactions of both nodes per payment, and channel records per transaction (group commit). */
  commitsPerPayment: number
  recordsPerCommit: number
  /** Signatures made and checked by both nodes per payment (2 + 2 per state, more when proposals cross). */
  signsPerPayment: number
  verifiesPerPayment: number
  latencyMs: { p50: number; p99: number; max: number }
  /** CPU time of the process per payment, and CPU time ÷ wall time over the chunks. */
  cpuMsPerPayment: number
  cpuShare: number
  /**
   * The same ratio as `ofCrypto` on CPU time, which the machine's other load
   * does not inflate: CPU time of 2 signs + 2 verifies ÷ CPU time per payment.
   */
  cpuOfCrypto: number
  /** Per-round ratios of payments/s to the bounds measured in the same round. */
  ofCrypto: Spread
  ofDisk: Spread
  ofCombined: Spread
}

export interface DurableBenchResult {
  synchronous: SyncMode
  backend: VerifierName
  rounds: number
  roundMs: number
  /** Updates/s: 1 / (2 sign + 2 verify), per round. */
  cryptoBound: Spread
  /** CPU time of 2 signs + 2 verifies (ms), over all rounds. */
  cryptoCpuMs: number
  /** One commit of the store (ms), per round. */
  commitMs: Spread
  loadAverage: { before: number; after: number }
  rows: DurableRow[]
}

export interface DurableBenchOptions {
  synchronous?: SyncMode
  backend?: VerifierName
  rounds?: number
  /** Length of one configuration's chunk in a round (ms of issuing payments). */
  roundMs?: number
  configs?: DurableConfig[]
}

/** The configurations of issue 18: one pair and eight channels, each with merging off and on. */
export function durableConfigs(channels = 8): DurableConfig[] {
  return [
    { name: 'pair, one update per payment', channels: 1, maxMerge: 1, groupCommit: false, window: 32 },
    { name: 'pair, merged', channels: 1, maxMerge: 64, groupCommit: true, window: 32 },
    { name: `${channels} channels, one update per payment`, channels, maxMerge: 1, groupCommit: false, window: 4 },
    { name: `${channels} channels, group commit`, channels, maxMerge: 1, groupCommit: true, window: 4 },
    { name: `${channels} channels, merged + group commit`, channels, maxMerge: 64, groupCommit: true, window: 16 },
  ]
}

interface Setup {
  config: DurableConfig
  nodes: [ChannelNode, ChannelNode]
  stores: [SqliteStore, SqliteStore]
  ids: `0x${string}`[]
  payments: number
  seconds: number
  cpuMs: number
  commits: number
  records: number
  states: number
  counts: { signs: number; verifies: number }
  spent: { signs: number; verifies: number }
  latencies: number[]
  rates: number[]
  cleanup: () => void
}

async function open(config: DurableConfig, backend: VerifierName, synchronous: SyncMode, seed: string): Promise<Setup> {
  const l1 = new MockL1()
  const adjudicator = l1.deploy(new Adjudicator())
  const dir = mkdtempSync(join(os.tmpdir(), 'pc-durable-'))
  // Counted, to tell signatures spent on crossed proposals from those of the states kept.
  const counts = { signs: 0, verifies: 0 }
  const base = getVerifier(backend)
  const verifier = {
    ...base,
    verify: (sig: Uint8Array, digest: Uint8Array, pk: Uint8Array) => {
      counts.verifies++
      return base.verify(sig, digest, pk)
    },
  }
  const stores: [SqliteStore, SqliteStore] = [new SqliteStore(join(dir, 'a.db'), { synchronous }), new SqliteStore(join(dir, 'b.db'), { synchronous })]
  const party = (name: string): { signer: Signer; wallet: Wallet } => {
    const inner = createSigner(secretKeyFromSeed(`${seed}-${name}`), backend)
    const signer: Signer = Object.assign(Object.create(Object.getPrototypeOf(inner)), inner, {
      sign: (digest: Uint8Array) => {
        counts.signs++
        return inner.sign(digest)
      },
    })
    l1.mint(signer.address, 10_000n * ETH)
    return { signer, wallet: new Wallet(signer, l1) }
  }
  const [pa, pb] = [party('a'), party('b')]
  const common = { adjudicator, verifier, timers: false, maxMerge: config.maxMerge, groupCommit: config.groupCommit } as const
  const nodes: [ChannelNode, ChannelNode] = [
    new ChannelNode({ ...pa, ...common, store: stores[0] }),
    new ChannelNode({ ...pb, ...common, store: stores[1], acceptLimits: { maxDeposit: 1000n * ETH, maxUnfundedPerPeer: Math.max(8, config.channels) } }),
  ]
  const links = memoryLinkPair()
  nodes[0].attach(links[0])
  nodes[1].attach(links[1])
  await nodes[0].whenConnected(pb.signer.address)
  const ids: `0x${string}`[] = []
  for (let i = 0; i < config.channels; i++)
    ids.push(await nodes[0].open({ peer: pb.signer.address, peerPublicKey: pb.signer.publicKey, deposit: 100n * ETH, peerDeposit: 100n * ETH, disputeWindow: 100, nonce: BigInt(i + 1) }))
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
  return {
    config,
    nodes,
    stores,
    ids,
    payments: 0,
    seconds: 0,
    cpuMs: 0,
    commits: 0,
    records: 0,
    states: 0,
    counts,
    spent: { signs: 0, verifies: 0 },
    latencies: [],
    rates: [],
    cleanup: () => {
      for (const n of nodes) n.stop()
      for (const s of stores) s.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * One chunk: every side keeps `window` payments outstanding per channel until
 * `ms` have passed, then lets the outstanding ones finish. Returns the
 * payments completed and the seconds until the last one did.
 */
async function chunk(s: Setup, ms: number, record: boolean): Promise<{ payments: number; seconds: number; cpuMs: number }> {
  const { nodes, ids, config } = s
  const versions = () => ids.reduce((t, id) => t + Number(nodes[0].status(id).version), 0)
  const commits = () => s.stores[0].saves + s.stores[1].saves
  const records = () => s.stores[0].written + s.stores[1].written
  const v0 = versions()
  const c0 = commits()
  const w0 = records()
  const k0 = { ...s.counts }
  const cpu0 = process.cpuUsage()
  const t0 = monotonicMs()
  let outstanding = 0
  let done = 0
  let failure: unknown
  await new Promise<void>((resolve) => {
    const issue = (id: `0x${string}`, side: 0 | 1) => {
      outstanding++
      const start = monotonicMs()
      nodes[side].pay({ channelId: id, amount: 1n }).then(
        () => {
          outstanding--
          done++
          if (record) s.latencies.push(monotonicMs() - start)
          if (monotonicMs() - t0 < ms && failure === undefined) issue(id, side)
          else if (outstanding === 0) resolve()
        },
        (err) => {
          outstanding--
          failure = err
          if (outstanding === 0) resolve()
        },
      )
    }
    for (const id of ids) for (const side of [0, 1] as const) for (let w = 0; w < config.window; w++) issue(id, side)
  })
  if (failure !== undefined) throw failure
  const seconds = (monotonicMs() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  // Let the last confirms land so the next chunk starts idle.
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
  if (record) {
    s.payments += done
    s.seconds += seconds
    s.cpuMs += (cpu.user + cpu.system) / 1000
    s.commits += commits() - c0
    s.records += records() - w0
    s.states += versions() - v0
    s.spent.signs += s.counts.signs - k0.signs
    s.spent.verifies += s.counts.verifies - k0.verifies
  }
  return { payments: done, seconds, cpuMs: (cpu.user + cpu.system) / 1000 }
}

function spread(xs: readonly number[]): Spread {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN }
  const mid = (s.length - 1) / 2
  return { median: ((s[Math.floor(mid)] as number) + (s[Math.ceil(mid)] as number)) / 2, min: s[0] as number, max: s[s.length - 1] as number }
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  const pos = (sorted.length - 1) * q
  const lo = sorted[Math.floor(pos)] as number
  const hi = sorted[Math.ceil(pos)] as number
  return lo + (hi - lo) * (pos - Math.floor(pos))
}

/** Seconds of 2 signs + 2 verifies (one update's signatures), averaged over `n`. */
function cryptoSeconds(backend: VerifierName, n: number): number {
  const a = createSigner(secretKeyFromSeed('durable-bound-a'), backend)
  const b = createSigner(secretKeyFromSeed('durable-bound-b'), backend)
  const v = getVerifier(backend)
  const digest = new Uint8Array(32)
  const t0 = monotonicMs()
  for (let i = 0; i < n; i++) {
    digest[0] = i & 0xff
    digest[1] = i >> 8
    const sa = a.sign(digest)
    const sb = b.sign(digest)
    if (!v.verify(sa, digest, a.publicKey) || !v.verify(sb, digest, b.publicKey)) throw new Error('bound: verify failed')
  }
  return (monotonicMs() - t0) / 1000 / n
}

export async function runDurableBench(options: DurableBenchOptions = {}): Promise<DurableBenchResult> {
  const synchronous = options.synchronous ?? 'FULL'
  const backend = options.backend ?? 'node'
  const rounds = options.rounds ?? 5
  const roundMs = options.roundMs ?? 800
  const configs = options.configs ?? durableConfigs()
  const loadBefore = os.loadavg()[0] as number
  const setups: Setup[] = []
  try {
    for (const [i, c] of configs.entries()) setups.push(await open(c, backend, synchronous, `durable-${i}`))
    // Warm-up (JIT, SQLite caches), not recorded.
    for (const s of setups) await chunk(s, Math.min(200, roundMs), false)
    const crypto: number[] = []
    const commit: number[] = []
    let cryptoCpu = 0
    let cryptoN = 0
    const perRound: { crypto: number; commit: number; rates: number[] }[] = []
    for (let r = 0; r < rounds; r++) {
      // Bounds first, then each configuration; the order of configurations rotates so none always follows the bounds.
      const n = Math.max(20, Math.round(roundMs / 4))
      const cpu0 = process.cpuUsage()
      const tCrypto = cryptoSeconds(backend, n)
      const cpu = process.cpuUsage(cpu0)
      cryptoCpu += (cpu.user + cpu.system) / 1000
      cryptoN += n
      const tCommit = measureCommit(synchronous === 'FULL' ? 'sqlite-full' : 'sqlite-normal', synchronous === 'FULL' ? 100 : 1000)
      crypto.push(1 / tCrypto)
      commit.push(tCommit)
      const rates: number[] = new Array(setups.length).fill(0)
      for (let k = 0; k < setups.length; k++) {
        const idx = (k + r) % setups.length
        const s = setups[idx] as Setup
        const c = await chunk(s, roundMs, true)
        rates[idx] = c.payments / c.seconds
      }
      perRound.push({ crypto: tCrypto, commit: tCommit, rates })
    }
    const rows: DurableRow[] = setups.map((s, idx) => {
      const paymentsPerState = s.payments / Math.max(1, s.states)
      const commitsPerPayment = s.commits / Math.max(1, s.payments)
      const ofCrypto: number[] = []
      const ofDisk: number[] = []
      const ofCombined: number[] = []
      for (const pr of perRound) {
        const rate = pr.rates[idx] as number
        ofCrypto.push(rate * pr.crypto)
        ofDisk.push(rate * commitsPerPayment * pr.commit)
        ofCombined.push(rate * (pr.crypto / paymentsPerState + commitsPerPayment * pr.commit))
      }
      const lat = [...s.latencies].sort((a, b) => a - b)
      return {
        ...s.config,
        payments: s.payments,
        seconds: s.seconds,
        paymentsPerSec: s.payments / s.seconds,
        states: s.states,
        paymentsPerState,
        commitsPerPayment,
        recordsPerCommit: s.records / Math.max(1, s.commits),
        signsPerPayment: s.spent.signs / Math.max(1, s.payments),
        verifiesPerPayment: s.spent.verifies / Math.max(1, s.payments),
        latencyMs: { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), max: lat[lat.length - 1] ?? Number.NaN },
        cpuMsPerPayment: s.cpuMs / Math.max(1, s.payments),
        cpuShare: s.cpuMs / 1000 / s.seconds,
        cpuOfCrypto: cryptoCpu / cryptoN / (s.cpuMs / Math.max(1, s.payments)),
        ofCrypto: spread(ofCrypto),
        ofDisk: spread(ofDisk),
        ofCombined: spread(ofCombined),
      }
    })
    return {
      synchronous,
      backend,
      rounds,
      roundMs,
      cryptoBound: spread(crypto),
      cryptoCpuMs: cryptoCpu / cryptoN,
      commitMs: spread(commit.map((c) => c * 1000)),
      loadAverage: { before: loadBefore, after: os.loadavg()[0] as number },
      rows,
    }
  } finally {
    for (const s of setups) s.cleanup()
  }
}

const pct = (s: Spread) => `${(100 * s.median).toFixed(0)}% (${(100 * s.min).toFixed(0)}–${(100 * s.max).toFixed(0)})`

export function formatDurableBench(r: DurableBenchResult): string {
  const lines: string[] = []
  lines.push(
    `durable throughput under saturating load (SQLite ${r.synchronous}, ${r.backend} signatures; ${r.rounds} interleaved rounds of ${r.roundMs} ms per configuration; load average ${r.loadAverage.before.toFixed(1)} → ${r.loadAverage.after.toFixed(1)})`,
  )
  lines.push(
    `crypto bound ${r.cryptoBound.median.toFixed(0)} updates/s (${r.cryptoBound.min.toFixed(0)}–${r.cryptoBound.max.toFixed(0)}), ${r.cryptoCpuMs.toFixed(2)} ms CPU per update; one commit ${r.commitMs.median.toFixed(2)} ms (${r.commitMs.min.toFixed(2)}–${r.commitMs.max.toFixed(2)}): ${(1000 / r.commitMs.median).toFixed(0)} commits/s`,
  )
  lines.push(
    'configuration                          pay/s  pay/state  commits/pay  rec/commit  sign+verify/pay  p50 ms  p99 ms  CPU ms/pay  CPU/wall  of crypto bound     (on CPU)  of disk bound       of combined bound',
  )
  for (const row of r.rows)
    lines.push(
      `${row.name.padEnd(36)} ${row.paymentsPerSec.toFixed(0).padStart(7)} ${row.paymentsPerState.toFixed(1).padStart(10)} ${row.commitsPerPayment.toFixed(2).padStart(12)} ${row.recordsPerCommit.toFixed(2).padStart(11)} ${`${row.signsPerPayment.toFixed(2)}+${row.verifiesPerPayment.toFixed(2)}`.padStart(16)} ${row.latencyMs.p50.toFixed(1).padStart(7)} ${row.latencyMs.p99.toFixed(1).padStart(7)} ${row.cpuMsPerPayment.toFixed(2).padStart(11)} ${(100 * row.cpuShare).toFixed(0).padStart(8)}%  ${pct(row.ofCrypto).padEnd(19)} ${`${(100 * row.cpuOfCrypto).toFixed(0)}%`.padStart(8)}  ${pct(row.ofDisk).padEnd(19)} ${pct(row.ofCombined)}`,
    )
  const base = r.rows.find((x) => x.channels === 1 && x.maxMerge === 1)
  const merged = r.rows.find((x) => x.channels === 1 && x.maxMerge > 1)
  if (base !== undefined && merged !== undefined)
    lines.push(`  per pair: merged ÷ one update per payment = ${(merged.paymentsPerSec / base.paymentsPerSec).toFixed(1)}× (same run, interleaved rounds)`)
  lines.push('  bounds measured in the same rounds: crypto = 1 / (2 sign + 2 verify) per update; disk = 1 / (commits per payment × one commit);')
  lines.push('  combined = 1 / ((2 sign + 2 verify) / payments per state + commits per payment × one commit); ratios are per round: median (min–max);')
  lines.push('  (on CPU) = CPU time of 2 sign + 2 verify ÷ CPU time per payment, over all rounds (what other jobs on the machine do not distort)')
  return lines.join('\n')
}
