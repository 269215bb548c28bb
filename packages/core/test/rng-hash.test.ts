import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidInputError, Rng, WeightedTable, bytesEqual, keccak256, keccakTagged, sha256, taggedHash, toHex, utf8ToBytes } from '@l2bench/core'

test('the RNG is deterministic per seed and differs across seeds', () => {
  const a = new Rng(42)
  const b = new Rng(42)
  const c = new Rng(43)
  const xs = Array.from({ length: 100 }, () => a.next())
  assert.deepEqual(xs, Array.from({ length: 100 }, () => b.next()))
  assert.notDeepEqual(xs, Array.from({ length: 100 }, () => c.next()))
  assert.ok(xs.every((x) => x >= 0 && x < 1))
  assert.deepEqual(new Rng('s').bytes(8), new Rng('s').bytes(8))
  const r = new Rng(1)
  for (let i = 0; i < 1000; i++) {
    const v = r.bigint(1000n)
    assert.ok(v >= 0n && v < 1000n)
  }
  assert.throws(() => r.int(0), InvalidInputError)
  assert.throws(() => new Rng(Number.NaN), (e: InvalidInputError) => e.field === 'seed')
})

test('hashes match known vectors and tags separate domains', () => {
  assert.equal(toHex(sha256(utf8ToBytes('abc'))), '0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  assert.equal(toHex(keccak256(new Uint8Array())), '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470')
  const m = utf8ToBytes('same message')
  assert.ok(!bytesEqual(taggedHash('a', m), taggedHash('b', m)))
  assert.ok(!bytesEqual(keccakTagged('a', m), keccakTagged('b', m)))
  assert.ok(bytesEqual(taggedHash('a', m), taggedHash('a', m.subarray(0, 4), m.subarray(4))))
})

test('hash functions name the bad argument', () => {
  // @ts-expect-error — a string is not bytes
  assert.throws(() => sha256('abc'), (e: InvalidInputError) => e.field === 'data')
  // @ts-expect-error — a number is not bytes
  assert.throws(() => taggedHash('t', new Uint8Array(), 5), (e: InvalidInputError) => e.field === 'parts[1]')
  // @ts-expect-error — the tag must be a string
  assert.throws(() => keccakTagged(1, new Uint8Array()), (e: InvalidInputError) => e.field === 'tag')
})

test('WeightedTable draws in proportion to the weights, within a prefix when asked', () => {
  const t = new WeightedTable([1, 0, 3, 6])
  const rng = new Rng(9)
  const counts = [0, 0, 0, 0]
  for (let i = 0; i < 20_000; i++) counts[t.draw(rng)]!++
  assert.equal(counts[1], 0)
  assert.ok(Math.abs(counts[3]! / 20_000 - 0.6) < 0.02, String(counts))
  for (let i = 0; i < 1000; i++) assert.ok(t.draw(rng, 3) !== 3)
  assert.throws(() => t.draw(rng, 0), (e: InvalidInputError) => e.field === 'limit')
  assert.throws(() => new WeightedTable([1, -1]), (e: InvalidInputError) => e.field === 'weights[1]')
})
