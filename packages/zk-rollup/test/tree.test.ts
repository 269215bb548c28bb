import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { poseidon2 } from 'poseidon-lite/poseidon2'
import { poseidon4 } from 'poseidon-lite/poseidon4'
import { poseidon5 } from 'poseidon-lite/poseidon5'
import { AccountTree, FIELD_MODULUS, L2Key, OverlayView, RollupError, flatSiblings, hash2, hash4, hash5, leafHash, pathOf, rootFromPath } from '../src/index.ts'

const keys = Array.from({ length: 6 }, (_, i) => L2Key.fromSeed(`tree-${i}`))
const unknown = (e: unknown) => e instanceof RollupError && e.code === 'UNKNOWN_ACCOUNT'

describe('account tree', () => {
  it('leaf = Poseidon(x, y, balance, nonce) and nodes = Poseidon(c0, c1, c2, c3), as circomlib computes them', () => {
    const a = { publicKey: keys[0]!.publicKey, balance: 5n, nonce: 2n }
    const b = { publicKey: keys[1]!.publicKey, balance: 7n, nonce: 0n }
    assert.equal(leafHash(a), poseidon4([a.publicKey[0], a.publicKey[1], 5n, 2n]))
    const z = 0n
    // depth 4: two levels of four children; index 6 = digits (2, 1).
    const t = new AccountTree(4)
    t.set(0, a)
    t.set(6, b)
    const z1 = poseidon4([z, z, z, z])
    assert.equal(t.root, poseidon4([poseidon4([leafHash(a), z, z, z]), poseidon4([z, z, leafHash(b), z]), z1, z1]))
    // An odd depth uses two children of the top node: depth 3 holds 8 accounts.
    const odd = new AccountTree(3)
    assert.equal(odd.capacity, 8)
    odd.set(7, b)
    assert.equal(odd.root, poseidon4([z1, poseidon4([z, z, z, leafHash(b)]), z1, z1]))
    assert.throws(() => odd.set(8, a), /index/)
    assert.deepEqual(t.path(6).positions, [2, 1])
    assert.deepEqual(t.path(6).siblings[0], [z, z, z])
  })

  it('circomlib-schedule Poseidon equals poseidon-lite (textbook schedule) on random inputs of every width used', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: FIELD_MODULUS - 1n }), { minLength: 5, maxLength: 5 }), (x) => {
        assert.equal(hash2(x[0]!, x[1]!), poseidon2([x[0]!, x[1]!]))
        assert.equal(hash4(x[0]!, x[1]!, x[2]!, x[3]!), poseidon4(x.slice(0, 4)))
        assert.equal(hash5(x[0]!, x[1]!, x[2]!, x[3]!, x[4]!), poseidon5(x))
      }),
      { numRuns: 40 },
    )
  })

  it('flatSiblings and pathOf are inverses; pathOf refuses a wrong number of siblings', () => {
    const t = new AccountTree(5)
    t.set(0, { publicKey: keys[0]!.publicKey, balance: 1n, nonce: 0n })
    t.set(21, { publicKey: keys[1]!.publicKey, balance: 2n, nonce: 0n })
    const p = t.path(21)
    assert.equal(flatSiblings(p).length, 9)
    assert.deepEqual(pathOf(21, 5, flatSiblings(p)), p)
    assert.equal(pathOf(21, 5, flatSiblings(p).slice(1)), undefined)
    assert.equal(pathOf(21, 4, flatSiblings(p)), undefined)
  })

  it('paths recompute the root (property over random updates)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 15 }), fc.bigInt({ min: 0n, max: 10n ** 20n })), { maxLength: 20 }), (writes) => {
        const t = new AccountTree(4)
        const owner = new Map<number, number>()
        for (const [i, bal] of writes) {
          const k = owner.get(i) ?? i % keys.length
          owner.set(i, k)
          t.set(i, { publicKey: keys[k]!.publicKey, balance: bal, nonce: 0n })
        }
        for (const [i, a] of t.entries()) assert.equal(rootFromPath(leafHash(a), t.path(i)), t.root)
      }),
      { numRuns: 30 },
    )
  })

  it('an empty leaf is never an account', () => {
    const t = new AccountTree(4)
    t.set(0, { publicKey: keys[0]!.publicKey, balance: 1n, nonce: 0n })
    assert.throws(() => t.get(1), unknown)
    assert.throws(() => t.get(9), unknown)
    assert.equal(t.tryGet(3), undefined)
    assert.throws(() => t.get(16), (e: unknown) => e instanceof Error && /index/.test(e.message))
    // The empty leaf's path proves 0, not any account.
    assert.equal(rootFromPath(0n, t.path(5)), t.root)
  })

  it('rollback restores root, accounts and the next free index', () => {
    const t = new AccountTree(4)
    t.set(0, { publicKey: keys[0]!.publicKey, balance: 10n, nonce: 0n })
    const root = t.root
    t.begin()
    t.set(0, { publicKey: keys[0]!.publicKey, balance: 3n, nonce: 1n })
    t.set(t.nextFreeIndex(), { publicKey: keys[1]!.publicKey, balance: 7n, nonce: 0n })
    t.set(5, { publicKey: keys[2]!.publicKey, balance: 7n, nonce: 0n })
    assert.notEqual(t.root, root)
    t.rollback()
    assert.equal(t.root, root)
    assert.equal(t.get(0).balance, 10n)
    assert.equal(t.nextFreeIndex(), 1)
    assert.equal(t.indexOfKey(keys[1]!.publicKey), undefined)
    assert.equal(t.totalBalance(), 10n)
  })

  it('refuses balances outside [0, 2^128) and a second key at an index', () => {
    const t = new AccountTree(4)
    assert.throws(() => t.set(0, { publicKey: keys[0]!.publicKey, balance: 1n << 128n, nonce: 0n }), (e: unknown) => e instanceof RollupError && e.code === 'BALANCE_OVERFLOW')
    t.set(0, { publicKey: keys[0]!.publicKey, balance: 1n, nonce: 0n })
    assert.throws(() => t.set(0, { publicKey: keys[1]!.publicKey, balance: 1n, nonce: 0n }))
  })

  it('TREE_FULL when every leaf is used', () => {
    const t = new AccountTree(1)
    t.set(0, { publicKey: keys[0]!.publicKey, balance: 1n, nonce: 0n })
    t.set(1, { publicKey: keys[1]!.publicKey, balance: 1n, nonce: 0n })
    assert.throws(() => t.nextFreeIndex(), (e: unknown) => e instanceof RollupError && e.code === 'TREE_FULL')
  })

  it('clone is independent; the overlay sees its own writes only', () => {
    const t = new AccountTree(3)
    t.set(0, { publicKey: keys[0]!.publicKey, balance: 1n, nonce: 0n })
    const c = t.clone()
    c.set(0, { publicKey: keys[0]!.publicKey, balance: 2n, nonce: 0n })
    assert.equal(t.get(0).balance, 1n)
    assert.equal(c.root, (() => {
      const u = new AccountTree(3)
      u.set(0, { publicKey: keys[0]!.publicKey, balance: 2n, nonce: 0n })
      return u.root
    })())
    const o = new OverlayView(t)
    o.set(o.nextFreeIndex(), { publicKey: keys[3]!.publicKey, balance: 4n, nonce: 0n })
    assert.equal(o.get(1).balance, 4n)
    assert.equal(o.indexOfKey(keys[3]!.publicKey), 1)
    assert.equal(o.nextFreeIndex(), 2)
    assert.equal(t.tryGet(1), undefined)
    assert.equal(hash2(1n, 2n), poseidon2([1n, 2n]))
  })
})
