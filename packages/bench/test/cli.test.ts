import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { main } from '../src/cli.ts'
import { readResults } from '../src/index.ts'

const bin = new URL('../bin/l2bench.js', import.meta.url).pathname
const tiny = new URL('./fixtures/tiny.yaml', import.meta.url).pathname
const tmp = mkdtempSync(join(tmpdir(), 'l2bench-cli-'))
after(() => rmSync(tmp, { recursive: true, force: true }))

/** The real shim, in a child process (used once, for the end-to-end run). */
const l2benchProcess = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' })

/** The same CLI in-process, capturing its output (fast). */
async function l2bench(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const out = process.stdout.write
  const err = process.stderr.write
  process.stdout.write = ((c: string | Uint8Array) => {
    stdout += String(c)
    return true
  }) as typeof process.stdout.write
  process.stderr.write = ((c: string | Uint8Array) => {
    stderr += String(c)
    return true
  }) as typeof process.stderr.write
  try {
    const status = await main(args)
    return { status, stdout, stderr }
  } finally {
    process.stdout.write = out
    process.stderr.write = err
  }
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
