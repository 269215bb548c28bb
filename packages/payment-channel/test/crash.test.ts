/**
 * ATTACKS 7: crash at every persistence point of the update protocol (before
 * and after the write), restart from the SQLite file, resync, close.
 *
 * Instrumentation: the store wrapper crashes the node at its k-th save; every
 * frame a node sends that carries its signature is checked, at the moment of
 * sending, against the SQLite file through a second connection: the signed
 * state must already be committed. After the restart both sides converge on
 * one state, every payment that resolved is in it, and the L1 payout equals it.
 * The same harness crashes the open handshake and a top-up at each of their saves,
 * merged updates (several queued payments in one state) at each of theirs, and
 * merged updates in both directions on one channel and on two channels whose
 * records go in one transaction (group commit) at every commit of either side.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { bytesEqual } from '@l2bench/core'
import {
  ChannelNode,
  type ChannelNodeOptions,
  type ChannelStore,
  type ChannelState,
  CrashError,
  type Machine,
  SqliteStore,
  decodeMessage,
  digestOf,
  memoryLinkPair,
} from '../src/index.ts'
import { ETH, type Party, makeWorld, settle, until } from './fixtures.ts'

/** Crashes at its `crashAt`-th commit (a save, or a group commit of several records), before or after the write. */
class CrashingStore implements ChannelStore {
  saves = 0
  /** Commits that wrote several channels' records in one transaction, and the largest. */
  groupCommits = 0
  largestGroup = 0
  crashed = false
  constructor(
    public inner: SqliteStore,
    public crashAt: number,
    readonly mode: 'before' | 'after' | 'lazy',
  ) {}
  save(m: Machine): void {
    this.commit(() => this.inner.save(m))
  }
  saveMany(ms: readonly Machine[]): void {
    this.commit(() => this.inner.saveMany(ms))
    this.groupCommits++
    this.largestGroup = Math.max(this.largestGroup, ms.length)
  }
  private commit(write: () => void): void {
    if (this.crashed) throw new CrashError('dead')
    this.saves++
    if (this.saves === this.crashAt && this.mode === 'before') {
      this.crashed = true
      throw new CrashError(`save ${this.saves} (before write)`)
    }
    write()
    if (this.saves === this.crashAt && this.mode === 'after') {
      this.crashed = true
      throw new CrashError(`save ${this.saves} (after write)`)
    }
  }
  load(id: Uint8Array) {
    return this.inner.load(id)
  }
  loadAll() {
    return this.inner.loadAll()
  }
  close() {
    this.inner.close()
  }
}

const readers = new Map<string, SqliteStore>()
function reader(file: string): SqliteStore {
  let r = readers.get(file)
  if (r === undefined) {
    r = new SqliteStore(file)
    readers.set(file, r)
  }
  return r
}

/** Asserts that every signature in `frame` is on a state already committed in `file` (read via a second connection). */
function checkDurable(file: string, me: 0 | 1, frame: Uint8Array, violations: string[]): void {
  const msg = decodeMessage(frame)
  if (msg.type !== 'propose' && msg.type !== 'accept' && msg.type !== 'openAck' && msg.type !== 'open') return
  const id = msg.type === 'propose' ? msg.state.channelId : msg.type === 'open' ? msg.params.channelId : msg.channelId
  const rec = reader(file).load(id)
  if (rec === undefined) {
    violations.push(`${msg.type}: no durable record`)
    return
  }
  if (msg.type === 'propose') {
    const d = digestOf(rec.params, msg.state)
    const ok = (rec.pending !== undefined && bytesEqual(rec.pending.digest, d)) || bytesEqual(rec.latest.digest, d) || rec.latest.state.version > msg.state.version
    if (!ok) violations.push(`propose v${msg.state.version} not durable (party ${me}, ${msg.entries.length} entries; record latest v${rec.latest.state.version}, pending ${rec.pending?.state.version})`)
  } else if (msg.type === 'accept') {
    const ok = rec.latest.state.version > msg.version || (rec.latest.state.version === msg.version && bytesEqual(rec.latest.sigs[me] as Uint8Array, msg.sig))
    if (!ok) violations.push(`accept v${msg.version} not durable`)
  } else if (rec.latest.state.version === 0n && !bytesEqual(rec.latest.sigs[me] as Uint8Array, msg.sig)) violations.push(`${msg.type} v0 not durable`)
}

