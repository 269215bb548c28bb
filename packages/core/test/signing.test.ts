import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  CURVE_N,
  InvalidInputError,
  NobleSigner,
  NodeSigner,
  Rng,
  bigintToBytes,
  bytesToBigint,
  nobleVerifier,
  nodeVerifier,
  publicKeyToAddress,
  secretKeyFromSeed,
  taggedHash,
  toHighS,
} from '@l2bench/core'

const HALF_N = CURVE_N >> 1n

test('both signers always produce low-s signatures that both verifiers accept', () => {
  const rng = new Rng(1)
  for (let i = 0; i < 200; i++) {
    const sk = secretKeyFromSeed(rng.bytes(16))
    const digest = rng.bytes(32)
    for (const signer of [new NobleSigner(sk), new NodeSigner(sk)]) {
      const sig = signer.sign(digest)
      assert.equal(sig.length, 64)
      assert.ok(bytesToBigint(sig.subarray(32)) <= HALF_N, 's must be low')
      assert.ok(nobleVerifier.verify(sig, digest, signer.publicKey))
      assert.ok(nodeVerifier.verify(sig, digest, signer.publicKey))
    }
  }
})

test('the high-s twin of a valid signature is rejected by both verifiers', () => {
  const s = new NobleSigner(secretKeyFromSeed('alice'))
  const d = taggedHash('t', new Uint8Array([1]))
  const high = toHighS(s.sign(d))
  assert.ok(bytesToBigint(high.subarray(32)) > HALF_N)
  assert.equal(nobleVerifier.verify(high, d, s.publicKey), false)
  assert.equal(nodeVerifier.verify(high, d, s.publicKey), false)
})

test('addresses are Ethereum-style (keccak of the uncompressed key, last 20 bytes)', () => {
  // Private key 1 → the well-known address of the generator point.
  const one = bigintToBytes('k', 1n, 32)
  assert.equal(new NobleSigner(one).address, '0x7e5f4552091a69125d5dfcb7b8c2659029395bdf')
  assert.equal(publicKeyToAddress(new NobleSigner(one).publicKey), '0x7e5f4552091a69125d5dfcb7b8c2659029395bdf')
})

test('bad arguments are typed errors naming the field', () => {
  assert.throws(() => new NobleSigner(new Uint8Array(31)), (e: InvalidInputError) => e.field === 'secretKey')
  assert.throws(() => new NobleSigner(new Uint8Array(32)), (e: InvalidInputError) => e.field === 'secretKey')
  assert.throws(() => new NobleSigner(bigintToBytes('k', CURVE_N, 32)), InvalidInputError)
  const s = new NobleSigner(secretKeyFromSeed('x'))
  assert.throws(() => s.sign(new Uint8Array(31)), (e: InvalidInputError) => e.field === 'digest')
  assert.throws(() => nodeVerifier.verify(new Uint8Array(64), new Uint8Array(5), s.publicKey), (e: InvalidInputError) => e.field === 'digest')
})

/**
 * Differential test: noble and node:crypto must agree on every one of 10,000
 * signatures — valid ones and adversarial mutations (high-s, flipped bits, r or s
 * zero or ≥ n, wrong digest, wrong or malformed key, wrong length).
 */
test('noble and node:crypto verifiers agree on 10,000 random and adversarial signatures', () => {
  const rng = new Rng(2026)
  const keys = Array.from({ length: 32 }, (_, i) => new NodeSigner(secretKeyFromSeed(`agree-${i}`)))
  let accepted = 0
  let rejected = 0
  const N = 10_000
  for (let i = 0; i < N; i++) {
    const signer = rng.pick(keys)
    const digest = rng.bytes(32)
    let sig = signer.sign(digest)
    let d = digest
    let pk: Uint8Array = signer.publicKey
    switch (i % 10) {
      case 0:
      case 1:
      case 2:
      case 3:
        break // valid
      case 4:
        sig = toHighS(sig)
        break
      case 5: {
        sig = sig.slice()
        const byte = rng.int(64)
        sig[byte] = (sig[byte] as number) ^ (1 << rng.int(8))
        break
      }
      case 6: {
        const which = rng.int(4)
        sig = sig.slice()
        if (which === 0) sig.fill(0, 0, 32) // r = 0
        else if (which === 1) sig.fill(0, 32) // s = 0
        else if (which === 2) sig.set(bigintToBytes('r', CURVE_N + bytesToBigint(sig.subarray(0, 32)) % 1000n, 32), 0)
        else sig.set(bigintToBytes('s', CURVE_N - 1n, 32), 32)
        break
      }
      case 7:
        d = rng.bytes(32)
        break
      case 8:
        pk = rng.pick(keys).publicKey
        if (pk === signer.publicKey) pk = keys[(keys.indexOf(signer) + 1) % keys.length]!.publicKey
        break
      case 9: {
        const which = rng.int(3)
        if (which === 0) sig = sig.subarray(0, 63)
        else if (which === 1) {
          pk = pk.slice()
          pk[0] = 5 // not a point encoding
        } else {
          pk = pk.slice()
          pk[1] = (pk[1] as number) ^ 0xff // probably off-curve
        }
        break
      }
    }
    const a = nobleVerifier.verify(sig, d, pk)
    const b = nodeVerifier.verify(sig, d, pk)
    assert.equal(a, b, `disagreement at case ${i} (kind ${i % 10})`)
    if (a) accepted++
    else rejected++
  }
  assert.equal(accepted + rejected, N)
  assert.ok(accepted >= 4000, `valid signatures must pass (${accepted})`)
  assert.ok(rejected >= 5000, `adversarial ones must fail (${rejected})`)
})
