import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { main } from '../src/cli.ts'
import { DESIGN_FACTORIES } from '../src/designs/index.ts'
import { readResults } from '../src/index.ts'

const bin = new URL('../bin/l2bench.js', import.meta.url).pathname
const tiny = new URL('./fixtures/tiny.yaml', import.meta.url).pathname
const tmp = mkdtempSync(join(tmpdir(), 'l2bench-cli-'))
after(() => rmSync(tmp, { recursive: true, force: true }))

/** The real shim, in a child process (used once, for the end-to-end run). */
const l2benchProcess = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' })

/**
 * The same CLI in-process, its output captured through main's io (fast). Never by patching
 * process.stdout: the test runner reports results on it, and a patched stream loses them.
 */
async function l2bench(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const status = await main(args, { out: (t) => (stdout += t), err: (t) => (stderr += t) })
  return { status, stdout, stderr }
}

test('a quick run of the L1 baseline writes every output, end to end', async () => {
  const out = join(tmp, 'run')
  const r = l2benchProcess('run', '--scenario', tiny, '--designs', 'l1', '--quick', '--out', out)
  assert.equal(r.status, 0, r.stderr)
  for (const f of ['results.json', 'report.md', 'report.html', 'benchmark-bigger-is-better.json', 'benchmark-smaller-is-better.json'])
    assert.ok(existsSync(join(out, f)), f)
  const res = readResults(join(out, 'results.json'))
  assert.equal(res.quick, true)
  assert.equal(res.scenario, 'tiny')
  assert.equal(res.designs[0]?.name, 'l1')
  assert.equal(res.designs[0]?.payments, 20)
  assert.equal(res.designs[0]?.succeeded, 20)
  assert.equal(res.designs[0]?.conservation.ok, true)
  assert.ok(res.sweeps.length > 0)
  assert.match(r.stdout, /l1 +20\/20/)

  // Re-render from the stored results.
  const again = join(tmp, 'again')
  const rr = await l2bench('report', join(out, 'results.json'), '--out', again)
  assert.equal(rr.status, 0, rr.stderr)
  assert.equal(readFileSync(join(again, 'report.md'), 'utf8'), readFileSync(join(out, 'report.md'), 'utf8'))

  // Gate: write a baseline from this run, compare the run with it.
  const base = join(tmp, 'baseline.json')
  assert.equal((await l2bench('gate', '--update', '--baseline', base, join(out, 'results.json'))).status, 0)
  const g = await l2bench('gate', '--baseline', base, join(out, 'results.json'))
  assert.equal(g.status, 0, g.stdout)
  assert.match(g.stdout, /gate: ok/)
})

test('bad flags and inputs exit 2 with a message naming them', async () => {
  const cases: [string[], RegExp][] = [
    [['run', '--bogus'], /--bogus/],
    [['run', '--designs', 'l1,zk'], /--designs: unknown design "zk"/],
    [['run', '--seed', 'abc'], /--seed/],
    [['run', '--scenario', 'nope'], /no scenario "nope"/],
    [['frobnicate'], /unknown command/],
    [['gate', 'x.json'], /--baseline: required/],
    [['report'], /results: expected exactly one/],
  ]
  for (const [args, re] of cases) {
    const r = await l2bench(...args)
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, re)
  }
})

test('list shows scenarios and design adapters', async () => {
  const r = await l2bench('list')
  assert.equal(r.status, 0)
  assert.match(r.stdout, /default/)
  assert.match(r.stdout, /l1 +ready/)
})

/** Writes a scenario file into the test's temp dir. */
function scenarioFile(name: string, text: string): string {
  const p = join(tmp, name)
  writeFileSync(p, text)
  return p
}

test('a typo in designOptions fails the load, names the key with a did-you-mean, exits 2 and writes nothing', async () => {
  const file = scenarioFile('typo.yaml', 'users: 3\npayments: 5\ndesignOptions:\n  channel: { disputeWindw: 20 }\n')
  const out = join(tmp, 'typo-out')
  const r = await l2bench('run', '--scenario', file, '--out', out)
  assert.equal(r.status, 2)
  assert.match(r.stderr, /designOptions\.channel\.disputeWindw: unknown key \(did you mean "disputeWindow"\?\)/)
  assert.match(r.stderr, /typo\.yaml:4/)
  assert.doesNotMatch(r.stderr, /calibrating/, 'nothing ran')
  assert.equal(existsSync(out), false, 'nothing written')
})

