/**
 * ATTACKS 8: concurrent updates from both sides on one channel. Proposals
 * cross on a delayed link; the winner alternates by version, the other side
 * retries on top. No version ever has two different states on the two sides,
 * and every payment lands exactly once — one update per payment
 * (`maxMerge: 1`) or with queued payments merged into one state.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { PaymentEvent, SignedState } from '../src/index.ts'
import { ETH, nodePair, settle, until } from './fixtures.ts'

describe('concurrent updates (ATTACKS 8)', () => {
  for (const maxMerge of [1, 64])
  test(`crossing proposals: one wins, the other retries; no fork; every payment once (maxMerge ${maxMerge})`, async () => {
    const seen: [Map<bigint, string>, Map<bigint, string>] = [new Map(), new Map()]
    const track = (i: 0 | 1) => (s: SignedState) => {
      const d = Buffer.from(s.digest).toString('hex')
      const prev = seen[i].get(s.state.version)
      assert.ok(prev === undefined || prev === d, `node ${i} saw two states at v${s.state.version}`)
      seen[i].set(s.state.version, d)
    }
    const p = await nodePair({ link: { delayMs: 3 }, node: { maxMerge }, nodes: [{ onSignedState: track(0) }, { onSignedState: track(1) }] })
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
    const final = alice.status(channelId).version
    if (maxMerge === 1) {
      assert.equal(new Set(versions).size, 20)
      assert.equal(final, 20n)
    } else {
      // Queued payments share states: fewer versions than payments, each payment resolved with the version that carries it.
      assert.ok(new Set(versions).size < 20, `${new Set(versions).size} versions for 20 payments`)
      for (const v of versions) assert.ok(v >= 1n && v <= final)
    }
    assert.deepEqual(alice.latest(channelId).digest, bob.latest(channelId).digest)
    assert.deepEqual(alice.status(channelId).balances, [10n * ETH - 70n + 50n, 5n * ETH + 70n - 50n])
    for (const [v, d] of seen[0]) {
      const other = seen[1].get(v)
      if (other !== undefined) assert.equal(other, d, `fork at v${v}`)
    }
    // One report per payment, merged or not (or still deferred while our own signature at its version is out).
    const deferred = (i: 0 | 1) => [alice, bob][i]!.machine(channelId).deferred
    assert.equal(got[0].reduce((s, e) => s + e.amount, 0n) + deferred(0).reduce((s, e) => s + e.amount, 0n), 50n)
    assert.equal(got[1].reduce((s, e) => s + e.amount, 0n) + deferred(1).reduce((s, e) => s + e.amount, 0n), 70n)
    assert.equal(got[0].length + deferred(0).length, 10)
    assert.equal(got[1].length + deferred(1).length, 10)
    assert.ok(alice.machine(channelId).forkVersion !== undefined || bob.machine(channelId).forkVersion !== undefined, 'the proposals did cross')
  })
})
