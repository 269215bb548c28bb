/**
 * Crash and restart at every persistence point of open → payments → close,
 * for each of Alice, Bob and Ingrid: the party dies at its k-th save (before
 * the write, or just after it), restarts from its stores, reconnects, and the
 * script resumes. Every run must end with each party's exact share in its
 * ledger and Ingrid netting zero; and no coordination message ever carries a
 * signature of its sender that its store did not hold when it was sent.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type ChannelStore, CrashError, type Machine, MemoryStore, memoryLinkPair } from '@l2bench/payment-channel'
import { bytesEqual } from '@l2bench/core'
import { MemoryVirtualStore, type VirtualNode, type VirtualRecord, type VirtualStore, decodeVirtualMessage, virtualId } from '../src/index.ts'
import { ETH, type Party, type Trio, ingridLedgerTotal, makeNode, openVirtual, trio, turns } from './fixtures.ts'

type Who = 'alice' | 'bob' | 'ingrid'
const WHO: Who[] = ['alice', 'bob', 'ingrid']

/** Counts a party's saves across both of its stores; throws CrashError at save `at` (before or after writing). */
class Crasher {
  saves = 0
  crashed = false
  onCrash: () => void = () => {}
  constructor(
    readonly at: number,
    readonly after: boolean,
  ) {}
  save(write: () => void): void {
    this.saves++
    if (this.crashed) throw new CrashError('dead')
    if (this.saves !== this.at) {
      write()
      return
    }
    if (this.after) write()
    this.crashed = true
    this.onCrash()
    throw new CrashError(`save ${this.at}`)
  }
}

class CrashingChannelStore implements ChannelStore {
  constructor(
    readonly inner: MemoryStore,
    private readonly c: Crasher,
  ) {}
  get saves() {
    return this.inner.saves
  }
  save(m: Machine): void {
    this.c.save(() => this.inner.save(m))
  }
  load(id: Uint8Array) {
    return this.inner.load(id)
  }
  loadAll() {
    return this.inner.loadAll()
  }
  close() {}
}

class CrashingVirtualStore implements VirtualStore {
  constructor(
    readonly inner: MemoryVirtualStore,
    private readonly c: Crasher,
  ) {}
  get saves() {
    return this.inner.saves
  }
  save(r: VirtualRecord): void {
    this.c.save(() => this.inner.save(r))
  }
  loadAll() {
    return this.inner.loadAll()
  }
  close() {}
}

const PAYMENTS: [0 | 1, bigint][] = [
  [0, ETH / 2n],
  [1, ETH / 10n],
  [0, ETH / 5n],
]

/** Checks a coordination frame from `who`: a signature of its own must already be in its stores. */
function checkFrame(t: Trio, who: Who, inner: { channel: MemoryStore; virtual: MemoryVirtualStore }, frame: Uint8Array): void {
  if (frame[0] !== 3 || frame.length <= 25) return // handshake or keep-alive
  const msg = decodeVirtualMessage(frame.slice(9, frame.length - 16))
  const records = new Map(inner.virtual.loadAll().map((r) => [Buffer.from(r.vid).toString('hex'), r]))
  const rec = (id: Uint8Array) => records.get(Buffer.from(id).toString('hex'))
  const me = t[who] as Party
  const fail = (what: string) => assert.fail(`${who} sent ${msg.type} with ${what} not in its store`)
  if (msg.type === 'propose' && !bytesEqual(rec(virtualId(msg.params))?.sigs[0] ?? new Uint8Array(), msg.sig)) fail('its signature on version 0')
  if (msg.type === 'accept' && !bytesEqual(rec(msg.channelId)?.sigs[1] ?? new Uint8Array(), msg.sig)) fail('its signature on version 0')
  if (msg.type === 'active' && !bytesEqual(rec(msg.channelId)?.activation ?? new Uint8Array(), msg.sig)) fail('its activation')
  if (msg.type === 'settle') {
    const m = inner.channel.load(msg.state.channelId)
    const mine = who === 'alice' ? msg.sigA : msg.sigB
    if (m === undefined || !m.latest.state.isFinal || !bytesEqual(m.latest.sigs[who === 'alice' ? 0 : 1] as Uint8Array, mine)) fail('the final state')
  }
  void me
}

