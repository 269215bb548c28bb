/**
 * A malicious peer's malformed messages: bytes that do not decode,
 * well-formed messages for channels that do not exist or from the wrong
 * party, replays. Each is refused with a typed error (DecodeError on the
 * wire), the node keeps serving, and an honest open, payment and close still
 * work on the same links.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DecodeError, L2Error } from '@l2bench/core'
import fc from 'fast-check'
import { type VirtualMessage, decodeVirtualMessage, encodeVirtualMessage, virtualWireCodec } from '../src/index.ts'
import { ETH, activeVirtual, ingridLedgerTotal, params, trio, until } from './fixtures.ts'

const id = (n: number) => new Uint8Array(32).fill(n)
const sig = (n: number) => new Uint8Array(64).fill(n)

describe('coordination wire', () => {
  test('decode(encode(m)) = m for every message type; trailing bytes, truncation and unknown tags are DecodeErrors naming the field', async () => {
    const t = await trio()
    const p = params(t.w, t.alice, t.bob, t.ingrid, id(1), id(2), [5n, 7n])
    const state = { channelId: id(3), version: 9n, balances: [5n, 7n] as const, locked: [], isFinal: true }
    const all: VirtualMessage[] = [
      { type: 'propose', params: p, sig: sig(1) },
      { type: 'accept', channelId: id(4), sig: sig(2) },
      { type: 'fund', params: p, sigA: sig(3), sigB: sig(4) },
      { type: 'active', channelId: id(5), sig: sig(5) },
      { type: 'settle', state, sigA: sig(6), sigB: sig(7) },
      { type: 'settled', channelId: id(6) },
      { type: 'refuse', channelId: id(7), code: 'LIMIT', field: 'params.deposits[1]' },
    ]
    assert.deepEqual(new Set(all.map((m) => m.type)), new Set(virtualWireCodec.types))
    for (const m of all) {
      const bytes = encodeVirtualMessage(m)
      assert.deepEqual(decodeVirtualMessage(bytes), m)
      assert.throws(() => decodeVirtualMessage(new Uint8Array([...bytes, 0])), DecodeError, `${m.type}: trailing byte`)
      for (const cut of [1, Math.floor(bytes.length / 2), bytes.length - 1])
        assert.throws(() => decodeVirtualMessage(bytes.slice(0, cut)), (e: Error) => e instanceof DecodeError && typeof (e as DecodeError).field === 'string', `${m.type}: cut at ${cut}`)
    }
    assert.throws(() => decodeVirtualMessage(new Uint8Array([99])), (e: DecodeError) => e.field === 'type')
    assert.throws(() => decodeVirtualMessage(new Uint8Array(3000)), DecodeError)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        try {
          decodeVirtualMessage(bytes)
        } catch (err) {
          return err instanceof DecodeError
        }
        return true
      }),
      { numRuns: 2000 },
    )
    for (const n of Object.values(t.nodes)) n.stop()
  })

  test('a peer sending garbage, messages for unknown channels, another party’s messages and replays is refused each time; the node keeps serving', async () => {
    const t = await trio()
    const hub = ingridLedgerTotal(t)
    const toIngrid = t.nodes.bob.virtualLinkTo(t.ingrid.address)
    const toAlice = t.nodes.bob.virtualLinkTo(t.alice.address)
    assert.ok(toIngrid !== undefined && toAlice !== undefined)
    const errorsOf = (n: { errors: L2Error[] }) => n.errors.length
    const [ei, ea] = [errorsOf(t.nodes.ingrid), errorsOf(t.nodes.alice)]
    // Garbage and truncated messages.
    for (const bytes of [new Uint8Array([0]), new Uint8Array([4, 1, 2]), encodeVirtualMessage({ type: 'settled', channelId: id(1) }).slice(0, 10), new Uint8Array(500).fill(255)])
      toIngrid.send(bytes)
    // Well-formed, but for channels that do not exist, or Ingrid's message sent by Bob.
    toIngrid.send(encodeVirtualMessage({ type: 'settle', state: { channelId: id(9), version: 1n, balances: [1n, 1n], locked: [], isFinal: true }, sigA: sig(1), sigB: sig(2) }))
    toAlice.send(encodeVirtualMessage({ type: 'accept', channelId: id(9), sig: sig(1) }))
    toAlice.send(encodeVirtualMessage({ type: 'active', channelId: id(9), sig: sig(1) }))
    await until(() => errorsOf(t.nodes.ingrid) >= ei + 5 && errorsOf(t.nodes.alice) >= ea + 2)
    const codes = t.nodes.ingrid.errors.slice(ei).map((e) => e.code)
    assert.deepEqual(codes.slice(0, 4), ['DECODE', 'DECODE', 'DECODE', 'DECODE'])
    assert.deepEqual(
      t.nodes.alice.errors.slice(ea).map((e) => [e.code, e.field]),
      [
        ['UNKNOWN_VIRTUAL', 'channelId'],
        ['UNKNOWN_VIRTUAL', 'channelId'],
      ],
    )
    // The honest protocol runs on the same links.
    const vid = await activeVirtual(t, 2n * ETH, ETH)
    // Bob impersonating Ingrid's activation, and replaying an accept, change nothing.
    const n = errorsOf(t.nodes.alice)
    toAlice.send(encodeVirtualMessage({ type: 'active', channelId: new Uint8Array(Buffer.from(vid.slice(2), 'hex')), sig: sig(3) }))
    await until(() => errorsOf(t.nodes.alice) > n)
    assert.deepEqual([t.nodes.alice.errors.at(-1)?.code, t.nodes.alice.errors.at(-1)?.field], ['NOT_PARTY', 'sender'])
    await t.nodes.bob.pay({ channelId: vid, amount: ETH / 2n })
    await t.nodes.alice.closeVirtual({ channelId: vid })
    await until(() => t.nodes.ingrid.records.require(vid).status === 'closed')
    assert.equal(ingridLedgerTotal(t), hub)
    assert.ok(t.nodes.ingrid.errors.every((e) => e instanceof L2Error))
    for (const node of Object.values(t.nodes)) node.stop()
  })
})
