/** TCP transport in one process: framing limits close only the offending connection; the server keeps serving. */
import assert from 'node:assert/strict'
import net from 'node:net'
import { describe, test } from 'node:test'
import { DecodeError, encode } from '@l2bench/core'
import { ChannelNode, FrameError, LinkError, MAX_FRAME, MemoryStore, type SocketLink, encodeFrame, handshakeCodec, tcpConnect, tcpListen } from '../src/index.ts'
import { ETH, makeWorld, until } from './fixtures.ts'

function rawClient(port: number): Promise<net.Socket> {
  return new Promise((resolve) => {
    // resume(): a paused socket with unread data (the server's hello) never reports the close.
    const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(s.resume()))
  })
}

describe('TCP transport', () => {
  test('oversized and empty frames close that connection cleanly; malformed payloads are typed errors; others keep working', async () => {
    const world = makeWorld()
    const a = world.party('alice')
    const b = world.party('bob')
    const bob = new ChannelNode({ signer: b.signer, wallet: b.wallet, adjudicator: world.adj, store: new MemoryStore(), timers: false })
    const alice = new ChannelNode({ signer: a.signer, wallet: a.wallet, adjudicator: world.adj, store: new MemoryStore(), timers: false })
    const serverLinks: SocketLink[] = []
    const server = await tcpListen({ port: 0 }, (link) => {
      serverLinks.push(link)
      bob.attach(link)
    })
    try {
      // 1. Oversized length prefix.
      const s1 = await rawClient(server.port)
      const closed1 = new Promise((r) => s1.on('close', r))
      const head = Buffer.alloc(4)
      head.writeUInt32BE(MAX_FRAME + 1)
      s1.write(head)
      await closed1
      assert.ok(serverLinks[0]?.frameErrors[0] instanceof FrameError)
      // 2. Empty frame.
      const s2 = await rawClient(server.port)
      const closed2 = new Promise((r) => s2.on('close', r))
      s2.write(Buffer.alloc(4))
      await closed2
      // 3. Garbage in a well-formed frame before the handshake: a DecodeError, and the connection is closed.
      const s3 = await rawClient(server.port)
      const closed3 = new Promise((r) => s3.on('close', r))
      s3.write(encodeFrame(new Uint8Array([0x63, 1, 2])))
      await closed3
      assert.ok(bob.errors[0] instanceof DecodeError)
      // 4. A hello for another chain: a typed error, the connection is closed.
      const s4 = await rawClient(server.port)
      const closed4 = new Promise((r) => s4.on('close', r))
      const ephemeral = new Uint8Array(33).fill(2)
      s4.write(encodeFrame(encode(handshakeCodec, { type: 'hello', chainId: 999n, protocol: new Uint8Array(32), ephemeral })))
      await closed4
      assert.ok(bob.errors.some((e) => e instanceof LinkError && e.field === 'chainId'))
      // 5. A real peer still opens a channel and pays.
      const link = tcpConnect('127.0.0.1', server.port)
      alice.attach(link)
      await alice.whenConnected(b.address)
      const channelId = await alice.open({ peer: b.address, peerPublicKey: b.signer.publicKey, deposit: ETH, disputeWindow: 5 })
      assert.equal(await alice.pay({ channelId, amount: 5n }), 1n)
      // Drop the connection: it reconnects, resyncs and keeps going.
      link.drop()
      assert.equal(await alice.pay({ channelId, amount: 5n }), 2n)
      await until(() => bob.status(channelId).version === 2n)
      assert.ok(link.reconnects >= 1)
      link.close()
    } finally {
      alice.stop()
      bob.stop()
      await server.close()
    }
  })
})
