/**
 * ATTACKS 34–37 (issue 11 items 8, 9, 10, 11, 12, 13, 14) for channels:
 * liveness and denial of service — two-way load, strangers on the wire,
 * a peer that refuses everything, slow frames, idle and half-open
 * connections, a disk that fills up, non-canonical strings.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { DecodeError, NodeSigner, decode, encode, secretKeyFromSeed } from '@l2bench/core'
import {
  ChannelError,
  ChannelNode,
  type ChannelNodeOptions,
  FrameDecoder,
  LinkError,
  MAX_DEFERRED,
  MemoryStore,
  type ChannelStore,
  SqliteStore,
  type WireMessage,
  decodeMessage,
  encodeFrame,
  encodeMessage,
  handshakeCodec,
  memoryLinkPair,
  tcpConnect,
  tcpListen,
  wireCodec,
} from '../src/index.ts'
import { ETH, makeWorld, nodePair, settle, until } from './fixtures.ts'

/** Keeps `inFlight` payments of 1 wei running from one side until `stop()` says so; counts completions and failures. */
function load(node: ChannelNode, channelId: `0x${string}`, inFlight: number) {
  const stats = { done: 0, failed: 0, stopped: false }
  const run = async () => {
    while (!stats.stopped) {
      try {
        await node.pay({ channelId, amount: 1n })
        stats.done++
      } catch {
        stats.failed++
        return
      }
    }
  }
  const jobs = Array.from({ length: inFlight }, run)
  return { stats, done: () => Promise.all(jobs) }
}

/** Two payments in flight from each side until `total` completed (or one failed); asserts both progressed fairly. */
async function twoWay(alice: ChannelNode, bob: ChannelNode, channelId: `0x${string}`, total: number): Promise<[number, number]> {
  const la = load(alice, channelId, 2)
  const lb = load(bob, channelId, 2)
  await until(() => la.stats.done + lb.stats.done >= total || la.stats.failed + lb.stats.failed > 0, 2000, 60_000)
  la.stats.stopped = true
  lb.stats.stopped = true
  await Promise.all([la.done(), lb.done()])
  assert.equal(la.stats.failed + lb.stats.failed, 0)
  // Fair: each side got at least a third of the updates (the old lower-address rule gave one side all of them).
  const sum = la.stats.done + lb.stats.done
  assert.ok(la.stats.done * 3 >= sum && lb.stats.done * 3 >= sum, `alice ${la.stats.done}, bob ${lb.stats.done}`)
  await until(() => alice.status(channelId).version === bob.status(channelId).version)
  assert.deepEqual(alice.latest(channelId).digest, bob.latest(channelId).digest)
  return [la.stats.done, lb.stats.done]
}

/** Alice dials Bob's TCP server in this process and opens a channel (10 + 5 ETH). */
async function tcpPair(opts: { alice?: Partial<ChannelNodeOptions>; bobStore?: ChannelStore } = {}) {
  const world = makeWorld()
  const a = world.party('alice')
  const b = world.party('bob')
  const alice = new ChannelNode({ signer: a.signer, wallet: a.wallet, adjudicator: world.adj, store: new MemoryStore(), timers: false, ...opts.alice })
  const bob = new ChannelNode({ signer: b.signer, wallet: b.wallet, adjudicator: world.adj, store: opts.bobStore ?? new MemoryStore(), timers: false, acceptLimits: { maxDeposit: 5n * ETH } })
  const server = await tcpListen({ port: 0 }, (link) => bob.attach(link))
  const link = tcpConnect('127.0.0.1', server.port)
  const close = async () => {
    link.close()
    alice.stop()
    bob.stop()
    await server.close()
  }
  try {
    alice.attach(link)
    await alice.whenConnected(b.address)
    const channelId = await alice.open({ peer: b.address, peerPublicKey: b.signer.publicKey, deposit: 10n * ETH, peerDeposit: 5n * ETH, disputeWindow: 10 })
    await until(() => bob.status(channelId).phase === 'open')
    return { world, a, b, alice, bob, channelId, close }
  } catch (err) {
    await close()
    throw err
  }
}

