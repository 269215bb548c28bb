/**
 * Sharded and multi-seed runs (shard.ts, spread.ts, `l2bench run --shard`,
 * `--seeds`, `l2bench merge`):
 *  - the tiny scenario with its sweeps as 3 shards plus merge gives the
 *    results.json of the unsharded run, figure for figure where figures are
 *    exact for a seed (gas, calldata, transactions, outcomes, fits, …);
 *  - merge refuses partial files of another scenario, seed set, code version
 *    or gas schedule, a shard missing or given twice, and a file that is not
 *    a partial: exit 2 naming the cause, nothing written;
 *  - shards partition the units, keeping the rollup's units together;
 *  - a multi-seed run's headline and other seeds are the single-seed runs of
 *    those seeds, each figure carries its mean and 95 % interval, and a
 *    sharded multi-seed run merges to the same.
 */
import assert from 'node:assert/strict'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import fc from 'fast-check'
import { main } from '../src/cli.ts'
import { UsageError } from '../src/errors.ts'
import { type ResultsJson, readResults } from '../src/results.ts'
import { loadScenario } from '../src/scenario.ts'
import { type PartialJson, parseSeeds, parseShard, planRun, seedExact, shardUnits } from '../src/shard.ts'
import { spreadOf, t975 } from '../src/spread.ts'

const tiny = new URL('./fixtures/tiny.yaml', import.meta.url).pathname
const tmp = mkdtempSync(join(tmpdir(), 'l2bench-shard-'))
after(() => rmSync(tmp, { recursive: true, force: true }))

async function l2bench(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const status = await main(args, { out: (t) => (stdout += t), err: (t) => (stderr += t) })
  return { status, stdout, stderr }
}

async function ok(...args: string[]): Promise<string> {
  const r = await l2bench(...args)
  assert.equal(r.status, 0, `${args.join(' ')}:\n${r.stderr}`)
  return r.stdout
}

const partial = (dir: string, i: number, n: number) => join(dir, `partial-${i}-of-${n}.json`)
const readPartialJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as PartialJson

