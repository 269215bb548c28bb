import assert from 'node:assert/strict'
import { test } from 'node:test'
import { NobleSigner, nodeVerifier, nobleVerifier, secretKeyFromSeed, taggedHash } from '@l2bench/core'

test('sign and verify with both verifiers', () => {
  const s = new NobleSigner(secretKeyFromSeed('alice'))
  const d = taggedHash('test', new Uint8Array([1]))
  const sig = s.sign(d)
  assert.equal(nobleVerifier.verify(sig, d, s.publicKey), true)
  assert.equal(nodeVerifier.verify(sig, d, s.publicKey), true)
})