describe('ATTACKS 34: two-way load with crossed proposals neither starves nor halts a side', () => {
  test('item 8: memory link with 1 ms delay, two payments in flight each way: both progress, nothing fails', async () => {
    const p = await nodePair({ link: { delayMs: 1 } })
    const { alice, bob, channelId } = p
    await until(() => bob.status(channelId).phase === 'open')
    const [fromAlice, fromBob] = await twoWay(alice, bob, channelId, 400)
    assert.equal(alice.failure, undefined)
    assert.equal(bob.failure, undefined)
    for (const n of [alice, bob]) assert.ok(n.machine(channelId).deferred.length <= MAX_DEFERRED)
    const net = BigInt(fromBob - fromAlice)
    assert.deepEqual(alice.status(channelId).balances, [10n * ETH + net, 5n * ETH - net])
  })

  test('item 8: the same over real TCP in one process', async () => {
    const { alice, bob, channelId, close } = await tcpPair({ alice: { acceptLimits: { maxDeposit: 5n * ETH } } })
    try {
      const [fromAlice, fromBob] = await twoWay(alice, bob, channelId, 200)
      const net = BigInt(fromBob - fromAlice)
      assert.deepEqual(alice.status(channelId).balances, [10n * ETH + net, 5n * ETH - net])
    } finally {
      await close()
    }
  })
})

describe('ATTACKS 35: every frame that changes what a node believes is authenticated', () => {
  test('item 9: a stranger cannot take Alice’s route — its handshake binds its own key, a forged or replayed auth is refused', async () => {
    const p = await nodePair()
    const { alice, bob, channelId, a, b } = p
    // 1. Mallory's own node connects to Bob: it is Mallory, not Alice.
    const world = p.world
    const m = world.party('mallory')
    const mallory = new ChannelNode({ signer: m.signer, wallet: m.wallet, adjudicator: world.adj, store: new MemoryStore(), timers: false })
    const ml = memoryLinkPair()
    mallory.attach(ml[0])
    bob.attach(ml[1])
    await mallory.whenConnected(b.address)
    assert.ok(bob.isConnected(m.address))
    assert.equal(bob.linkTo(a.address)?.peer, a.address, 'Alice’s route is untouched')
    // 2. A raw connection that speaks the handshake with Alice's public key but cannot sign for her.
    const raw = memoryLinkPair()
    const secure = bob.attach(raw[1])
    const bobHello: Uint8Array[] = []
    raw[0].onFrame((f) => bobHello.push(f))
    await settle()
    const hello = decode(handshakeCodec, bobHello[0] as Uint8Array)
    assert.equal(hello.type, 'hello')
    const protocol = (hello as Extract<typeof hello, { type: 'hello' }>).protocol
    // Any valid point will do as the ephemeral key; the auth claims Alice's key with Mallory's signature.
    const mk = new NodeSigner(secretKeyFromSeed('mallory'))
    raw[0].send(encode(handshakeCodec, { type: 'hello', chainId: world.l1.chainId, protocol, ephemeral: mk.publicKey }))
    raw[0].send(encode(handshakeCodec, { type: 'auth', publicKey: a.signer.publicKey, sig: mk.sign(new Uint8Array(32)) }))
    await settle()
    assert.ok(bob.errors.some((e) => e instanceof LinkError && e.code === 'AUTH' && e.field === 'sig'))
    assert.equal(secure.peer, undefined)
    assert.equal(raw[1].isOpen, false, 'the connection was dropped')
    // 3. Mallory hangs up: Bob still reaches Alice, payments go on.
    ml[0].close()
    await settle()
    assert.ok(bob.isConnected(a.address))
    assert.equal(await alice.pay({ channelId, amount: 1n }), 1n)
    assert.equal(await bob.pay({ channelId, amount: 1n }), 2n)
  })

  test('item 9: a second authenticated link of the same peer never replaces the live route; it takes over when the route closes', async () => {
    const p = await nodePair()
    const { alice, bob, channelId, a, b, links } = p
    const second = memoryLinkPair()
    const s0 = alice.attach(second[0])
    const s1 = bob.attach(second[1])
    await until(() => s0.isOpen && s1.isOpen)
    assert.equal(bob.linkTo(a.address), p.secure[1], 'the first route stays')
    links[0].close()
    await until(() => bob.linkTo(a.address) === s1 && alice.linkTo(b.address) === s0)
    assert.equal(await bob.pay({ channelId, amount: 1n }), 1n)
  })

  test('item 9: frames injected on the wire (forged tags, flipped bits) never reach the node', async () => {
    const p = await nodePair()
    const { alice, bob, channelId, links } = p
    const fake: WireMessage = { type: 'reject', channelId: bob.machine(channelId).params.channelId, version: 1n, code: 'POLICY', digest: undefined, entry: undefined }
    const payload = encodeMessage(fake)
    const frame = new Uint8Array(25 + payload.length)
    frame[0] = 3
    frame.set(payload, 9)
    const errs = bob.errors.length
    links[0].send(frame)
    links[0].send(encodeMessage(fake)) // not even a data frame
    await settle()
    const got = bob.errors.slice(errs)
    assert.ok(got.some((e) => e instanceof LinkError && e.code === 'MAC'), got.map(String).join('\n'))
    // The other one is not even a data frame: the handshake decoder refuses it. Nothing reached the channel protocol.
    assert.ok(got.every((e) => e instanceof LinkError || e instanceof DecodeError), got.map(String).join('\n'))
    assert.equal(got.length, 2)
    assert.equal(bob.machine(channelId).forkVersion, undefined)
    assert.equal(await alice.pay({ channelId, amount: 1n }), 1n)
  })

  test('item 10: a peer that rejects every proposal: pay() fails with REJECTED after a bounded number of signatures', async () => {
    const refuse = () => {
      throw new ChannelError('POLICY', 'state', 'Mallory refuses everything')
    }
    const p = await nodePair({ nodes: [{}, { policy: refuse }] })
    const { alice, bob, channelId, stores } = p
    void bob
    const saves = (stores[0] as MemoryStore).saves
    await assert.rejects(alice.pay({ channelId, amount: 1n }), (e: ChannelError) => e.code === 'REJECTED' && /POLICY|refused/.test(e.message))
    const signed = (stores[0] as MemoryStore).saves - saves
    assert.ok(signed <= 6, `Alice persisted ${signed} times (3 proposals and 3 rejections at most)`)
    // Nothing was lost: the latest state is the open one, the channel still closes on L1.
    assert.equal(alice.status(channelId).version, 0n)
    const r = await alice.forceClose({ channelId })
    assert.equal(r.events[0]?.data.version, 0n)
  })

  test('item 10: a reject of version 0 after the ack changes nothing: the channel opens and is funded', async () => {
    const world = makeWorld()
    const a = world.party('alice')
    const m = world.party('mallory')
    const alice = new ChannelNode({ signer: a.signer, wallet: a.wallet, adjudicator: world.adj, store: new MemoryStore(), timers: false })
    const mallory = new ChannelNode({ signer: m.signer, wallet: m.wallet, adjudicator: world.adj, store: new MemoryStore(), timers: false })
    const links = memoryLinkPair()
    alice.attach(links[0])
    const ms = mallory.attach(links[1])
    // Every openAck Mallory sends is followed by a reject of version 0.
    const send = ms.send.bind(ms)
    ms.send = (f) => {
      send(f)
      const msg = decodeMessage(f)
      if (msg.type === 'openAck') send(encodeMessage({ type: 'reject', channelId: msg.channelId, version: 0n, code: 'POLICY', digest: undefined, entry: undefined }))
    }
    await alice.whenConnected(m.address)
    const id = await alice.open({ peer: m.address, peerPublicKey: m.signer.publicKey, deposit: ETH, disputeWindow: 10 })
    assert.equal((await alice.onChain(id))?.phase, 'open')
    assert.equal(alice.status(id).phase, 'open')
  })
})

