/**
 * `l2bench run --prove-all --prover-redis URL` with two `l2bench prover`
 * worker processes, end to end through the CLI: every batch of a tiny rollup
 * workload is proven on the farm (none extrapolated), the withdrawals run on
 * L1, funds are conserved, both workers took jobs, and the report says where
 * the proofs came from; with --prover-speedup 2 the run measures the speed-up
 * of the two workers over one (ABBA blocks of 4 proofs) and reports it. And
 * Redis killed while a worker proves: the run exits 1 with the rollup
 * reported as not run (REDIS_LOST named), never as a complete result, and
 * the worker exits 1 with the same cause. Redis: $L2BENCH_TEST_REDIS (CI starts one on
 * 127.0.0.1:6379) or a redis-server started here on a free port. The farm's
 * failure cases are in packages/zk-rollup/test-system/farm.test.ts.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { type LocalRedis, startRedisServer } from '@l2bench/zk-rollup/farm'
import { main } from '../src/cli.ts'
import { readResults } from '../src/results.ts'

const fixture = new URL('../test/fixtures/rollup-farm.yaml', import.meta.url).pathname
const cli = new URL('../src/cli.ts', import.meta.url).pathname
const tmp = mkdtempSync(join(tmpdir(), 'l2bench-farm-cli-'))
const farm = `cli-test-${process.pid}`
let redis: LocalRedis | undefined
let url: string
const workers: { child: ChildProcess; log: string[] }[] = []

before(async () => {
  if (process.env.L2BENCH_TEST_REDIS !== undefined && process.env.L2BENCH_TEST_REDIS !== '') url = process.env.L2BENCH_TEST_REDIS
  else {
    redis = await startRedisServer()
    url = redis.url
  }
  for (const name of ['w1', 'w2']) {
    const child = spawn(process.execPath, ['--conditions=@l2bench/source', '--import', 'tsx', cli, 'prover', '--redis', url, '--farm', farm, '--name', name], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const log: string[] = []
    child.stdout?.on('data', (b: Buffer) => log.push(b.toString()))
    child.stderr?.on('data', (b: Buffer) => log.push(b.toString()))
    workers.push({ child, log })
  }
})

after(async () => {
  const exits = workers.map((w) => new Promise<number | null>((resolve) => (w.child.exitCode !== null ? resolve(w.child.exitCode) : w.child.once('exit', resolve))))
  for (const w of workers) w.child.kill('SIGTERM')
  await Promise.all(exits)
  await redis?.stop()
  rmSync(tmp, { recursive: true, force: true })
})

test('run --prove-all --prover-redis --prover-speedup 2: every batch proven by two prover processes, withdrawals on L1, funds conserved, the speed-up over one worker reported', async () => {
  let stdout = ''
  let stderr = ''
  const out = join(tmp, 'run')
  const status = await main(['run', '--scenario', fixture, '--no-sweeps', '--prove-all', '--prover-redis', url, '--prover-farm', farm, '--prover-speedup', '2', '--out', out], {
    out: (t) => (stdout += t),
    err: (t) => (stderr += t),
  })
  assert.equal(status, 0, `${stdout}\n${stderr}\n${workers.map((w) => w.log.join('')).join('\n')}`)
  const r = readResults(join(out, 'results.json'))
  const rollup = r.designs.find((d) => d.name === 'rollup')
  assert.ok(rollup?.ran, rollup?.error)
  assert.equal(rollup.succeeded, rollup.payments)
  assert.equal(rollup.extrapolated, false, 'every batch proven, none extrapolated')
  assert.equal(rollup.conservation.ok, true)
  assert.ok((rollup.l1.byOperation['zk-rollup.withdraw']?.txs ?? 0) > 0, 'the withdrawals ran on L1')
  const note = rollup.notes.find((n) => n.startsWith('Proofs from the BullMQ prover farm'))
  assert.ok(note, rollup.notes.join('\n'))
  const m = /(\d+) batches by 2 workers \(w1: (\d+), w2: (\d+)\)/.exec(note)
  assert.ok(m, note)
  assert.equal(Number(m[2]) + Number(m[3]), Number(m[1]))
  assert.ok(Number(m[2]) > 0 && Number(m[3]) > 0, `both workers proved: ${note}`)
  assert.equal(rollup.prover?.workers, 2, 'the final latency is scheduled over the 2 workers that proved, not the 16 batches in flight')
  assert.equal(rollup.l1.byOperation['zk-rollup.submitBatch']?.txs, Number(m[1]), 'one submission per proof')
  assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /Proofs from the BullMQ prover farm/)
  // The proofs' CPU time comes back from the workers (each proved one job at a time): measured, never a 0.
  const cpu = rollup.prover?.cpuSecondsPerPayment
  assert.equal(cpu?.source, 'measured', JSON.stringify(rollup.prover))
  assert.match(cpu?.how ?? '', /measured on the farm's workers/)
  const perProof = rollup.prover?.cpuSecondsPerProof ?? 0
  assert.ok(perProof > 0 && perProof <= (rollup.prover?.wallSecondsPerProof ?? 0) * availableParallelism() * 1.2, JSON.stringify(rollup.prover))
  // The speed-up, measured in this run: after a warm-up round of 2, 16 proofs in blocks of 4 — one at a time, two, two, one.
  const sp = rollup.notes.find((n) => n.startsWith('Speed-up of 2 prover workers over one, measured in this run'))
  assert.ok(sp, rollup.notes.join('\n'))
  const f = /: ([\d.]+)× \(mean time per batch with one job at a time ÷ with 2 at a time = ([\d.]+) s ÷ ([\d.]+) s\)\. After a warm-up round of 2 proofs \(one per worker, not counted\), the next 16 went in four blocks of 4/.exec(sp)
  assert.ok(f, sp)
  assert.ok(Number(f[1]) > 0 && Number(f[2]) > 0 && Number(f[3]) > 0, sp)
  assert.ok(Math.abs(Number(f[1]) - Number(f[2]) / Number(f[3])) < 0.06, `the ratio is the two times' ratio: ${sp}`)
  assert.match(sp, /1-minute load average [\d.]+ at the start and [\d.]+ at the end/)
  assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /Speed-up of 2 prover workers over one, measured in this run/)
})

test('Redis killed mid-run: exit 1, the rollup reported as not run naming REDIS_LOST, no proven result; the worker exits 1', async () => {
  const own = await startRedisServer()
  const name = 'orphan'
  const child = spawn(process.execPath, ['--conditions=@l2bench/source', '--import', 'tsx', cli, 'prover', '--redis', own.url, '--farm', farm, '--name', name], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const log: string[] = []
  let proving: () => void = () => {}
  const started = new Promise<void>((resolve) => {
    proving = resolve
  })
  const feed = (b: Buffer) => {
    log.push(b.toString())
    if (/: prove \(attempt 1/.test(log.join(''))) proving()
  }
  child.stdout?.on('data', feed)
  child.stderr?.on('data', feed)
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const out = join(tmp, 'lost')
  let stdout = ''
  let stderr = ''
  try {
    const running = main(['run', '--scenario', fixture, '--no-sweeps', '--prove-all', '--prover-redis', own.url, '--prover-farm', farm, '--out', out], {
      out: (t) => (stdout += t),
      err: (t) => (stderr += t),
    })
    await started
    await own.kill()
    const t0 = Date.now()
    const status = await running
    assert.equal(status, 1, `${stdout}\n${stderr}`)
    assert.ok(Date.now() - t0 < 60_000, `the run gave up after ${Date.now() - t0} ms`)
    const r = readResults(join(out, 'results.json'))
    const rollup = r.designs.find((d) => d.name === 'rollup')
    assert.ok(rollup !== undefined)
    assert.equal(rollup.ran, false, 'not reported as a complete run')
    assert.match(rollup.error ?? '', /REDIS_LOST|Redis at .* went away/)
    assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /went away/)
    assert.equal(await exited, 1, log.join(''))
    assert.match(log.join(''), /Redis at .* went away/)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await own.stop()
  }
})