interface Run {
  t: Trio
  inner: Record<Who, { channel: MemoryStore; virtual: MemoryVirtualStore }>
  crasher: Crasher
  victim: Who
}

/** Links two nodes with both kinds of link, checking every coordination frame each sends. */
function link(run: Run, x: Who, y: Who): void {
  const ch = memoryLinkPair()
  const vc = memoryLinkPair()
  for (const [end, who] of [
    [vc[0], x],
    [vc[1], y],
  ] as const) {
    const send = end.send.bind(end)
    end.send = (f: Uint8Array) => {
      checkFrame(run.t, who, run.inner[who], f)
      send(f)
    }
  }
  run.t.nodes[x].attach(ch[0])
  run.t.nodes[y].attach(ch[1])
  run.t.nodes[x].attachVirtual(vc[0])
  run.t.nodes[y].attachVirtual(vc[1])
}

async function setup(victim: Who, at: number, after: boolean): Promise<Run> {
  const crasher = new Crasher(at, after)
  const inner = Object.fromEntries(WHO.map((w) => [w, { channel: new MemoryStore(), virtual: new MemoryVirtualStore() }])) as Run['inner']
  const stores = Object.fromEntries(
    WHO.map((w) => [w, w === victim ? { channel: new CrashingChannelStore(inner[w].channel, crasher), virtual: new CrashingVirtualStore(inner[w].virtual, crasher) } : inner[w]]),
  ) as unknown as Trio['stores']
  // The ledgers are opened before the crash counter runs (their own crash tests are payment-channel's).
  const armed = crasher.at
  ;(crasher as { at: number }).at = -1
  const t = await trio({ stores })
  ;(crasher as { at: number }).at = armed
  crasher.saves = 0
  const run: Run = { t, inner, crasher, victim }
  crasher.onCrash = () => t.nodes[victim].stop()
  // Replace trio's links by checked ones.
  for (const n of Object.values(t.nodes)) n.stop()
  t.nodes = { alice: makeNode(t.w, t.alice, stores.alice), bob: makeNode(t.w, t.bob, stores.bob), ingrid: makeNode(t.w, t.ingrid, stores.ingrid) }
  crasher.onCrash = () => t.nodes[victim].stop()
  link(run, 'alice', 'ingrid')
  link(run, 'bob', 'ingrid')
  link(run, 'alice', 'bob')
  await Promise.all([t.nodes.alice.whenConnected(t.ingrid.address), t.nodes.bob.whenConnected(t.ingrid.address), t.nodes.alice.whenConnected(t.bob.address)])
  return run
}

/** Restarts the crashed party from its stores (no more crashes) and reconnects it. */
async function restart(run: Run): Promise<void> {
  const { t, victim } = run
  t.nodes[victim] = makeNode(t.w, t[victim] as Party, run.inner[victim])
  for (const other of WHO) if (other !== victim) link(run, victim, other)
  await Promise.all(WHO.filter((o) => o !== victim).map((o) => t.nodes[victim].whenConnected((t[o] as Party).address)))
  run.crasher.crashed = false
  ;(run.crasher as { at: number }).at = -1
}

/** Runs the loop until `done`: turns, a restart after a crash, ticks far ahead (resends) when stuck. */
async function drive(run: Run, done: () => boolean, poke: () => void): Promise<void> {
  let clock = Date.now()
  for (let round = 0; round < 60; round++) {
    if (run.crasher.crashed) await restart(run)
    if (done()) return
    poke()
    await turns(30)
    if (done()) return
    clock += 10_000
    for (const n of Object.values(run.t.nodes)) n.tick(clock)
  }
  const t = run.t
  const st = WHO.map((w) => {
    const n = t.nodes[w]
    const v = n.virtualIds()[0]
    return `${w}: ${v === undefined ? '-' : n.records.get(v)?.status} ${v !== undefined && w !== 'ingrid' ? JSON.stringify(String(n.virtualStatus(v).version)) + ' ' + (() => { try { return n.channel.status(v).phase + ' p' + n.channel.status(v).pendingVersion } catch { return 'no machine' } })() : ''} A:${n.channel.channelIds().length} errs:${n.errors.slice(-3).map((e) => e.code + ' ' + e.message).join(' | ')} cherrs:${n.channel.errors.slice(-3).map((e) => e.code + ' ' + e.message).join(' | ')}`
  })
  throw new Error(`stuck: ${run.victim} crashed (${run.crasher.after ? 'after' : 'before'} writing)\n${st.join('\n')}`)
}

