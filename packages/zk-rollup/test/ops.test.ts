import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  L2Key,
  type UnsignedOp,
  domainField,
  encodeFloat40,
  isValidPublicKey,
  opMessage,
  packOp,
  signOp,
  verifyOpSignature,
} from '../src/index.ts'

const domain = { chainId: 31337n, contract: '0x00000000000000000000000000000000000000aa' as const }
const alice = L2Key.fromSeed('alice')
const base: UnsignedOp = { kind: 'transfer', from: 1, to: 2, amount: 1000n, nonce: 7n }

describe('signed ops', () => {
  it('packs type, from, to, float40 amount and nonce as the circuit does', () => {
    const d = 16n
    const expected = 1n + 4n * (1n + ((2n + ((encodeFloat40(1000n) + (7n << 40n)) << d)) << d))
    assert.equal(packOp(base, 16), expected)
    assert.equal(domainField(domain), (31337n << 160n) | 0xaan)
  })

  it('a signature verifies for its own op only (chain, contract, type, from, to, amount, nonce are bound)', () => {
    const signed = signOp(alice, domain, 16, base)
    assert.ok(verifyOpSignature(opMessage(domain, 16, base), signed.signature, alice.publicKey))
    const variants: [string, () => bigint][] = [
      ['chain', () => opMessage({ ...domain, chainId: 1n }, 16, base)],
      ['contract', () => opMessage({ ...domain, contract: '0x00000000000000000000000000000000000000ab' }, 16, base)],
      ['type', () => opMessage(domain, 16, { ...base, kind: 'withdraw' })],
      ['from', () => opMessage(domain, 16, { ...base, from: 3 })],
      ['to', () => opMessage(domain, 16, { ...base, to: 3 })],
      ['amount', () => opMessage(domain, 16, { ...base, amount: 1001n })],
      ['nonce', () => opMessage(domain, 16, { ...base, nonce: 8n })],
      ['depth', () => opMessage(domain, 20, base)],
    ]
    for (const [what, msg] of variants) assert.equal(verifyOpSignature(msg(), signed.signature, alice.publicKey), false, what)
    assert.equal(verifyOpSignature(opMessage(domain, 16, base), signed.signature, L2Key.fromSeed('bob').publicKey), false, 'key')
    const highS = { ...signed.signature, S: signed.signature.S + 2736030358979909402780800718157159386076813972158567259200215660948447373041n }
    assert.equal(verifyOpSignature(opMessage(domain, 16, base), highS, alice.publicKey), false, 'S ≥ subgroup order')
  })

  it('public keys: on the curve, not the identity', () => {
    assert.ok(isValidPublicKey(alice.publicKey))
    assert.equal(isValidPublicKey([0n, 1n]), false)
    assert.equal(isValidPublicKey([alice.publicKey[0], alice.publicKey[1] + 1n]), false)
    assert.equal(isValidPublicKey([1n, 2n, 3n]), false)
  })

  it('rejects malformed ops before signing', () => {
    assert.throws(() => packOp({ ...base, from: 1 << 16 }, 16))
    assert.throws(() => packOp({ ...base, amount: 0n }, 16))
    assert.throws(() => packOp({ ...base, nonce: 1n << 40n }, 16))
    assert.throws(() => packOp({ ...base, kind: 'mint' as 'transfer' }, 16))
  })
})
