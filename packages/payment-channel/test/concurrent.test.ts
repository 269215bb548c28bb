/**
 * ATTACKS 8: concurrent updates from both sides on one channel. Proposals
 * cross on a delayed link; the lower address wins, the other side retries on
 * top. No version ever has two different states on the two sides, and every
 * payment lands exactly once.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { PaymentEvent, SignedState } from '../src/index.ts'
import { ETH, nodePair, settle, until } from './fixtures.ts'

describe('concurrent updates (ATTACKS 8)', () => {
  test('crossing proposals: one wins, the other retries; no fork; every payment once', async () => {
    const seen: [Map<bigint, string>, Map<bigint, string>] = [new Map(), new Map()]
    const track = (i: 0 | 1) => (s: SignedState) => {
      const d = Buffer.from(s.digest).toString('hex')
      const prev = seen[i].get(s.state.version)
      assert.ok(prev === undefined || prev === d, `node ${i} saw two states at v${s.state.version}`)
      seen[i].set(s.state.version, d)
    }
    const p = await nodePair({ link: { delayMs: 3 }, nodes: [{ onSignedState: track(0) }, { onSignedState: track(1) }] })
    const { alice, bob, channelId } = p
    await until(() => bob.status(channelId).phase === 'open')
    const got: [PaymentEvent[], PaymentEvent[]] = [[], []]
    alice.on('payment', (e) => got[0].push(e))
    bob.on('payment', (e) => got[1].push(e))
    const jobs: Promise<bigint>[] = []
    for (let round = 0; round < 10; round++) {
      jobs.push(alice.pay({ channelId, amount: 7n }), bob.pay({ channelId, amount: 5n }))
    }
    const versions = await Promise.all(jobs)
    await settle(20)
    assert.equal(new Set(versions).size, 20)
    assert.equal(alice.status(channelId).version, 20n)
    assert.deepEqual(alice.latest(channelId).digest, bob.latest(channelId).digest)
    assert.deepEqual(alice.status(channelId).balances, [10n * ETH - 70n + 50n, 5n * ETH + 70n - 50n])
    for (const [v, d] of seen[0]) {
      const other = seen[1].get(v)
      if (other !== undefined) assert.equal(other, d, `fork at v${v}`)
    }
    assert.equal(
      got[0].reduce((s, e) => s + e.amount, 0n),
      50n,
    )
    assert.equal(
      got[1].reduce((s, e) => s + e.amount, 0n),
      70n,
    )
    const loser = alice.address < bob.address ? bob : alice
    assert.notEqual(loser.machine(channelId).forkVersion, undefined, 'the proposals did cross')
  })
})