describe('sharded runs', () => {
  const whole = join(tmp, 'whole')
  const shards = join(tmp, 'shards')

  it('3 shards plus merge give the unsharded run: the same seed-exact figures, every unit once', async () => {
    await ok('run', '--scenario', tiny, '--quick', '--out', whole)
    for (let i = 1; i <= 3; i++) {
      const out = await ok('run', '--scenario', tiny, '--quick', '--shard', `${i}/3`, '--out', shards)
      assert.match(out, new RegExp(`wrote .*partial-${i}-of-3\\.json`))
    }
    assert.ok(!existsSync(join(shards, 'results.json')), 'a shard writes no results.json')
    const parts = [1, 2, 3].map((i) => readPartialJson(partial(shards, i, 3)))
    const ids = parts.flatMap((p) => p.units.map((u) => u.id))
    assert.equal(new Set(ids).size, ids.length, 'no unit twice')
    assert.deepEqual([...ids].sort(), parts[0]!.plan.map((u) => u.id).sort(), 'every unit once')
    assert.ok(parts.every((p) => p.units.length > 0 && p.units.length < parts[0]!.plan.length), 'each shard ran a part')

    const merged = await ok('merge', shards)
    assert.match(merged, /merged 3 shards of tiny/)
    const a = readResults(join(whole, 'results.json'))
    const b = readResults(join(shards, 'results.json'))
    assert.deepEqual(seedExact(b), seedExact(a))
    assert.ok(a.sweeps.length > 0 && a.fits.length > 0, 'the comparison covers sweeps and fits')
    assert.deepEqual(b.shards?.map((s) => [s.index, s.count]), [[1, 3], [2, 3], [3, 3]])
    assert.match(readFileSync(join(shards, 'report.md'), 'utf8'), /Merged from 3 shards/)
  })

  it('merge refuses what is not the shards of one run, naming the cause, and writes nothing', async () => {
    const bad = join(tmp, 'bad')
    const cases: { name: string; files: () => string[]; re: RegExp }[] = [
      { name: 'missing', files: () => [partial(shards, 1, 3), partial(shards, 3, 3)], re: /shards: shard 2 of 3 missing/ },
      {
        name: 'twice',
        files: () => {
          const copy = join(bad, 'twice', 'copy-of-1.json')
          copyFileSync(partial(shards, 1, 3), copy)
          return [partial(shards, 1, 3), partial(shards, 2, 3), partial(shards, 3, 3), copy]
        },
        re: /shards: shard 1 of 3 is given twice/,
      },
      ...(
        [
          ['scenario', (p: PartialJson) => {
            p.fingerprint.scenarioHash = '0'.repeat(64)
          }, /scenario: .* ran different scenarios/],
          ['seeds', (p: PartialJson) => {
            p.fingerprint.seeds = [4]
          }, /seeds: .* ran different seed sets \(\[4\] and \[3\]\)/],
          ['code', (p: PartialJson) => {
            p.fingerprint.code = 'f'.repeat(64)
          }, /code: .* ran different code versions .*same commit/],
          ['gasSchedule', (p: PartialJson) => {
            p.fingerprint.gasSchedule = 'e'.repeat(64)
          }, /gasSchedule: .* ran under different L1 gas schedules/],
          ['count', (p: PartialJson) => {
            p.shard = { index: 2, count: 4 }
          }, /shards: .* split the run differently \(4 and 3 shards\)/],
          ['unit', (p: PartialJson) => void p.units.pop(), /shards: 1 unit\(s\) of the run are in no shard/],
        ] as const
      ).map(([name, tamper, re]) => ({
        name,
        files: () => {
          const p = readPartialJson(partial(shards, 2, 3))
          tamper(p)
          const f = join(bad, name, 'partial-2-of-3.json')
          writeFileSync(f, JSON.stringify(p))
          return [partial(shards, 1, 3), f, partial(shards, 3, 3)]
        },
        re,
      })),
      { name: 'not-a-partial', files: () => [join(whole, 'results.json')], re: /file: .*results\.json: kind: not an l2bench partial results file/ },
    ]
    for (const c of cases) {
      const dir = join(bad, c.name)
      mkdirSync(dir, { recursive: true })
      const files = c.files()
      const out = join(dir, 'out')
      const r = await l2bench('merge', ...files, '--out', out)
      assert.equal(r.status, 2, `${c.name}: ${r.stderr}`)
      assert.match(r.stderr, c.re, c.name)
      assert.ok(!existsSync(out) || readdirSync(out).length === 0, `${c.name}: nothing written`)
    }
  })

  it('a real shard of another seed is refused too', async () => {
    const other = join(tmp, 'other-seed')
    await ok('run', '--scenario', tiny, '--quick', '--seed', '4', '--shard', '2/3', '--out', other)
    const r = await l2bench('merge', partial(shards, 1, 3), partial(other, 2, 3), partial(shards, 3, 3), '--out', join(tmp, 'never'))
    assert.equal(r.status, 2)
    assert.match(r.stderr, /seeds: .* ran different seed sets \(\[4\] and \[3\]\)/)
    assert.ok(!existsSync(join(tmp, 'never', 'results.json')))
  })
})

describe('shard planning', () => {
  const scenario = loadScenario(tiny)
  const designs = ['l1', 'channel', 'paych', 'htlc', 'rollup'] as const

  it('shards partition the units for any count; every rollup unit is on one shard, in plan order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 1, maxLength: 3 }), (count, rawSeeds) => {
        const seeds = [...new Set(rawSeeds)]
        const plan = planRun({ ...scenario, sweeps: { ...scenario.sweeps, designs: [...designs] } }, { designs, seeds, sweeps: true, quick: false, sweepable: () => true })
        const parts = Array.from({ length: count }, (_, i) => shardUnits(plan, { index: i + 1, count }))
        const ids = parts.flat().map((u) => u.id)
        assert.equal(ids.length, plan.units.length)
        assert.deepEqual(new Set(ids), new Set(plan.units.map((u) => u.id)))
        const withRollup = parts.filter((p) => p.some((u) => u.design === 'rollup'))
        assert.equal(withRollup.length, 1)
        const order = (us: readonly { id: string }[]) => us.filter((u) => u.id.endsWith('design=rollup')).map((u) => u.id)
        assert.deepEqual(order(withRollup[0]!), order(plan.units))
      }),
    )
  })

  it('--shard and --seeds are checked, with typed errors naming the flag', () => {
    assert.deepEqual(parseShard('2/3'), { index: 2, count: 3 })
    for (const bad of ['0/3', '4/3', '1/0', '3', 'a/b', '1/10001']) assert.throws(() => parseShard(bad), (e: unknown) => e instanceof UsageError && e.field === '--shard')
    assert.deepEqual(parseSeeds('1-3,7'), [1, 2, 3, 7])
    for (const bad of ['', '1,,2', '3-1', '1,1', 'x', '4294967296', '1-1001']) assert.throws(() => parseSeeds(bad), (e: unknown) => e instanceof UsageError && e.field === '--seeds')
  })
})

