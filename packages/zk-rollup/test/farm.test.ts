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
  SpeedupGate,
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

describe('farm: the speed-up measurement (ABBA blocks, speedup.ts)', () => {
  /**
   * A simulated farm on a virtual clock: `workers` workers, each proof takes
   * `proofMs` on a free worker; `jobs` proofs arrive at once (the node's
   * pipeline) or one by one. Records the most jobs out of the gate at once in
   * every block.
   */
  async function simulate(o: { workers: number; live: number; proofMs: number; jobs: number; oneByOne?: boolean; blockBatches?: number }) {
    let now = 0
    const gate = new SpeedupGate({ workers: o.workers, liveWorkers: async () => o.live, waitMs: 0, now: () => now, load: () => 1.5, ...(o.blockBatches !== undefined ? { blockBatches: o.blockBatches } : {}) })
    let out = 0
    const outAt: { at: number; out: number }[] = []
    const busy: number[] = Array.from({ length: o.live }, () => 0) // when each worker is free
    const finished: Promise<void>[] = []
    const run = async () => {
      const release = await gate.acquire()
      out++
      outAt.push({ at: now, out })
      // the earliest free worker takes it
      const w = busy.indexOf(Math.min(...busy))
      const start = Math.max(now, busy[w] as number)
      busy[w] = start + o.proofMs
      const end = busy[w] as number
      await new Promise((r) => setImmediate(r))
      await tick(end)
      out--
      release()
    }
    // a tiny event loop: timers fire in time order
    const timers: { at: number; fire: () => void }[] = []
    const tick = (at: number) => new Promise<void>((fire) => timers.push({ at, fire }))
    for (let i = 0; i < o.jobs; i++) {
      finished.push(run())
      if (o.oneByOne === true) {
        await new Promise((r) => setImmediate(r))
        await drive()
      }
    }
    async function drive() {
      for (let guard = 0; guard < 100_000; guard++) {
        for (let k = 0; k < 5; k++) await new Promise((r) => setImmediate(r))
        if (timers.length === 0) return
        timers.sort((a, b) => a.at - b.at)
        const t = timers.shift() as { at: number; fire: () => void }
        now = Math.max(now, t.at)
        t.fire()
      }
    }
    await drive()
    await Promise.all(finished)
    return { result: gate.result(o.jobs), outAt }
  }

  it('a warm-up round, then one job at a time in the A blocks and the pool in the B blocks: the ratio is the pool\'s measured speed-up', async () => {
    const { result, outAt } = await simulate({ workers: 2, live: 2, proofMs: 1_000, jobs: 20 })
    assert.ok(result.measured, JSON.stringify(result))
    assert.deepEqual(
      result.blocks.map((b) => [b.cap, b.batches, b.wallMs]),
      [
        [1, 4, 4_000],
        [2, 4, 2_000],
        [2, 4, 2_000],
        [1, 4, 4_000],
      ],
    )
    assert.equal(result.speedup, 2)
    assert.equal(result.warmup, 2)
    assert.deepEqual(result.loadAverage, { start: 1.5, end: 1.5 })
    // Never more out at once than the phase allows: the warm-up 2 during [0, 1 s), then 1 during [1 s, 5 s), 2 during [5 s, 9 s),
    // 1 during [9 s, 13 s); then open (the last two at once).
    for (const { at, out } of outAt) if (at < 13_000) assert.ok(out <= (at < 1_000 ? 2 : at < 5_000 || at >= 9_000 ? 1 : 2), `${out} out at ${at}`)
    assert.deepEqual(
      outAt.filter((x) => x.at < 1_000).map((x) => x.out),
      [1, 2],
      'the warm-up round: one proof per worker at once',
    )
    assert.deepEqual(
      outAt.filter((x) => x.at >= 13_000).map((x) => x.out),
      [1, 2],
      'open after the blocks',
    )
  })

  it('three workers asked, three live: B lets three out (speed-up 3); a pool slower than its size is measured as it is', async () => {
    const three = await simulate({ workers: 3, live: 3, proofMs: 600, jobs: 30 })
    assert.ok(three.result.measured)
    assert.equal(three.result.blockBatches, 6)
    assert.equal(three.result.speedup, 3)
    // Two workers asked for, but only one actually proves (the other is slow to serve: live says 2, the farm has 1)
    const { result } = await simulate({ workers: 2, live: 1, proofMs: 500, jobs: 16 })
    assert.ok(!result.measured)
    assert.match(result.reason, /only 1 of the 2 workers to compare served the circuit/)
  })

  it('not a measurement when the run ends first, or when the sequencer did not keep the farm busy', async () => {
    const short = await simulate({ workers: 2, live: 2, proofMs: 100, jobs: 9 })
    assert.deepEqual(short.result, { measured: false, reason: 'the run proved 9 batches; the measurement needs 18 (a warm-up round of 2, then 4 blocks of 4)' })
    const starved = await simulate({ workers: 2, live: 2, proofMs: 100, jobs: 20, oneByOne: true })
    assert.ok(!starved.result.measured)
    assert.match(starved.result.reason, /did not keep the farm busy/)
  })

  it('a failure fails the jobs waiting at the gate; bad options are refused', async () => {
    const gate = new SpeedupGate({ workers: 2, liveWorkers: async () => 2 })
    const first = await gate.acquire()
    const second = await gate.acquire() // the warm-up round lets two out
    const waiting = gate.acquire()
    gate.fail(new ProverFarmError('REDIS_LOST', 'gone'))
    await assert.rejects(waiting, (e: unknown) => e instanceof ProverFarmError && e.code === 'REDIS_LOST')
    await assert.rejects(gate.acquire(), (e: unknown) => e instanceof ProverFarmError && e.code === 'REDIS_LOST')
    first()
    second()
    for (const bad of [1, 0, 2.5, 1001]) assert.throws(() => new SpeedupGate({ workers: bad, liveWorkers: async () => 2 }), /workers: expected an integer 2\.\.1000/)
    assert.throws(() => new SpeedupGate({ workers: 2, blockBatches: 0, liveWorkers: async () => 2 }), /blockBatches/)
  })
})
