/**
 * The prover farm's parts that need no Redis server (the rest, with a real
 * Redis and worker processes, is test-system/farm.test.ts): witness inputs
 * survive the JSON round trip exactly and malformed ones are refused; circuit
 * ids cannot name another directory; a published circuit is fetched back by
 * id and a tampered copy is refused; bad URLs and farm names are typed errors;
 * a Redis that is not there fails at once with REDIS_UNREACHABLE.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { InvalidInputError } from '@l2bench/core'
import fc from 'fast-check'
import {
  ProverFarmError,
  QueueProver,
  checkCircuitId,
  checkFarmName,
  connectRedis,
  decodeInput,
  encodeInput,
  farmCircuitOf,
  fetchCircuit,
  freePort,
  publishCircuit,
  redactRedisUrl,
} from '../src/farm/index.ts'
import type { CircuitInput, VerificationKey } from '../src/index.ts'

const tmp = mkdtempSync(join(tmpdir(), 'l2bench-farm-unit-'))
after(() => rmSync(tmp, { recursive: true, force: true }))
const params = { n: 1, d: 1, depth: 4, mode: 'packed' as const }

/** A stand-in circuit: arbitrary bytes are enough to test naming, publishing and fetching. */
async function fakeCircuit(tag: string) {
  const dir = mkdtempSync(join(tmp, `${tag}-`))
  const paths = { wasm: join(dir, 'c.wasm'), zkey: join(dir, 'c.zkey'), vkey: join(dir, 'vk.json') }
  writeFileSync(paths.wasm, `wasm ${tag}`)
  writeFileSync(paths.zkey, `zkey ${tag}`)
  const vkey = { protocol: 'groth16', tag } as unknown as VerificationKey
  writeFileSync(paths.vkey, JSON.stringify(vkey))
  const c = await farmCircuitOf({ compiled: { wasm: paths.wasm } as never, setup: { zkey: paths.zkey, vkeyPath: paths.vkey, vkey } as never }, params)
  return { c, paths }
}

describe('farm: witness inputs on the wire', () => {
  const field = fc.bigInt({ min: 0n, max: (1n << 254n) - 1n })
  it('round-trips any input of field elements, vectors and matrices exactly', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-zA-Z]{1,8}$/), fc.oneof(field, fc.array(field), fc.array(fc.array(field)))), (input) => {
        const wire = JSON.parse(JSON.stringify(encodeInput(input as CircuitInput)))
        assert.deepEqual(decodeInput(wire), { ...input })
      }),
    )
  })
  it('refuses anything but decimal field elements, naming the field', () => {
    for (const bad of [{ a: '-1' }, { a: '0x10' }, { a: 1 }, { a: ['1', null] }, { a: '1'.repeat(81) }, { a: { b: '1' } }])
      assert.throws(() => decodeInput(bad), (e: unknown) => e instanceof InvalidInputError && /^input\.a/.test((e as InvalidInputError).field ?? ''))
    for (const bad of [null, 'x', ['1'], JSON.parse('{"__proto__": "1"}'), { 'a-b': '1' }]) assert.throws(() => decodeInput(bad), InvalidInputError)
    assert.throws(() => encodeInput({ a: 1 as unknown as bigint }), /input\.a/)
  })
})

describe('farm: circuits by content', () => {
  it('ids are 32 hex digits and nothing else (an id names a directory)', () => {
    assert.equal(checkCircuitId('0123456789abcdef0123456789abcdef'), '0123456789abcdef0123456789abcdef')
    for (const bad of ['../../etc/passwd', '0123456789ABCDEF0123456789ABCDEF', '0123', `${'a'.repeat(32)}/x`, 7, undefined])
      assert.throws(() => checkCircuitId(bad), InvalidInputError)
  })

  it('a published circuit is fetched back by id; different bytes give a different id', async () => {
    const cache = join(tmp, 'cache1')
    const { c, paths } = await fakeCircuit('one')
    const { c: other } = await fakeCircuit('two')
    assert.notEqual(c.id, other.id)
    const dir = await publishCircuit(cache, c, paths.vkey)
    assert.equal(dir, join(cache, c.id))
    assert.equal(await publishCircuit(cache, c, paths.vkey), dir, 'publishing again is a no-op')
    const back = await fetchCircuit(cache, c.id)
    assert.deepEqual({ id: back.id, name: back.name, params: back.params, sha256: back.sha256 }, { id: c.id, name: 'batch_n1_d1_h4_packed', params, sha256: c.sha256 })
  })

  it('a missing circuit or a tampered copy is CIRCUIT_NOT_FOUND, never used', async () => {
    const cache = join(tmp, 'cache2')
    const { c, paths } = await fakeCircuit('three')
    await assert.rejects(fetchCircuit(cache, c.id), (e: unknown) => e instanceof ProverFarmError && e.code === 'CIRCUIT_NOT_FOUND' && e.message.includes(cache))
    const dir = await publishCircuit(cache, c, paths.vkey)
    writeFileSync(join(dir, 'circuit.zkey'), 'zkey of someone else')
    await assert.rejects(fetchCircuit(cache, c.id), (e: unknown) => e instanceof ProverFarmError && e.code === 'CIRCUIT_NOT_FOUND' && /do not hash to circuit/.test(e.message))
    await assert.rejects(fetchCircuit(cache, '../x'), InvalidInputError)
  })
})

describe('farm: Redis addresses', () => {
  it('bad URLs and farm names are typed errors naming the field', async () => {
    const { c, paths } = await fakeCircuit('four')
    for (const redis of ['', 'localhost:6379', 'http://127.0.0.1:6379', 'redis://'])
      assert.throws(() => new QueueProver({ redis, circuit: c, vkeyPath: paths.vkey }), (e: unknown) => e instanceof InvalidInputError && e.field === 'redis')
    assert.throws(() => new QueueProver({ redis: 'redis://127.0.0.1:1', farm: 'a b', circuit: c, vkeyPath: paths.vkey }), (e: unknown) => e instanceof InvalidInputError && e.field === 'farm')
    assert.throws(() => checkFarmName('x'.repeat(65)), InvalidInputError)
  })

  it('passwords never reach a message', () => {
    assert.equal(redactRedisUrl('redis://user:s3cret@host:6379/0'), 'redis://user:***@host:6379/0')
  })

  it('a Redis that is not there fails at once with REDIS_UNREACHABLE naming the address and the socket error', async () => {
    const port = await freePort()
    const t0 = Date.now()
    await assert.rejects(connectRedis(`redis://127.0.0.1:${port}`, { connectTimeoutMs: 1_500 }), (e: unknown) => {
      assert.ok(e instanceof ProverFarmError)
      assert.equal(e.code, 'REDIS_UNREACHABLE')
      assert.match(e.message, new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port}/? within 1500 ms: connect ECONNREFUSED`))
      return true
    })
    assert.ok(Date.now() - t0 < 5_000)
    const { c, paths } = await fakeCircuit('five')
    const p = new QueueProver({ redis: `redis://127.0.0.1:${port}`, circuit: c, vkeyPath: paths.vkey, circuitCache: join(tmp, 'cache3'), connectTimeoutMs: 1_000 })
    await assert.rejects(p.prove({}), (e: unknown) => e instanceof ProverFarmError && e.code === 'REDIS_UNREACHABLE')
    await p.close()
  })
})