describe('ATTACKS 36: linear reassembly; connections, buffers and idle links are bounded', () => {
  test('item 11: a 128 KiB frame fed one byte at a time copies each byte once', () => {
    const payload = new Uint8Array(128 * 1024).map((_, i) => i & 0xff)
    const stream = encodeFrame(payload)
    const d = new FrameDecoder()
    const out: Uint8Array[] = []
    for (let i = 0; i < stream.length; i++) out.push(...d.push(stream.subarray(i, i + 1)))
    assert.equal(out.length, 1)
    assert.deepEqual(out[0], payload)
    assert.equal(d.copied, stream.length, 'prefix and payload copied once (the old decoder copied Σ n ≈ 8.6 × 10⁹ bytes here)')
    assert.equal(d.bufferedBytes, 0)
  })

  test('item 12: connection cap, pre-authentication frame limit, shared buffer budget, hello timeout', async () => {
    const world = makeWorld()
    const b = world.party('bob')
    const bob = new ChannelNode({ signer: b.signer, wallet: b.wallet, adjudicator: world.adj, store: new MemoryStore(), timers: false, links: { helloTimeoutMs: 300 } })
    const capped = await tcpListen({ port: 0, maxConnections: 5 }, (link) => bob.attach(link))
    const budgeted = await tcpListen({ port: 0, bufferBudget: 2_000 }, (link) => bob.attach(link))
    const sockets: net.Socket[] = []
    const dial = (port: number) =>
      new Promise<net.Socket>((resolve) => {
        const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(s.resume()))
        s.on('error', () => {})
        sockets.push(s)
      })
    try {
      // 1. At most maxConnections sockets; the rest are closed as they arrive.
      for (let i = 0; i < 10; i++) await dial(capped.port)
      await until(() => capped.refused === 5, 2000, 5_000)
      assert.equal(capped.connections, 5)
      // 2. A large frame before authenticating: refused at its length prefix, nothing buffered.
      const big = await dial(budgeted.port)
      const closedBig = new Promise((r) => big.on('close', r))
      const head = Buffer.alloc(4)
      head.writeUInt32BE(100_000)
      big.write(head)
      await closedBig
      // 3. Twenty strangers each start a 250-byte frame and stop: the shared budget closes those beyond 2,000 bytes.
      for (let i = 0; i < 20; i++) {
        const s = await dial(budgeted.port)
        const h = Buffer.alloc(4 + 200)
        h.writeUInt32BE(250)
        s.write(h)
      }
      await until(() => budgeted.connections <= 10 && budgeted.buffered > 0, 2000, 5_000)
      await settle(20)
      assert.ok(budgeted.buffered <= 2_000, `${budgeted.buffered} bytes held`)
      // 4. None of them authenticates: the hello timeout closes them all and frees everything.
      await until(() => capped.connections === 0 && budgeted.connections === 0, 2000, 10_000)
      assert.equal(budgeted.buffered, 0)
      assert.ok(bob.errors.some((e) => e instanceof LinkError && e.code === 'TIMEOUT' && e.field === 'hello'))
    } finally {
      for (const s of sockets) s.destroy()
      bob.stop()
      await capped.close()
      await budgeted.close()
    }
  })

  test('item 12: a half-open link (the peer went silent) is dropped by the idle timeout', async () => {
    const p = await nodePair({ node: { links: { idleTimeoutMs: 150 } } })
    const { alice, b, links } = p
    assert.ok(alice.isConnected(b.address))
    links[1].send = () => {} // Bob's side stops sending anything, keep-alives included
    await until(() => !alice.isConnected(b.address), 2000, 5_000)
    assert.ok(alice.errors.some((e) => e instanceof LinkError && e.code === 'TIMEOUT' && e.field === 'link'))
  })
})

