/**
 * Two OS processes over real TCP: the test process hosts the MockL1 (served to
 * the children over IPC); Alice and Bob each run a ChannelNode with a SQLite
 * store in their own process and exchange channel messages over a TCP
 * connection between them. Payments both ways, a dropped connection (resync
 * after reconnect), then a cooperative close checked on L1.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, fork } from 'node:child_process'
import { describe, test } from 'node:test'
import { NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import { MockL1 } from '@l2bench/l1-mock'
import { Adjudicator } from '../src/index.ts'
import { serveL1 } from './e2e/rpc-l1.ts'

const ETH = 10n ** 18n

function spawnParty(role: string, l1: MockL1, adj: Adjudicator) {
  const child = fork(new URL('./e2e/party.ts', import.meta.url), [role, String(l1.chainId), adj.address], {
    execArgv: ['--conditions=@l2bench/source', '--import', 'tsx'],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  serveL1(l1, child)
  let seq = 1
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  const ready = new Promise<void>((resolve) => {
    child.on('message', (m: unknown) => {
      const msg = m as { ready?: boolean; reply?: number; ok?: unknown; err?: string }
      if (msg.ready) resolve()
      if (msg.reply === undefined) return
      const w = waiting.get(msg.reply)
      waiting.delete(msg.reply)
      if (msg.err !== undefined) w?.reject(new Error(msg.err))
      else w?.resolve(msg.ok)
    })
  })
  const call = <T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = seq++
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject })
      child.send({ cmd, id, ...args })
    })
  return { child, ready, call }
}

describe('two processes over TCP', () => {
  test('open, pay both ways across a dropped connection, close cooperatively', async () => {
    const l1 = new MockL1()
    const adj = l1.deploy(new Adjudicator())
    const addr = (name: string) => new NodeSigner(secretKeyFromSeed(name)).address
    l1.mint(addr('alice'), 100n * ETH)
    l1.mint(addr('bob'), 100n * ETH)
    const alice = spawnParty('alice', l1, adj)
    const bob = spawnParty('bob', l1, adj)
    const children: ChildProcess[] = [alice.child, bob.child]
    try {
      await Promise.all([alice.ready, bob.ready])
      assert.notEqual(alice.child.pid, bob.child.pid)
      const port = await bob.call<number>('listen')
      await alice.call('connect', { port })
      const bobId = await bob.call<{ address: `0x${string}`; publicKey: Uint8Array }>('whoami')
      // Alice's process waits for Bob's hello over TCP, then opens.
      const channelId = await alice.call<string>('open', { peer: bobId.address, peerPublicKey: bobId.publicKey, deposit: 10n * ETH, peerDeposit: 5n * ETH })
      assert.match(channelId, /^0x[0-9a-f]{64}$/)
      const [na, nb] = await Promise.all([
        alice.call<number>('pay', { amount: 3n, count: 60, dropAfter: 20 }),
        bob.call<number>('pay', { amount: 1n, count: 25 }),
      ])
      assert.equal(na + nb, 85)
      const sa = await alice.call<{ version: bigint; balances: [bigint, bigint]; digest: Uint8Array; received: bigint; reconnects: number }>('status')
      const sb = await bob.call<{ version: bigint; balances: [bigint, bigint]; digest: Uint8Array; received: bigint }>('status')
      // Queued payments are merged: at most one version per payment.
      assert.ok(sa.version >= 1n && sa.version <= 85n)
      assert.deepEqual(sa.digest, sb.digest)
      assert.deepEqual(sa.balances, [10n * ETH - 180n + 25n, 5n * ETH + 180n - 25n])
      assert.equal(sb.received, 180n)
      assert.equal(sa.received, 25n)
      assert.ok(sa.reconnects >= 1, 'the connection was dropped and re-established')
      const before = [l1.balanceOf(addr('alice')), l1.balanceOf(addr('bob'))] as const
      assert.equal(await alice.call('close'), 'success')
      const closeFee = l1.events({ name: 'Concluded' }).length === 1 ? l1.totalBurnt() : 0n
      assert.ok(closeFee > 0n)
      assert.equal(l1.balanceOf(addr('bob')), before[1] + sb.balances[1])
      assert.ok(l1.balanceOf(addr('alice')) > before[0] + sa.balances[0] - ETH / 100n)
      assert.equal(l1.balanceOf(adj.address), 0n)
      assert.equal(l1.totalBalances() + l1.totalBurnt(), l1.totalMinted())
      await Promise.all([alice.call('exit'), bob.call('exit')])
    } finally {
      for (const c of children) if (c.exitCode === null) c.kill()
    }
  })
})