/**
 * Two nodes on one L1 with crash-injecting SQLite stores; every signed frame a
 * node sends is checked against its file at the moment of sending.
 */
class Harness {
  readonly dir = mkdtempSync(join(tmpdir(), 'pc-crash-'))
  readonly files = [join(this.dir, 'a.db'), join(this.dir, 'b.db')] as const
  readonly world = makeWorld()
  readonly parties: [Party, Party] = [this.world.party('alice'), this.world.party('bob')]
  readonly violations: string[] = []
  readonly stores: readonly [CrashingStore, CrashingStore]
  readonly nodes: [ChannelNode, ChannelNode]
  links: ReturnType<typeof memoryLinkPair>
  private reopened: SqliteStore | undefined

  constructor(
    mode: 'before' | 'after' | 'lazy',
    crashAt: readonly [number, number] = [0, 0],
    readonly options: Partial<ChannelNodeOptions> = {},
  ) {
    this.stores = [new CrashingStore(new SqliteStore(this.files[0]), crashAt[0], mode), new CrashingStore(new SqliteStore(this.files[1]), crashAt[1], mode)]
    this.nodes = [this.node(0, this.stores[0]), this.node(1, this.stores[1])]
    this.links = this.connect()
  }

  private node(i: 0 | 1, store: ChannelStore): ChannelNode {
    const p = this.parties[i]
    return new ChannelNode({ signer: p.signer, wallet: p.wallet, adjudicator: this.world.adj, store, timers: false, acceptLimits: { maxDeposit: 5n * ETH }, ...this.options })
  }

  private connect(): ReturnType<typeof memoryLinkPair> {
    const links = memoryLinkPair()
    for (const i of [0, 1] as const) {
      // Checked at the node's send, on the authenticated link (the payload is the wire message).
      const secure = this.nodes[i].attach(links[i])
      const send = secure.send.bind(secure)
      secure.send = (f) => {
        checkDurable(this.files[i], i, f, this.violations)
        send(f)
      }
    }
    return links
  }

  open(nonce?: bigint): Promise<`0x${string}`> {
    const [, b] = this.parties
    return this.nodes[0].open({ peer: b.address, peerPublicKey: b.signer.publicKey, deposit: 10n * ETH, peerDeposit: 5n * ETH, disputeWindow: 10, ...(nonce === undefined ? {} : { nonce }) })
  }

  /** The victim process dies and restarts from its SQLite file; a new connection resyncs. */
  restart(victim: 0 | 1): void {
    this.nodes[victim].stop()
    this.links[0].close()
    this.stores[victim].inner.close()
    this.reopened = new SqliteStore(this.files[victim])
    this.nodes[victim] = this.node(victim, this.reopened)
    this.links = this.connect()
  }

  /** Both sides idle on one state. */
  converged(channelId: `0x${string}`): Promise<void> {
    return until(() => {
      const [a, b] = [this.nodes[0].machine(channelId), this.nodes[1].machine(channelId)]
      return a.pending === undefined && b.pending === undefined && a.latest.state.version === b.latest.state.version && a.unconfirmed === undefined && b.unconfirmed === undefined
    })
  }

  /** Closes cooperatively and checks the payout against the final state, conservation and the durability log. */
  async closeAndCheck(channelId: `0x${string}`, end = true): Promise<void> {
    const { world, parties, nodes } = this
    const final = nodes[0].latest(channelId).state.balances
    const before = [world.l1.balanceOf(parties[0].address), world.l1.balanceOf(parties[1].address)]
    const r = await nodes[0].closeCooperative({ channelId })
    assert.equal(world.l1.balanceOf(parties[0].address), (before[0] as bigint) + final[0] - r.fee)
    assert.equal(world.l1.balanceOf(parties[1].address), (before[1] as bigint) + final[1])
    if (!end) return
    assert.equal(world.l1.balanceOf(world.adj.address), 0n)
    this.checkEnd()
  }