describe('ATTACKS 36/13: a node whose store failed closes its links and restarts in process', () => {
  test('item 13: disk full at Bob: Alice sees a disconnect; after space returns Bob restarts, resyncs, nothing is lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-full-'))
    const sqlite = new SqliteStore(join(dir, 'bob.db'))
    // The disk: full while \`full\` is set (what better-sqlite3 throws then: SQLITE_FULL); the file itself is real.
    const disk = { full: false }
    const store: ChannelStore = {
      save: (m) => {
        if (disk.full) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })
        sqlite.save(m)
      },
      load: (id) => sqlite.load(id),
      loadAll: () => sqlite.loadAll(),
      close: () => sqlite.close(),
    }
    // Alice runs her timers: a payment to a peer that went away times out.
    const { world, a, b, alice, bob, channelId, close } = await tcpPair({ alice: { timers: true, timeoutMs: 200, maxAttempts: 3 }, bobStore: store })
    try {
      await alice.pay({ channelId, amount: 1n })
      disk.full = true
      let paid = 1n
      let failure: unknown
      for (let i = 0; i < 500 && failure === undefined; i++) {
        try {
          await alice.pay({ channelId, amount: 1n })
          paid++
        } catch (err) {
          failure = err
        }
        if (bob.failure !== undefined) break
      }
      assert.equal((bob.failure as { code?: string })?.code, 'SQLITE_FULL')
      assert.ok(failure instanceof ChannelError, 'Alice’s payment failed with a typed error')
      await until(() => !alice.isConnected(b.address), 2000, 5_000)
      // Space returns; Bob comes back in the same process; Alice's link redials and both resync.
      disk.full = false
      bob.restart()
      await until(() => alice.isConnected(b.address) && bob.isConnected(a.address), 2000, 15_000)
      const more = await alice.pay({ channelId, amount: 2n })
      await until(() => bob.status(channelId).version === more)
      assert.deepEqual(alice.latest(channelId).digest, bob.latest(channelId).digest)
      const bal = alice.status(channelId).balances
      assert.equal(bal[0] + bal[1], 15n * ETH)
      assert.ok(bal[1] >= 5n * ETH + paid + 2n, 'every payment Alice saw completed is in the state')
      const before = world.l1.balanceOf(b.address)
      await alice.closeCooperative({ channelId })
      assert.equal(world.l1.balanceOf(b.address), before + bal[1])
      assert.equal(world.l1.totalBalances() + world.l1.totalBurnt(), world.l1.totalMinted())
    } finally {
      await close()
      store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('ATTACKS 37: channel messages decode canonically', () => {
  test('item 14: a reject code with a leading BOM round-trips byte for byte', () => {
    const msg: WireMessage = { type: 'reject', channelId: new Uint8Array(32).fill(1), version: 3n, code: '\uFEFFPOLICY', digest: undefined, entry: undefined }
    const bytes = encodeMessage(msg)
    const back = decode(wireCodec, bytes) as Extract<WireMessage, { type: 'reject' }>
    assert.equal(back.code, '\uFEFFPOLICY')
    assert.deepEqual(encodeMessage(back), bytes)
  })
})
