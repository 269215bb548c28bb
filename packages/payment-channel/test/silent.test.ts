/**
 * ATTACKS 4: Mallory goes silent mid-update. Alice proposed v and holds only
 * v-1 countersigned; Mallory holds v (she countersigned it but never sent the
 * signature back). Alice closing with v-1 is not punished, even under `slash`,
 * and if Mallory stays silent Alice can still close after the window.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { ChannelError } from '../src/index.ts'
import { ETH, nodePair, settle, until } from './fixtures.ts'

async function silentMidUpdate(penalty: 'none' | 'slash') {
  let now = 0
  const p = await nodePair({ penalty, window: 10, node: { timeoutMs: 100, maxAttempts: 2, now: () => now } })
  const { alice, bob: mallory, channelId, links } = p
  await until(() => mallory.status(channelId).phase === 'open')
  await alice.pay({ channelId, amount: ETH })
  // Mallory stops answering: everything she sends is dropped.
  links[1].send = () => {}
  const paying = alice.pay({ channelId, amount: 2n * ETH })
  await until(() => mallory.status(channelId).version === 2n)
  assert.equal(alice.status(channelId).version, 1n, 'Alice holds only v1 countersigned')
  assert.equal(alice.status(channelId).pendingVersion, 2n)
  // Retransmit, then time out.
  now += 150
  alice.tick()
  now += 150
  alice.tick()
  await assert.rejects(paying, (e: ChannelError) => e.code === 'TIMEOUT')
  return { ...p, mallory }
}

describe('silent counterparty mid-update (ATTACKS 4)', () => {
  for (const penalty of ['none', 'slash'] as const) {
    test(`${penalty}: Alice registers v-1, Mallory answers with v; Alice is not punished`, async () => {
      const { world, alice, mallory, channelId, a } = await silentMidUpdate(penalty)
      const reg = await alice.forceClose({ channelId })
      assert.equal(reg.events[0]?.data.version, 1n)
      // Mallory's node refutes with v2 (she holds it fully signed).
      await until(() => world.l1.events({ name: 'Challenged' }).length === 1)
      assert.equal(world.l1.events({ name: 'Challenged' })[0]?.data.version, 2n)
      world.l1.advanceTo((reg.events[0]?.data.deadline as number) + 1)
      const ba = world.l1.balanceOf(a.address)
      const r = await alice.finalize({ channelId })
      assert.equal(world.l1.balanceOf(a.address), ba + 7n * ETH - r.fee, 'v2: 10 - 1 - 2, no slash')
      assert.equal(r.events.find((e) => e.name === 'Concluded')?.data.slashed, -1)
      void mallory
    })
  }

  test('Mallory stays silent on L1 too: Alice closes with v-1 after the window', async () => {
    const { world, alice, mallory, channelId, a, b } = await silentMidUpdate('slash')
    mallory.stop()
    world.l1.setOffline(b.address, true)
    const reg = await alice.forceClose({ channelId })
    await assert.rejects(alice.finalize({ channelId }), /dispute window open/)
    world.l1.advanceTo((reg.events[0]?.data.deadline as number) + 1)
    const ba = world.l1.balanceOf(a.address)
    const r = await alice.finalize({ channelId })
    assert.equal(world.l1.balanceOf(a.address), ba + 9n * ETH - r.fee)
    await settle()
    assert.equal(alice.status(channelId).phase, 'closed')
  })

  test('after a timeout Alice cannot sign another v (no fork of her own signatures)', async () => {
    const { alice, channelId } = await silentMidUpdate('none')
    const next = alice.pay({ channelId, amount: 1n })
    await settle()
    // The timed-out proposal still occupies v2; the new payment waits instead of signing a second v2.
    assert.equal(alice.status(channelId).pendingVersion, 2n)
    assert.equal(alice.machine(channelId).pending?.state.balances[0], 7n * ETH)
    alice.stop()
    await assert.rejects(next, (e: ChannelError) => e.code === 'STOPPED')
  })
})