  checkEnd(): void {
    assert.equal(this.world.l1.totalBalances() + this.world.l1.totalBurnt(), this.world.l1.totalMinted())
    assert.deepEqual(this.violations, [])
  }

  teardown(): void {
    for (const n of this.nodes) n.stop()
    for (const f of this.files) {
      readers.get(f)?.close()
      readers.delete(f)
    }
    this.reopened?.close()
    for (const st of this.stores) st.close()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

const PAYS: [0 | 1, bigint][] = [
  [0, 3n],
  [1, 2n],
  [0, 5n],
  [1, 1n],
]

async function crashRun(victim: 0 | 1, k: number, mode: 'before' | 'after' | 'lazy', queued = false, maxMerge = 1) {
  const h = new Harness(mode, [0, 0], { maxMerge })
  const { stores, nodes, parties } = h
  if (mode === 'lazy') {
    // A broken store that commits after the caller moved on: the instrumentation must catch the early sends.
    const inner = stores[victim].inner
    stores[victim].inner = { ...inner, save: (m: Machine) => queueMicrotask(() => inner.save(m)), load: inner.load.bind(inner), loadAll: inner.loadAll.bind(inner), close: inner.close.bind(inner) } as unknown as SqliteStore
    await settle()
    const channelId = await h.open()
    await nodes[0].pay({ channelId, amount: 1n })
    await nodes[1].pay({ channelId, amount: 1n })
    const violations = [...h.violations]
    h.teardown()
    return violations
  }
  await nodes[0].whenConnected(parties[1].address)
  const channelId = await h.open()
  await until(() => nodes[1].status(channelId).phase === 'open')
  stores[victim].crashAt = stores[victim].saves + k
  const resolved: bigint[] = []
  if (queued) {
    // Alice queues all payments at once: proposals are chained onto countersignatures (one write for both).
    let settled = 0
    for (const [, amount] of PAYS)
      nodes[0]
        .pay({ channelId, amount })
        .then((v) => resolved.push(v))
        .catch(() => {})
        .finally(() => {
          settled++
        })
    await until(() => settled === PAYS.length || stores[victim].crashed)
  }
  for (const [from, amount] of queued ? [] : PAYS) {
    if (stores[victim].crashed) break
    let done = false
    nodes[from]
      .pay({ channelId, amount })
      .then((v) => resolved.push(v))
      .catch(() => {})
      .finally(() => {
        done = true
      })
    await until(() => done || stores[victim].crashed)
  }
  assert.ok(stores[victim].crashed, `crash point ${k} reached`)
  h.restart(victim)
  await h.converged(channelId)
  const [ma, mb] = [nodes[0].machine(channelId), nodes[1].machine(channelId)]
  assert.ok(bytesEqual(ma.latest.digest, mb.latest.digest), 'converged on one state')
  for (const v of resolved) assert.ok(ma.latest.state.version >= v, `resolved payment v${v} kept`)
  // Keep paying after the restart, then close cooperatively.
  await nodes[1].pay({ channelId, amount: 4n })
  const final = nodes[0].latest(channelId).state.balances
  assert.equal(final[0] + final[1], 15n * ETH)
  await h.closeAndCheck(channelId)
  h.teardown()
  return h.violations
}

describe('crash at every persistence point, restart from SQLite (ATTACKS 7)', () => {
  // Per node: 6 saves over the four payments (proposer: pending + countersigned; responder: countersigned).
  for (const victim of [0, 1] as const)
    for (const mode of ['before', 'after'] as const)
      for (let k = 1; k <= 6; k++)
        test(`${victim === 0 ? 'alice' : 'bob'} crashes at save ${k} ${mode} the write`, async () => {
          await crashRun(victim, k, mode)
        })
  // Queued payments from Alice, one update each: her saves are pending(v1), then latest(v1)+pending(v2) in one write, … (5 saves), Bob's one per update.
  for (const victim of [0, 1] as const)
    for (const mode of ['before', 'after'] as const)
      for (let k = 1; k <= (victim === 0 ? 5 : 4); k++)
        test(`queued payments: ${victim === 0 ? 'alice' : 'bob'} crashes at save ${k} ${mode} the write`, async () => {
          await crashRun(victim, k, mode, true)
        })
  // The same payments merged: v1 carries the first, v2 the three that queued behind it. Alice: pending(v1),
  // latest(v1)+pending(v2 merged), latest(v2); Bob: v1, v2.
  for (const victim of [0, 1] as const)
    for (const mode of ['before', 'after'] as const)
      for (let k = 1; k <= (victim === 0 ? 3 : 2); k++)
        test(`merged queued payments: ${victim === 0 ? 'alice' : 'bob'} crashes at save ${k} ${mode} the write`, async () => {
          await crashRun(victim, k, mode, true, 64)
        })
  test('the durability check fails for a store that commits after the send (the instrumentation can fail)', async () => {
    const violations = await crashRun(0, 0, 'lazy')
    assert.ok(violations.length > 0)
  })
})

/**
 * Crash at each save of the open handshake. A: 1 request (v0 signed by her),
 * 2 v0 signed by both (before her deposit), 3 funded. B: 1 v0 countersigned
 * (before his ack), 2 funded (after his confirm).
 */
async function openCrashRun(victim: 0 | 1, k: number, mode: 'before' | 'after') {
  const h = new Harness(mode, victim === 0 ? [k, 0] : [0, k])
  const { stores, nodes, parties, world } = h
  await nodes[0].whenConnected(parties[1].address)
  let opened: `0x${string}` | undefined
  h.open()
    .then((id) => {
      opened = id
    })
    .catch(() => {})
  await until(() => stores[victim].crashed)
  h.restart(victim)
  if (victim === 0 && k === 1 && mode === 'before') {
    // A died before her first write: she never asked, nothing exists anywhere.
    await settle(20)
    assert.equal(world.l1.events({ name: 'Opened' }).length, 0)
    assert.deepEqual(nodes[0].channelIds(), [])
    assert.deepEqual(nodes[1].channelIds(), [])
    h.checkEnd()
  } else {
    // Every other point resumes on the new connection and the channel opens.
    await until(() => {
      const ids = nodes[0].channelIds()
      return ids.length === 1 && nodes[0].status(ids[0]!).phase === 'open' && nodes[1].channelIds().length === 1 && nodes[1].status(ids[0]!).phase === 'open'
    })
    const id = nodes[0].channelIds()[0]!
    if (victim === 1) await until(() => opened === id)
    assert.deepEqual((await nodes[0].onChain(id))?.deposits, [10n * ETH, 5n * ETH], 'each deposit exactly once')
    assert.equal(await nodes[0].pay({ channelId: id, amount: 3n }), 1n)
    await h.closeAndCheck(id)
  }
  h.teardown()
}

describe('crash during the open handshake, restart from SQLite', () => {
  for (const victim of [0, 1] as const)
    for (let k = 1; k <= (victim === 0 ? 3 : 2); k++)
      for (const mode of ['before', 'after'] as const)
        test(`${victim === 0 ? 'alice' : 'bob'} crashes at open save ${k} ${mode} the write`, async () => {
          await openCrashRun(victim, k, mode)
        })
})

/**
 * Crash at each save of a top-up by Bob (after one payment). Bob: 1 proposal,
 * 2 countersigned (awaiting his deposit), 3 deposit seen. Alice: 1
 * countersigned, 2 deposit seen. After the restart the deposit is on L1
 * exactly once, both sides hold the same state, and it pays out.
 */
async function topUpCrashRun(victim: 0 | 1, k: number, mode: 'before' | 'after') {
  const h = new Harness(mode)
  const { stores, nodes, parties } = h
  await nodes[0].whenConnected(parties[1].address)
  const channelId = await h.open()
  await until(() => nodes[1].status(channelId).phase === 'open')
  await nodes[0].pay({ channelId, amount: ETH })
  await settle()
  stores[victim].crashAt = stores[victim].saves + k
  nodes[1].topUp({ channelId, amount: 2n * ETH }).catch(() => {})
  await until(() => stores[victim].crashed || (nodes[0].machine(channelId).awaitingDeposit === undefined && nodes[1].machine(channelId).awaitingDeposit === undefined && nodes[0].status(channelId).version === 2n))
  assert.ok(stores[victim].crashed, `crash point ${k} reached`)
  h.restart(victim)
  await h.converged(channelId)
  await until(() => nodes[0].machine(channelId).awaitingDeposit === undefined && nodes[1].machine(channelId).awaitingDeposit === undefined)
  assert.ok(bytesEqual(nodes[0].latest(channelId).digest, nodes[1].latest(channelId).digest), 'converged on one state')
  const info = await nodes[0].onChain(channelId)
  const balances = nodes[0].latest(channelId).state.balances
  assert.equal(info!.deposits[0] + info!.deposits[1], balances[0] + balances[1], 'deposits match the latest state')
  // Either the top-up completed (deposited exactly once) or it never got countersigned (nothing deposited).
  assert.ok(info!.deposits[1] === 5n * ETH || info!.deposits[1] === 7n * ETH, `deposit ${info!.deposits[1]}`)
  await nodes[0].pay({ channelId, amount: 1n })
  await h.closeAndCheck(channelId)
  h.teardown()
}

describe('crash during a top-up, restart from SQLite', () => {
  for (const victim of [0, 1] as const)
    for (let k = 1; k <= (victim === 0 ? 2 : 3); k++)
      for (const mode of ['before', 'after'] as const)
        test(`${victim === 0 ? 'alice' : 'bob'} crashes at top-up save ${k} ${mode} the write`, async () => {
          await topUpCrashRun(victim, k, mode)
        })
})

describe('crash at a group commit (several channels in one transaction), restart from SQLite', () => {
  test('the group commit writes both channels in one transaction', async () => {
    const h = new Harness('before')
    await h.nodes[0].whenConnected(h.parties[1].address)
    const ids = [await h.open(1n), await h.open(2n)] as const
    await until(() => ids.every((id) => h.nodes[1].status(id).phase === 'open'))
    const before = h.stores.map((s) => s.saves)
    await Promise.all(ids.map((channelId) => h.nodes[0].pay({ channelId, amount: 1n })))
    await settle()
    for (const i of [0, 1] as const) {
      assert.equal(h.stores[i].largestGroup, 2, 'two records in one transaction')
      // Alice: proposals (1 commit), then both countersignatures (1); Bob: both accepts (1).
      assert.equal(h.stores[i].saves - (before[i] as number), i === 0 ? 2 : 1)
    }
    h.checkEnd()
    h.teardown()
  })
})

/** Each side queues four payments at once on every channel (merged on both sides, both directions). */
const TWO_WAY: [0 | 1, bigint][] = [
  [0, 3n],
  [1, 2n],
  [0, 5n],
  [1, 1n],
  [0, 7n],
  [1, 4n],
  [0, 9n],
  [1, 6n],
]

/**
 * Merged updates in both directions, on one channel or on two (then also
 * group-committed): both nodes queue their payments at once. `k` = 0 runs
 * without a crash and returns each side's commits after the open and the
 * largest number of payments one state carried; otherwise the victim crashes
 * at its k-th commit, restarts from its file, and both converge, keep every
 * resolved payment, pay again and pay out exactly.
 */
async function twoWayCrashRun(victim: 0 | 1, k: number, mode: 'before' | 'after', channels: 1 | 2): Promise<{ commits: [number, number]; largestMerge: number; mergedBy: number; largestGroup: number }> {
  let largestMerge = 0
  // Who proposed each merged state: the side whose balance its second payment lowers.
  const mergedBy = new Set<0 | 1>()
  const onSignedState = (_s: unknown, steps?: readonly ChannelState[]) => {
    if (steps === undefined || steps.length < 2) return
    largestMerge = Math.max(largestMerge, steps.length)
    mergedBy.add((steps[1] as ChannelState).balances[0] < (steps[0] as ChannelState).balances[0] ? 0 : 1)
  }
  const h = new Harness(mode, [0, 0], { onSignedState })
  const { stores, nodes, parties } = h
  await nodes[0].whenConnected(parties[1].address)
  const ids = channels === 1 ? [await h.open(1n)] : [await h.open(1n), await h.open(2n)]
  await until(() => ids.every((id) => nodes[1].status(id).phase === 'open'))
  const before = [stores[0].saves, stores[1].saves]
  if (k > 0) stores[victim].crashAt = stores[victim].saves + k
  const resolved = new Map<string, bigint>()
  const sent = new Map<string, [bigint, bigint]>(ids.map((id) => [id, [0n, 0n]]))
  let settled = 0
  let n = 0
  for (const [from, amount] of TWO_WAY)
    for (const channelId of ids) {
      n++
      nodes[from]
        .pay({ channelId, amount })
        .then((v) => {
          resolved.set(channelId, v > (resolved.get(channelId) ?? 0n) ? v : (resolved.get(channelId) as bigint))
          ;(sent.get(channelId) as [bigint, bigint])[from] += amount
        })
        .catch(() => {})
        .finally(() => {
          settled++
        })
    }
  await until(() => settled === n || stores[victim].crashed)
  if (k === 0) {
    await settle()
    for (const channelId of ids) {
      await h.converged(channelId)
      const [a, b] = sent.get(channelId) as [bigint, bigint]
      assert.deepEqual(nodes[1].latest(channelId).state.balances, [10n * ETH - a + b, 5n * ETH + a - b], 'every payment landed exactly once')
    }
    const commits: [number, number] = [stores[0].saves - (before[0] as number), stores[1].saves - (before[1] as number)]
    const largestGroup = Math.max(stores[0].largestGroup, stores[1].largestGroup)
    h.checkEnd()
    h.teardown()
    return { commits, largestMerge, mergedBy: mergedBy.size, largestGroup }
  }
  assert.ok(stores[victim].crashed, `crash point ${k} reached`)
  h.restart(victim)
  for (const channelId of ids) {
    await h.converged(channelId)
    const [ma, mb] = [nodes[0].machine(channelId), nodes[1].machine(channelId)]
    assert.ok(bytesEqual(ma.latest.digest, mb.latest.digest), 'converged on one state')
    assert.ok(ma.latest.state.version >= (resolved.get(channelId) ?? 0n), 'resolved payments kept')
    const [a, b] = sent.get(channelId) as [bigint, bigint]
    const moved = 10n * ETH - ma.latest.state.balances[0]
    // At least what resolved moved; at most that plus what the crash left unknown.
    const unknownA = TWO_WAY.filter(([f]) => f === 0).reduce((t, [, x]) => t + x, 0n) - a
    const unknownB = TWO_WAY.filter(([f]) => f === 1).reduce((t, [, x]) => t + x, 0n) - b
    assert.ok(moved >= a - b - unknownB && moved <= a + unknownA - b, `moved ${moved} within the resolved payments and the unknown ones`)
  }
  for (const channelId of ids) await nodes[1].pay({ channelId, amount: 4n })
  for (const [i, channelId] of ids.entries()) await h.closeAndCheck(channelId, i === ids.length - 1)
  h.teardown()
  return { commits: [0, 0], largestMerge, mergedBy: mergedBy.size, largestGroup: 0 }
}

describe('crash at every commit of merged updates in both directions (one channel, and two channels group-committed), restart from SQLite', () => {
  // Each side's commits after the open without a crash (asserted first, so the crash points below are every commit).
  const COMMITS: Record<1 | 2, [number, number]> = { 1: [5, 5], 2: [5, 5] }
  for (const channels of [1, 2] as const) {
    const what = channels === 1 ? '1 channel' : '2 channels'
    test(`${what}: without a crash both sides merge${channels === 2 ? ', both channels go in one transaction' : ''}, every payment lands once, ${COMMITS[channels].join(' + ')} commits`, async () => {
      const r = await twoWayCrashRun(0, 0, 'before', channels)
      assert.ok(r.largestMerge > 1, 'payments shared a state')
      assert.equal(r.mergedBy, 2, 'both sides proposed merged states')
      if (channels === 2) assert.equal(r.largestGroup, 2, 'both channels in one transaction')
      assert.deepEqual(r.commits, COMMITS[channels])
    })
    for (const victim of [0, 1] as const)
      for (const mode of ['before', 'after'] as const)
        for (let k = 1; k <= COMMITS[channels][victim]; k++)
          test(`${what}: ${victim === 0 ? 'alice' : 'bob'} crashes at commit ${k} ${mode} the write`, async () => {
            await twoWayCrashRun(victim, k, mode, channels)
          })
  }
})