const status = (n: VirtualNode, vid: string | undefined) => (vid === undefined ? undefined : n.records.get(vid)?.status)

async function script(run: Run): Promise<void> {
  const { t } = run
  const hub = ingridLedgerTotal(t)
  let vid: string | undefined
  const vidOf = () => (vid ??= t.nodes.alice.virtualIds()[0]?.slice(2))
  let asked = false
  await drive(
    run,
    () => status(t.nodes.alice, vidOf()) === 'active' && status(t.nodes.bob, vidOf()) === 'active',
    () => {
      if (vidOf() === undefined && !asked) {
        asked = true
        openVirtual(t, 2n * ETH, ETH).catch(() => {
          asked = false // refused or crashed before anything was saved: ask again
        })
      }
    },
  )
  const id = `0x${vidOf()}` as `0x${string}`
  const expected: [bigint, bigint][] = [[2n * ETH, ETH]]
  for (const [from, amount] of PAYMENTS) {
    const prev = expected.at(-1) as [bigint, bigint]
    const next: [bigint, bigint] = [prev[0], prev[1]]
    next[from] -= amount
    next[from === 0 ? 1 : 0] += amount
    expected.push(next)
  }
  for (let i = 1; i < expected.length; i++) {
    const want = expected[i] as [bigint, bigint]
    const [from, amount] = PAYMENTS[i - 1] as [0 | 1, bigint]
    const has = (s: readonly bigint[] | undefined) => s !== undefined && s[0] === want[0] && s[1] === want[1]
    let paying = false
    await drive(
      run,
      () => has(t.nodes.alice.virtualStatus(id).balances) && has(t.nodes.bob.virtualStatus(id).balances),
      () => {
        const node = t.nodes[from === 0 ? 'alice' : 'bob']
        const cur = node.virtualStatus(id).balances
        const before = expected[i - 1] as [bigint, bigint]
        if (!paying && cur?.[0] === before[0] && node.channel.status(id).pendingVersion === undefined) {
          paying = true
          node.pay({ channelId: id, amount }).then(
            () => {},
            () => {
              paying = false
            },
          )
        }
      },
    )
  }
  let closing = false
  await drive(
    run,
    () => WHO.every((w) => status(t.nodes[w], vidOf()) === 'closed'),
    () => {
      if (!closing && status(t.nodes.alice, vidOf()) !== 'closed') {
        closing = true
        t.nodes.alice.closeVirtual({ channelId: id }).then(
          () => {},
          () => {
            closing = false
          },
        )
      }
    },
  )
  const y = expected.at(-1) as [bigint, bigint]
  assert.equal(t.nodes.alice.channel.status(t.ledgerA).myBalance, 8n * ETH + y[0])
  assert.equal(t.nodes.bob.channel.status(t.ledgerB).myBalance, 9n * ETH + y[1])
  assert.equal(ingridLedgerTotal(t), hub)
  for (const n of Object.values(t.nodes)) n.stop()
}

describe('crash at every persistence point of open, payments and close', () => {
  test('a clean run saves in a known number of places per party', async () => {
    for (const who of WHO) {
      const run = await setup(who, -1, false)
      await script(run)
      assert.ok(run.crasher.saves >= 5, `${who} saves ${run.crasher.saves} times`)
    }
  })

  for (const who of WHO) {
    test(`${who} crashes at each of its saves, before and after the write, restarts from its stores, and nobody loses anything`, async () => {
      const clean = await setup(who, -1, false)
      await script(clean)
      const n = clean.crasher.saves
      for (let k = 1; k <= n; k++)
        for (const after of [false, true]) {
          const run = await setup(who, k, after)
          try {
            await script(run)
          } catch (err) {
            throw new Error(`${who} crash at save ${k}/${n} ${after ? 'after' : 'before'} the write: ${(err as Error).message}`, { cause: err })
          }
          assert.ok(run.crasher.saves >= k || !run.crasher.crashed)
        }
    })
  }
})