describe('multi-seed runs', () => {
  it("95 % interval: Student t over the seeds (scipy's t.interval for 1..5: 1.0367 – 4.9633)", () => {
    const s = spreadOf([1, 2, 3, 4, 5])
    assert.equal(s.mean, 3)
    assert.ok(Math.abs(s.sd - Math.sqrt(2.5)) < 1e-12)
    assert.ok(Math.abs(s.low - 1.0367) < 1e-3 && Math.abs(s.high - 4.9633) < 1e-3, `${s.low} – ${s.high}`)
    assert.deepEqual(spreadOf([7]), { mean: 7, low: 7, high: 7, sd: 0, n: 1, values: [7] })
    assert.equal(t975(1), 12.706)
    assert.equal(t975(1000), 1.96)
    assert.throws(() => t975(0), RangeError)
  })

  it('--seeds: the headline and the other seeds are those seeds\' own runs; each figure has its spread; shards merge to the same', async () => {
    const base = ['--scenario', tiny, '--quick', '--designs', 'l1,channel', '--no-sweeps']
    const multi = join(tmp, 'multi')
    await ok('run', ...base, '--seeds', '3,4,5', '--out', multi)
    const m = readResults(join(multi, 'results.json'))
    assert.deepEqual(m.seeds, [3, 4, 5])
    assert.equal(m.seed, 3)
    assert.deepEqual(m.seedRuns?.map((s) => s.seed), [4, 5])
    for (const seed of [3, 5]) {
      const single = join(tmp, `single-${seed}`)
      await ok('run', ...base, '--seed', String(seed), '--out', single)
      const s = readResults(join(single, 'results.json'))
      const mine: ResultsJson['designs'] = seed === 3 ? m.designs : m.seedRuns![1]!.designs
      const designsOf = (r: ResultsJson) => (seedExact(r) as { designs: unknown }).designs
      assert.deepEqual(designsOf({ ...m, designs: mine }), designsOf(s), `seed ${seed}`)
    }
    const gas = m.spread?.designs.find((d) => d.name === 'channel')?.figures.gasPerPayment
    assert.ok(gas !== undefined)
    assert.deepEqual(gas.values, [m.designs, ...m.seedRuns!.map((r) => r.designs)].map((ds) => ds.find((d) => d.name === 'channel')!.l1.gasPerPayment))
    assert.ok(gas.low <= gas.mean && gas.mean <= gas.high && gas.n === 3)
    // Every figure of the summary table has its spread (final latency and prover work only where the design has them).
    const figures = m.spread?.designs.find((d) => d.name === 'channel')?.figures ?? {}
    for (const k of ['successRate', 'capacityPerSecond', 'softP50Ms', 'softP95Ms', 'softP99Ms', 'finalP50Ms', 'finalP95Ms', 'finalP99Ms', 'gasPerPayment', 'bytesPerPayment', 'txBytesPerPayment', 'txsPerPayment', 'lockedEthHours'])
      assert.equal(figures[k]?.n, 3, `channel: ${k} over the 3 seeds`)
    assert.match(readFileSync(join(multi, 'report.md'), 'utf8'), /## Over the seeds[\s\S]*Over 3 seeds \(3, 4, 5\)[\s\S]*\| channel \|/)

    const sharded = join(tmp, 'multi-shards')
    for (const i of [1, 2]) await ok('run', ...base, '--seeds', '3,4,5', '--shard', `${i}/2`, '--out', sharded)
    await ok('merge', partial(sharded, 2, 2), partial(sharded, 1, 2), '--out', sharded)
    assert.deepEqual(seedExact(readResults(join(sharded, 'results.json'))), seedExact(m))
  })
})
