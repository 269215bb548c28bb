/**
 * Our EdDSA-Poseidon (./src/eddsa.ts, on @noble/curves) against the reference,
 * @zk-kit/eddsa-poseidon (circomlib's scheme): same public keys, same
 * signatures, each verifies the other's, on 1,000 random keys and messages;
 * then tampered and malformed signatures and keys, which must be refused.
 */
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { Rng } from '@l2bench/core'
import { poseidon5 } from 'poseidon-lite/poseidon5'
import {
  BASE8,
  BabyJubjub,
  type EdDSASignature,
  FIELD_MODULUS,
  L2Key,
  type PublicKey,
  SUBGROUP_ORDER,
  deriveEdDSASecret,
  isValidPublicKey,
  signEdDSAPoseidon,
  verifyEdDSAPoseidon,
} from '../src/index.ts'

// The ESM build of @zk-kit/eddsa-poseidon imports named exports from blakejs (CommonJS); its CommonJS build loads.
const zk = createRequire(import.meta.url)('@zk-kit/eddsa-poseidon') as typeof import('@zk-kit/eddsa-poseidon')

const CASES = 1000
const rng = new Rng('eddsa-cross-check')
const randomField = () => rng.bigint(FIELD_MODULUS)
const pt = (p: { x: bigint; y: bigint }): PublicKey => [p.x, p.y]
const affine = (k: PublicKey) => BabyJubjub.fromAffine({ x: k[0], y: k[1] })

/** circomlib's full-group generator (order 8·l); l·G is a point of order 8. */
const G = BabyJubjub.fromAffine({
  x: 995203441582195749578291179787384436505546430278305826713579947235728471134n,
  y: 5472060717959818805561601436314318772137091100104008585924551046643952123905n,
})
const T8 = G.multiplyUnsafe(SUBGROUP_ORDER - 1n).add(G)
const T2 = T8.double().double()

describe('EdDSA-Poseidon against @zk-kit/eddsa-poseidon', () => {
  it(`same public keys and signatures, each verifies the other's, on ${CASES} random keys and messages`, () => {
    for (let i = 0; i < CASES; i++) {
      const privateKey = rng.bytes(i % 5 === 4 ? 1 + rng.int(64) : 32) // mostly 32 bytes, some of other lengths
      const message = i === 0 ? 0n : i === 1 ? FIELD_MODULUS - 1n : randomField()
      const secret = deriveEdDSASecret(privateKey)
      const theirKey = zk.derivePublicKey(Buffer.from(privateKey))
      assert.deepEqual(secret.publicKey, [theirKey[0], theirKey[1]], `public key ${i}`)
      const ours = signEdDSAPoseidon(secret, message)
      const theirs = zk.signMessage(Buffer.from(privateKey), message)
      assert.deepEqual(ours, { R8: [theirs.R8[0], theirs.R8[1]], S: theirs.S }, `signature ${i}`)
      assert.ok(verifyEdDSAPoseidon(message, theirs, secret.publicKey), `ours verifies zk-kit's signature ${i}`)
      assert.ok(zk.verifySignature(message, { R8: [ours.R8[0], ours.R8[1]], S: ours.S }, theirKey), `zk-kit verifies our signature ${i}`)
    }
  })

  it('signatures with a non-deterministic nonce (any valid r) are accepted by both', () => {
    for (let i = 0; i < 20; i++) {
      const secret = deriveEdDSASecret(rng.bytes(32))
      const message = randomField()
      const r = 1n + rng.bigint(SUBGROUP_ORDER - 1n)
      const R8 = pt(BabyJubjub.BASE.multiply(r).toAffine())
      const hm = poseidon5([R8[0], R8[1], secret.publicKey[0], secret.publicKey[1], message])
      const sig = { R8, S: (r + hm * secret.s) % SUBGROUP_ORDER }
      assert.ok(verifyEdDSAPoseidon(message, sig, secret.publicKey))
      assert.ok(zk.verifySignature(message, { R8: [...R8], S: sig.S }, [...secret.publicKey]))
    }
  })

  it('L2Key signs with the scheme (key derived once, then reused)', () => {
    const key = L2Key.fromSeed('eddsa-l2key')
    const message = randomField()
    const sig = key.sign(message)
    assert.ok(verifyEdDSAPoseidon(message, sig, key.publicKey))
    assert.ok(zk.verifySignature(message, { R8: [...sig.R8], S: sig.S }, [...key.publicKey]))
    assert.deepEqual(key.sign(message), sig, 'deterministic')
  })
})