test('unknown nested keys are reported before the missing key they were meant to be, with a did-you-mean', async () => {
  const file = scenarioFile('nested.yaml', 'users: 3\npayments: 5\namounts: { kind: fixed, valeu: 5 }\n')
  const r = await l2bench('run', '--scenario', file)
  assert.equal(r.status, 2)
  assert.match(r.stderr, /amounts\.valeu: unknown key \(did you mean "value"\?\)/)
})

test('a YAML syntax error names its line and column and shows the line', async () => {
  const file = scenarioFile('syntax.yaml', 'users: 3\npayments: 5\npairs: { count: 2\n')
  const r = await l2bench('run', '--scenario', file)
  assert.equal(r.status, 2)
  assert.match(r.stderr, /\(yaml\): .* at line \d+, column \d+/)
  assert.match(r.stderr, /syntax\.yaml:\d+\)/)
  assert.match(r.stderr, /\| pairs: \{ count: 2/)
})

test('a design that fails makes the run exit 1, naming it, after writing the reports', async () => {
  const saved = DESIGN_FACTORIES.paych!
  DESIGN_FACTORIES.paych = async () => {
    throw new Error('adapter exploded')
  }
  try {
    const out = join(tmp, 'failing')
    const r = await l2bench('run', '--scenario', tiny, '--designs', 'l1,paych', '--quick', '--no-sweeps', '--out', out)
    assert.equal(r.status, 1, r.stderr)
    assert.match(r.stderr, /error: 1 design did not run: paych \(adapter failed to load: Error: adapter exploded\)/)
    assert.ok(existsSync(join(out, 'report.html')), 'the reports are still written')
  } finally {
    DESIGN_FACTORIES.paych = saved
  }
})

test('a design that runs but fails in a sweep also makes the run exit 1', async () => {
  const saved = DESIGN_FACTORIES.paych!
  let calls = 0
  DESIGN_FACTORIES.paych = async () => {
    if (++calls > 1) throw new Error('sweep exploded')
    return saved()
  }
  try {
    const r = await l2bench('run', '--scenario', tiny, '--designs', 'paych', '--quick', '--out', join(tmp, 'sweep-failing'))
    assert.equal(r.status, 1, r.stderr)
    assert.match(r.stderr, /error: \d+ sweep points? did not run: paych at payments=10 \(adapter failed to load: Error: sweep exploded\)/)
  } finally {
    DESIGN_FACTORIES.paych = saved
  }
})

test('--out is checked before the run: a path under a file, or under /proc, exits 2 at once', async () => {
  const file = join(tmp, 'a-file')
  writeFileSync(file, 'x')
  for (const [out, re] of [
    [join(file, 'sub'), /--out: .*a-file exists and is not a directory/],
    ['/proc/l2bench-x', /--out: \/proc\/l2bench-x is on a kernel pseudo-filesystem/],
  ] as const) {
    const started = performance.now()
    const r = await l2bench('run', '--scenario', tiny, '--designs', 'l1', '--quick', '--out', out)
    assert.equal(r.status, 2, r.stderr)
    assert.match(r.stderr, re)
    assert.doesNotMatch(r.stderr, /calibrating/, 'nothing ran')
    assert.ok(performance.now() - started < 5000, 'no hang')
  }
})

test('every subcommand takes -h/--help, and npm run bench -- --help works as the README says', async () => {
  for (const cmd of ['run', 'micro', 'report', 'gate', 'list', 'docs']) {
    for (const flag of ['-h', '--help']) {
      const r = await l2bench(cmd, flag)
      assert.equal(r.status, 0, `${cmd} ${flag}: ${r.stderr}`)
      assert.match(r.stdout, new RegExp(`^usage: l2bench ${cmd}`))
    }
  }
  assert.match((await l2bench('help', 'gate')).stdout, /--tolerance-scale/)
  const root = new URL('../../../', import.meta.url).pathname
  const npm = spawnSync('npm', ['run', '-s', 'bench', '--', '--help'], { cwd: root, encoding: 'utf8' })
  assert.equal(npm.status, 0, npm.stderr)
  assert.match(npm.stdout, /usage: l2bench run/)
  assert.match(npm.stdout, /--scenario/)
})

test('misspelt commands, flags and designs get a did-you-mean', async () => {
  const cases: [string[], RegExp][] = [
    [['rn'], /unknown command "rn" \(did you mean "run"\?\)/],
    [['run', '--sede', '3'], /--sede.*\(did you mean --seed\?\)/],
    [['run', '--designs', 'l1,chanel'], /unknown design "chanel" \(did you mean "channel"\?\)/],
    [['run', '--scenario', 'defualt'], /no scenario "defualt" \(did you mean "default"\?\)/],
  ]
  for (const [args, re] of cases) {
    const r = await l2bench(...args)
    assert.equal(r.status, 2, args.join(' '))
    assert.match(r.stderr, re)
  }
})

