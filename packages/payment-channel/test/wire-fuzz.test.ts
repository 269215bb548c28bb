/**
 * ATTACKS 9: wire decoding. decode(encode(m)) = m for every message type;
 * then 10,000 random and mutated inputs per type: each either decodes to a
 * message that re-encodes to the very same bytes (the codec is canonical) or
 * throws DecodeError — never anything else. A node fed such frames keeps
 * serving. The TCP frame decoder is fuzzed the same way.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DecodeError, NodeSigner, Rng, secretKeyFromSeed } from '@l2bench/core'
import { FrameDecoder, FrameError, MAX_FRAME, type WireMessage, decodeMessage, encodeFrame, encodeMessage, wireCodec } from '../src/index.ts'
import { nodePair, settle } from './fixtures.ts'

const signer = new NodeSigner(secretKeyFromSeed('fuzz'))
const id = new Uint8Array(32).fill(3)
const sig = signer.sign(new Uint8Array(32).fill(1))
const state = {
  channelId: id,
  version: 42n,
  balances: [10n ** 18n, 12345n] as const,
  locked: [{ id: new Uint8Array(32).fill(5), amount: 77n, direction: 1 as const, hash: new Uint8Array(32).fill(6), expiry: 900n }],
  isFinal: false,
}

export const SAMPLES: WireMessage[] = [
  {
    type: 'open',
    params: {
      channelId: id,
      chainId: 31337n,
      adjudicator: signer.address,
      nonce: 9n,
      a: signer.address,
      b: signer.address,
      pkA: signer.publicKey,
      pkB: signer.publicKey,
      deposits: [5n, 6n],
      disputeWindow: 10,
      fundingTimeout: 20,
      penalty: 'slash',
    },
    sig,
  },
  { type: 'openAck', channelId: id, sig },
  { type: 'propose', state, sig, topUp: 0n, entries: [] },
  {
    type: 'propose',
    state,
    sig,
    topUp: 0n,
    entries: [
      { dA: -7n, dB: 7n, removed: [], added: [] },
      { dA: 0n, dB: -5n, removed: [new Uint8Array(32).fill(3)], added: [{ id: new Uint8Array(32).fill(4), amount: 5n, direction: 1, hash: new Uint8Array(32).fill(5), expiry: 99n }] },
    ],
  },
  { type: 'accept', channelId: id, version: 42n, sig, more: false },
  { type: 'accept', channelId: id, version: 43n, sig, more: true },
  { type: 'confirm', channelId: id, version: 42n },
  { type: 'reject', channelId: id, version: 42n, code: 'POLICY', digest: undefined, entry: undefined },
  { type: 'reject', channelId: id, version: 42n, code: 'HTLC_EXPIRY', digest: new Uint8Array(32).fill(8), entry: 3 },
  { type: 'sync', channelId: id, version: 41n },
  { type: 'state', state, sigA: sig, sigB: sig },
]

function mutate(rng: Rng, base: Uint8Array): Uint8Array {
  const b = base.slice()
  switch (rng.int(6)) {
    case 0: {
      const i = rng.int(b.length)
      b[i] = (b[i] as number) ^ (1 << rng.int(8))
      return b
    }
    case 1: {
      for (let k = 0; k < 1 + rng.int(4); k++) b[rng.int(b.length)] = rng.int(256)
      return b
    }
    case 2:
      return b.subarray(0, rng.int(b.length))
    case 3:
      return new Uint8Array([...b, ...rng.bytes(1 + rng.int(16))])
    case 4: {
      const i = rng.int(b.length)
      return new Uint8Array([...b.subarray(0, i), ...rng.bytes(1 + rng.int(8)), ...b.subarray(i)])
    }
    default: {
      // A length field blown up (u32 at a random offset).
      const i = rng.int(Math.max(1, b.length - 4))
      new DataView(b.buffer, b.byteOffset).setUint32(i, 0xffffffff - rng.int(1000))
      return b
    }
  }
}

describe('wire codec', () => {
  test('decode(encode(m)) = m for every message type', () => {
    assert.equal(new Set(SAMPLES.map((m) => m.type)).size, wireCodec.types.length)
    for (const m of SAMPLES) {
      const bytes = encodeMessage(m)
      assert.deepEqual(decodeMessage(bytes), m)
    }
  })

  test('10,000 random and mutated inputs per message type: only DecodeError, canonical when accepted', () => {
    const rng = new Rng(7)
    let accepted = 0
    let rejected = 0
    for (const m of SAMPLES) {
      const base = encodeMessage(m)
      for (let i = 0; i < 10_000; i++) {
        const input = i % 2 === 0 ? mutate(rng, base) : new Uint8Array([base[0] as number, ...rng.bytes(rng.int(2 * base.length))])
        try {
          const back = decodeMessage(input)
          assert.deepEqual(encodeMessage(back), input, `non-canonical accept for ${m.type}`)
          accepted++
        } catch (err) {
          if (!(err instanceof DecodeError)) throw new Error(`${m.type}: ${String(err)}`)
          rejected++
        }
      }
    }
    assert.equal(accepted + rejected, SAMPLES.length * 10_000)
    assert.ok(rejected > SAMPLES.length * 5_000)
    assert.throws(() => decodeMessage(new Uint8Array(MAX_FRAME + 1)), DecodeError)
  })

  test('a node fed mutated frames records typed errors and keeps serving', async () => {
    const p = await nodePair()
    const rng = new Rng(11)
    // Sent on Alice's authenticated link: Bob decodes each one.
    for (let i = 0; i < 2000; i++) {
      const base = encodeMessage(SAMPLES[rng.int(SAMPLES.length)] as WireMessage)
      p.secure[0].send(mutate(rng, base))
    }
    await settle(20)
    assert.ok(p.bob.errors.length > 0)
    assert.equal(await p.alice.pay({ channelId: p.channelId, amount: 1n }), 1n)
  })

  test('frame decoder: split anywhere, oversize and empty frames refused', () => {
    const rng = new Rng(3)
    const frames = SAMPLES.map(encodeMessage)
    const stream = Buffer.concat(frames.map((f) => encodeFrame(f)))
    for (let round = 0; round < 200; round++) {
      const d = new FrameDecoder()
      const out: Uint8Array[] = []
      let pos = 0
      while (pos < stream.length) {
        const n = 1 + rng.int(64)
        out.push(...d.push(stream.subarray(pos, pos + n)))
        pos += n
      }
      assert.deepEqual(out.map((f) => Buffer.from(f).toString('hex')), frames.map((f) => Buffer.from(f).toString('hex')))
    }
    const big = Buffer.alloc(4)
    big.writeUInt32BE(MAX_FRAME + 1)
    assert.throws(() => new FrameDecoder().push(big), FrameError)
    assert.throws(() => new FrameDecoder().push(Buffer.alloc(4)), FrameError)
    assert.throws(() => encodeFrame(new Uint8Array(MAX_FRAME + 1)), FrameError)
  })
})