describe('EdDSA-Poseidon refuses', () => {
  const secret = deriveEdDSASecret(rng.bytes(32))
  const other = deriveEdDSASecret(rng.bytes(32))
  const A = secret.publicKey
  const message = randomField()
  const sig = signEdDSAPoseidon(secret, message)
  const R8 = affine(sig.R8)
  const both = (m: bigint, s: EdDSASignature, k: PublicKey) => ({
    ours: verifyEdDSAPoseidon(m, s, k),
    zkKit: zk.verifySignature(m, { R8: [...s.R8], S: s.S }, [...k]),
  })

  it('tampered S, R8, message or key (both libraries)', () => {
    assert.deepEqual(both(message, sig, A), { ours: true, zkKit: true })
    const cases: [string, bigint, EdDSASignature, PublicKey][] = [
      ['S + 1', message, { ...sig, S: (sig.S + 1n) % SUBGROUP_ORDER }, A],
      ['S = 0', message, { ...sig, S: 0n }, A],
      ['R8 + B8', message, { ...sig, R8: pt(R8.add(BabyJubjub.BASE).toAffine()) }, A],
      ['R8 negated', message, { ...sig, R8: pt(R8.negate().toAffine()) }, A],
      ['R8 off the curve', message, { ...sig, R8: [sig.R8[0], sig.R8[1] + 1n] }, A],
      ['R8 + order-2 point (not in the subgroup)', message, { ...sig, R8: pt(R8.add(T2).toAffine()) }, A],
      ['R8 + order-8 point (not in the subgroup)', message, { ...sig, R8: pt(R8.add(T8).toAffine()) }, A],
      ['message + 1', (message + 1n) % FIELD_MODULUS, sig, A],
      ["another key's", message, sig, other.publicKey],
      ['S + l (same point, S ≥ subgroup order)', message, { ...sig, S: sig.S + SUBGROUP_ORDER }, A],
      ['another signature of the same key', randomField(), signEdDSAPoseidon(secret, randomField()), A],
    ]
    for (const [what, m, s, k] of cases) assert.deepEqual(both(m, s, k), { ours: false, zkKit: false }, what)
  })

  it('keys and R8 outside the prime-order subgroup, coordinates ≥ p, and malformed input (ours; zk-kit is laxer where noted)', () => {
    // A' = A + T8 is a second key for the holder of s: S = r + H(R8, A', M)·s satisfies S·B8 = R8 + 8·h·A'
    // (8·T8 = O), so zk-kit (like the circuit) accepts it; we refuse the key itself.
    const dirtyKey = pt(affine(A).add(T8).toAffine())
    const r = 1n + rng.bigint(SUBGROUP_ORDER - 1n)
    const dirtyR8 = pt(BabyJubjub.BASE.multiply(r).toAffine())
    const dirtyHm = poseidon5([dirtyR8[0], dirtyR8[1], dirtyKey[0], dirtyKey[1], message])
    const dirtySig = { R8: dirtyR8, S: (r + dirtyHm * secret.s) % SUBGROUP_ORDER }
    assert.deepEqual(both(message, dirtySig, dirtyKey), { ours: false, zkKit: true })
    assert.equal(verifyEdDSAPoseidon(message, sig, pt(affine(A).add(T2).toAffine())), false, 'A + order-2 point')
    assert.equal(verifyEdDSAPoseidon(message, sig, pt(T8.toAffine())), false, 'small-order key')
    assert.equal(verifyEdDSAPoseidon(message, sig, [0n, 1n]), false, 'identity key')
    assert.equal(verifyEdDSAPoseidon(message, sig, [0n, FIELD_MODULUS - 1n]), false, 'order-2 key')
    assert.equal(verifyEdDSAPoseidon(message, sig, [A[0] + FIELD_MODULUS, A[1]]), false, 'key x ≥ p')
    assert.equal(verifyEdDSAPoseidon(message, { ...sig, R8: [sig.R8[0] + FIELD_MODULUS, sig.R8[1]] }, A), false, 'R8.x ≥ p')
    assert.equal(verifyEdDSAPoseidon(message + FIELD_MODULUS, sig, A), false, 'message ≥ p')
    assert.equal(verifyEdDSAPoseidon(message, { ...sig, S: -1n }, A), false, 'negative S')
    const junk: unknown[] = [null, {}, { R8: [1n], S: 1n }, { R8: [1, 2], S: 1n }, { R8: sig.R8, S: 1 }, { R8: 'x', S: 1n }]
    for (const s of junk) assert.equal(verifyEdDSAPoseidon(message, s as EdDSASignature, A), false, JSON.stringify(s, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)))
    for (const k of [null, [A[0]], [A[0], A[1], 1n], [Number(1), 2n], 'key'])
      assert.equal(verifyEdDSAPoseidon(message, sig, k as unknown as PublicKey), false)
  })

  it('isValidPublicKey: prime-order subgroup points only', () => {
    assert.ok(isValidPublicKey(A))
    assert.ok(isValidPublicKey(BASE8))
    for (const [what, k] of [
      ['A + order-8 point', pt(affine(A).add(T8).toAffine())],
      ['A + order-2 point', pt(affine(A).add(T2).toAffine())],
      ['order-8 point', pt(T8.toAffine())],
      ['full-group generator', pt(G.toAffine())],
      ['identity', [0n, 1n]],
      ['order 2', [0n, FIELD_MODULUS - 1n]],
      ['off the curve', [A[0], A[1] + 1n]],
      ['y ≥ p', [A[0], A[1] + FIELD_MODULUS]],
    ] as [string, PublicKey][])
      assert.equal(isValidPublicKey(k), false, what)
  })
})
