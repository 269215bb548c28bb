/**
 * The protocol over a hostile in-memory network: frames lost, delayed and
 * reordered in both directions, payments from both sides at once. Proposals
 * are retransmitted, lost confirms are chased with a sync, and both sides end
 * on the same state with every payment applied exactly once, merged or not.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ETH, nodePair, until } from './fixtures.ts'

describe('lossy, reordering network', () => {
  for (const maxMerge of [1, 64])
  test(`20% loss, delays and reordering: all payments land once, no fork (maxMerge ${maxMerge})`, async () => {
    let now = 0
    const p = await nodePair({ node: { timeoutMs: 40, maxAttempts: 1000, now: () => now, maxMerge } })
    const { alice, bob, channelId, links } = p
    await until(() => bob.status(channelId).phase === 'open')
    for (const [i, l] of links.entries()) l.setFaults({ lossRate: 0.2, delayMs: 1, reorderRate: 0.3, reorderMs: 6, seed: 100 + i })
    const jobs: Promise<bigint>[] = []
    for (let i = 0; i < 15; i++) jobs.push(alice.pay({ channelId, amount: 10n }), bob.pay({ channelId, amount: 3n }))
    let settled = 0
    for (const j of jobs) j.then(() => settled++)
    // Drive time: every turn advances the clock and lets both nodes retransmit.
    await until(() => {
      now += 10
      alice.tick(now)
      bob.tick(now)
      return settled === jobs.length
    }, 200_000)
    await until(() => {
      now += 10
      alice.tick(now)
      bob.tick(now)
      const [a, b] = [alice.machine(channelId), bob.machine(channelId)]
      return a.unconfirmed === undefined && b.unconfirmed === undefined && a.latest.state.version === b.latest.state.version
    }, 200_000)
    // One version per payment without merging; queued payments share states with it.
    if (maxMerge === 1) assert.equal(alice.status(channelId).version, 30n)
    else assert.ok(alice.status(channelId).version < 30n)
    assert.deepEqual(alice.latest(channelId).digest, bob.latest(channelId).digest)
    assert.deepEqual(bob.status(channelId).balances, [10n * ETH - 150n + 45n, 5n * ETH + 150n - 45n])
    assert.ok(links[0].dropped + links[1].dropped > 0, 'frames were lost')
  })
})