test('list --options prints every per-design option from the schemas; docs/options.md is that reference, up to date', async () => {
  const r = await l2bench('list', '--options')
  assert.equal(r.status, 0)
  for (const key of ['designOptions.rollup.provedBatches', 'designOptions.rollup.proverWorkers', 'designOptions.channel.disputeWindow', 'designOptions.channel.store', 'designOptions.htlc.missionControl', 'amounts(kind: lognormal).sigma'])
    assert.match(r.stdout, new RegExp(key.replace(/[.()]/g, '\\$&')))
  assert.match(r.stdout, /designOptions\.channel\.store +"sqlite" \| "memory" +\[default "sqlite"\]/)
  const md = await l2bench('list', '--options', '--markdown')
  const docs = readFileSync(new URL('../../../docs/options.md', import.meta.url), 'utf8')
  assert.equal(docs, md.stdout, 'docs/options.md is stale: run `node packages/bench/bin/l2bench.js docs --options`')
})

test('a run that deadlocks (the event loop empties before it finishes) exits 1 with a message, not 0 in silence', () => {
  const cli = new URL('../src/cli.ts', import.meta.url).href
  const designs = new URL('../src/designs/index.ts', import.meta.url).href
  const script = `
    const { DESIGN_FACTORIES } = await import(${JSON.stringify(designs)})
    DESIGN_FACTORIES.l1 = () => new Promise(() => {}) // never settles, and nothing keeps the loop alive
    const { run } = await import(${JSON.stringify(cli)})
    await run(['run', '--scenario', ${JSON.stringify(tiny)}, '--designs', 'l1', '--quick', '--no-sweeps', '--out', ${JSON.stringify(join(tmp, 'deadlock'))}])
  `
  const r = spawnSync(process.execPath, ['--conditions=@l2bench/source', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' })
  assert.equal(r.status, 1, r.stderr)
  assert.match(r.stderr, /l2bench: internal error: the command stopped before it finished/)
})

test('prover-farm flags: bad or unreachable input exits 2 at once, naming the flag or the Redis, and writes nothing', async () => {
  const { freePort } = await import('@l2bench/zk-rollup/farm')
  const closed = `redis://127.0.0.1:${await freePort()}`
  const out = join(tmp, 'farm-unreachable')
  const cases: [string[], RegExp][] = [
    [['prover'], /--redis: required/],
    [['prover', '--redis', 'http://x'], /--redis: expected a redis:\/\/ or rediss:\/\/ URL/],
    [['prover', '--redis', closed, '--lock-ms', '5'], /--lock-ms: expected an integer 1000\.\.3600000/],
    [['prover', '--redis', closed, '--farm', 'a/b'], /--farm: expected 1-64 letters/],
    [['prover', '--redis', closed, '--circuit', '../etc'], /--circuit: expected a circuit id of 32 hex digits/],
    [['prover', '--redis', closed], new RegExp(`redis: cannot reach Redis at ${closed.replace(/[/.]/g, '\\$&')}/? within 5000 ms: connect ECONNREFUSED`)],
    [['run', '--scenario', tiny, '--prover-farm', 'x'], /--prover-farm: only with --prover-redis/],
    [['run', '--scenario', tiny, '--prover-redis', 'redis:'], /--prover-redis: /],
    [['run', '--scenario', tiny, '--prove-all', '--prover-speedup', '2'], /--prover-speedup: only with --prover-redis/],
    [['run', '--scenario', tiny, '--prover-redis', closed, '--prover-speedup', '2'], /--prover-speedup: only with --prove-all/],
    ...['1', 'x', '2.5', '1001', '0', '02x'].map((k): [string[], RegExp] => [['run', '--scenario', tiny, '--prove-all', '--prover-redis', closed, '--prover-speedup', k], /--prover-speedup: expected the number of workers to compare with one, 2\.\.1000/]),
    [['run', '--scenario', tiny, '--designs', 'l1', '--prover-redis', closed, '--out', out], /redis: cannot reach Redis at .* ECONNREFUSED/],
  ]
  for (const [args, re] of cases) {
    const t0 = Date.now()
    const r = await l2bench(...args)
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, re)
    assert.ok(Date.now() - t0 < 15_000, `${args.join(' ')} took ${Date.now() - t0} ms`)
  }
  assert.ok(!existsSync(join(out, 'results.json')), 'nothing written')
})
