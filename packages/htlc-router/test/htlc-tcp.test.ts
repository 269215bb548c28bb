/**
 * HTLC payments over real TCP (payment-channel's tcpListen / tcpConnect),
 * with strangers on the wire (ATTACKS 35, 36): a socket that claims to be
 * alice with the old unsigned hello, one that announces a 100 kB frame before
 * authenticating, one that connects and stays silent, and more sockets than
 * the server admits. Bob drops each of them, keeps his authenticated route to
 * alice, and payments go through with every balance where it should be.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { test } from 'node:test'
import { type Amount, NodeSigner, codec, encode, secretKeyFromSeed } from '@l2bench/core'
import { MockL1, Wallet } from '@l2bench/l1-mock'
import { type SocketLink, type TcpServer, encodeFrame, tcpConnect, tcpListen } from '@l2bench/payment-channel'
import { HtlcAdjudicator, HtlcNode, drainEventLoop as settle } from '../src/index.ts'

const M = 1_000_000n

/** Resolves when `socket` is closed (by the other end or by an error). */
function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve()
    else socket.once('close', () => resolve())
  })
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s))
    s.once('error', reject)
    // Read (and discard) what bob sends, so that his hang-up is seen.
    s.resume()
  })
}

async function until(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) assert.fail('condition not reached in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

test('HTLC links over TCP: strangers claiming to be alice, oversized pre-auth frames, silent sockets and a connection flood are dropped; payments go through', async () => {
  const l1 = new MockL1()
  const adjudicator = l1.deploy(new HtlcAdjudicator())
  const [alice, bob] = ['alice', 'bob'].map((name) => {
    const signer = new NodeSigner(secretKeyFromSeed(`tcp:${name}`))
    l1.mint(signer.address, 10n ** 21n)
    return new HtlcNode({ signer, wallet: new Wallet(signer, l1), adjudicator, acceptLimits: { maxDeposit: M }, links: { helloTimeoutMs: 300 } })
  }) as [HtlcNode, HtlcNode]
  const servers: TcpServer[] = []
  const clients: SocketLink[] = []
  const strangers: net.Socket[] = []
  try {
    servers.push(await tcpListen({}, (link) => bob.channel.attach(link)))
    servers.push(await tcpListen({ maxConnections: 8 }, (link) => bob.attachHtlc(link)))
    const [chanServer, htlcServer] = servers as [TcpServer, TcpServer]
    const cl = tcpConnect('127.0.0.1', chanServer.port)
    const hl = tcpConnect('127.0.0.1', htlcServer.port)
    clients.push(cl, hl)
    alice.attach(cl, hl)
    await alice.channel.whenConnected(bob.address)
    await until(() => bob.linkTo(alice.address) !== undefined)
    const route = bob.linkTo(alice.address)
    const id = await alice.openChannel({ peer: bob.address, peerPublicKey: bob.channel.signer.publicKey, deposit: M, peerDeposit: M, disputeWindow: 6, nonce: 1n })
    const cid = Uint8Array.from(Buffer.from(id.slice(2), 'hex'))
    const gas = (n: HtlcNode) => n.receipts.reduce((s, r) => s + r.fee, 0n)
    const money = () => [alice, bob].map((n) => n.balance(id) + l1.balanceOf(n.address) + gas(n))
    const before = money()
    const pay = async (amount: Amount) => {
      const inv = bob.createInvoice(amount)
      const out = await alice.sendPayment(inv.hash, [{ channelId: cid, amount, expiry: BigInt(l1.head().height + 40) }])
      assert.equal(out.status, 'settled')
    }
    await pay(1_000n)

    // A stranger with the old unsigned hello as alice: dropped, alice's route stays.
    const liar = await connect(htlcServer.port)
    strangers.push(liar)
    const legacy = codec.messages({ hello: [1, codec.struct({ address: codec.address })] })
    liar.write(encodeFrame(encode(legacy, { type: 'hello', address: alice.address })))
    await closed(liar)
    // One that announces a 100 kB frame before authenticating: the pre-handshake limit is a few hundred bytes.
    const big = await connect(htlcServer.port)
    strangers.push(big)
    const prefix = Buffer.alloc(4)
    prefix.writeUInt32BE(100_000)
    big.write(Buffer.concat([prefix, Buffer.alloc(1_000)]))
    await closed(big)
    // One that says nothing: dropped at the hello timeout.
    const silent = await connect(htlcServer.port)
    strangers.push(silent)
    const t0 = Date.now()
    await closed(silent)
    assert.ok(Date.now() - t0 >= 200, 'dropped by the hello timeout, not at once')
    // A flood: beyond maxConnections the server refuses at once.
    const flood = await Promise.all(Array.from({ length: 12 }, () => connect(htlcServer.port)))
    strangers.push(...flood)
    await until(() => htlcServer.refused > 0)
    assert.ok(htlcServer.connections <= 8)
    await Promise.all(flood.map(closed))
    await until(() => htlcServer.connections === 1)

    assert.equal(bob.linkTo(alice.address), route, "bob's authenticated route to alice never changed")
    await pay(2_000n)
    await settle()
    assert.deepEqual(alice.pendingHtlcs(), [])
    assert.deepEqual(bob.pendingHtlcs(), [])
    assert.deepEqual(
      money().map((x, i) => x - (before[i] as Amount)),
      [-3_000n, 3_000n],
    )
  } finally {
    for (const s of strangers) s.destroy()
    for (const c of clients) c.close()
    alice.stop()
    bob.stop()
    await Promise.all(servers.map((s) => s.close()))
  }
})
