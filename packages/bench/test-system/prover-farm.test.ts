/**
 * `l2bench run --prove-all --prover-redis URL` with two `l2bench prover`
 * worker processes, end to end through the CLI: every batch of a tiny rollup
 * workload is proven on the farm (none extrapolated), the withdrawals run on
 * L1, funds are conserved, both workers took jobs, and the report says where
 * the proofs came from. Redis: $L2BENCH_TEST_REDIS (CI starts one on
 * 127.0.0.1:6379) or a redis-server started here on a free port. The farm's
 * failure cases are in packages/zk-rollup/test-system/farm.test.ts.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
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

test('run --prove-all --prover-redis: every batch proven by two prover processes, withdrawals on L1, funds conserved', async () => {
  let stdout = ''
  let stderr = ''
  const out = join(tmp, 'run')
  const status = await main(['run', '--scenario', fixture, '--no-sweeps', '--prove-all', '--prover-redis', url, '--prover-farm', farm, '--out', out], {
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
  assert.equal(rollup.l1.byOperation['zk-rollup.submitBatch']?.txs, Number(m[1]), 'one submission per proof')
  assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /Proofs from the BullMQ prover farm/)
})
