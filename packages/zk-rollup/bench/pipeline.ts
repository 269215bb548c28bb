/**
 * Benchmark of the circuit build pipeline: wall time and peak memory of
 * compile, development ptau generation and circuit setup at 2^12, 2^14 and
 * 2^16 (add 18 with --max 18), beside snarkjs's own `powersoftau prepare
 * phase2` at 2^12 measured in the same run. `--quick` runs small powers only.
 *
 *   npm run bench -- [--quick] [--powers 12,14,16] [--max 18] [--snarkjs-setup 12|0] [--prepare-power 12] [--json out.json]
 *
 * Each measurement runs in a fresh child process (peak RSS = that process's
 * maxRSS, worker threads included) with an empty cache directory, so nothing
 * is cached unless the row says so. The machine is shared: the load average is
 * printed with the results.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import {
  type CompiledCircuit,
  compileCircuit,
  ensurePtau,
  generateDevPtau,
  loadSnarkjs,
  prove,
  setupCircuit,
  terminateCurve,
  verify,
} from '../src/pipeline/index.ts'

const SELF = fileURLToPath(import.meta.url)
const BENCH_CIRCUIT = fileURLToPath(new URL('../test/fixtures/pipeline_bench.circom', import.meta.url))
/** Constraints of one Poseidon(2) in pipeline_bench.circom after --O2. */
const POSEIDON2 = 240

type Job =
  | { kind: 'compile'; power: number; cacheDir: string }
  | { kind: 'ptau'; power: number; cacheDir: string }
  | { kind: 'setup'; power: number; cacheDir: string; method: 'derived' | 'snarkjs' }
  | { kind: 'prove'; power: number; cacheDir: string }
  | { kind: 'prepare'; power: number; cacheDir: string }

interface Result {
  ms: number
  maxRssMB: number
  /** CPU time of the whole child process (all threads), a load-independent measure of the work. */
  cpuMs: number
  detail: Record<string, number | string | boolean>
}

/** Template arguments that fill the 2^power domain: constraints + 2 public signals < 2^power. */
function benchArgs(power: number): [number, number] {
  const target = 2 ** power - 3
  const nHash = Math.floor(target / POSEIDON2)
  return [nHash, target - nHash * POSEIDON2]
}

function compileOpts(power: number, cacheDir: string) {
  return { source: BENCH_CIRCUIT, main: { template: 'PipelineBench', args: benchArgs(power), publicInputs: ['key'] }, name: `bench${power}`, cacheDir }
}

/** Runs one job in this (child) process. */
async function runJob(job: Job): Promise<Result['detail'] & { ms: number }> {
  const t0 = performance.now()
  switch (job.kind) {
    case 'compile': {
      const c = await compileCircuit(compileOpts(job.power, job.cacheDir))
      const ms = performance.now() - t0
      const again = await compileCircuit(compileOpts(job.power, job.cacheDir))
      return { ms, constraints: c.constraints, requiredPower: c.requiredPower, cachedMs: again.durationMs, cachedHit: again.cached }
    }
    case 'ptau': {
      const p = await ensurePtau({ power: job.power, cacheDir: job.cacheDir, force: true, exact: true })
      return { ms: performance.now() - t0, power: p.power }
    }
    case 'setup': {
      const compiled: CompiledCircuit = await compileCircuit(compileOpts(job.power, job.cacheDir))
      const t1 = performance.now()
      let s: Awaited<ReturnType<typeof setupCircuit>>
      if (job.method === 'derived') {
        s = await setupCircuit({ compiled, cacheDir: job.cacheDir })
      } else {
        const ptau = await ensurePtau({ power: job.power, cacheDir: job.cacheDir })
        const t2 = performance.now()
        s = await setupCircuit({ compiled, ptau, cacheDir: job.cacheDir })
        s.timings = { ...s.timings, sharedPtau: t2 - t1 }
      }
      const ms = performance.now() - t1
      await terminateCurve()
      return { ms, method: s.method, ...Object.fromEntries(Object.entries(s.timings ?? {}).map(([k, v]) => [k, Math.round(v)])) }
    }
    case 'prove': {
      const compiled = await compileCircuit(compileOpts(job.power, job.cacheDir))
      const setup = await setupCircuit({ compiled, cacheDir: job.cacheDir })
      const t1 = performance.now()
      const { proof, publicSignals } = await prove({ compiled, setup }, { seed: 7, key: 11 })
      const ms = performance.now() - t1
      const ok = await verify(setup.vkey, publicSignals, proof)
      await terminateCurve()
      return { ms, verified: ok }
    }
    case 'prepare': {
      const unprepared = join(job.cacheDir, `unprepared-${job.power}.ptau`)
      const gen = await generateDevPtau({ power: job.power, out: join(job.cacheDir, `fast-${job.power}.ptau`), unpreparedOut: unprepared })
      const snarkjs = await loadSnarkjs()
      const t1 = performance.now()
      await snarkjs.powersOfTau.preparePhase2(unprepared, join(job.cacheDir, `prepared-${job.power}.ptau`))
      const ms = performance.now() - t1
      await terminateCurve()
      return { ms, fastGeneratorMs: Math.round(gen.durationMs) }
    }
  }
}

/** Runs a job in a child process and collects its result line. */
function child(job: Job): Result {
  const r = spawnSync(process.execPath, ['--conditions=@l2bench/source', '--import', 'tsx', SELF, '--child', JSON.stringify(job)], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  })
  const line = r.stdout.trim().split('\n').pop() ?? ''
  if (r.status !== 0 || !line.startsWith('{')) {
    throw new Error(`bench child ${JSON.stringify(job)} failed (${r.status}):\n${r.stderr.slice(-2000)}\n${r.stdout.slice(-2000)}`)
  }
  const { ms, maxRssMB, cpuMs, ...detail } = JSON.parse(line) as { ms: number; maxRssMB: number; cpuMs: number } & Result['detail']
  return { ms, maxRssMB, cpuMs, detail }
}

const s = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 1 : 0)

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      quick: { type: 'boolean' },
      powers: { type: 'string' },
      max: { type: 'string' },
      'snarkjs-setup': { type: 'string' },
      'prepare-power': { type: 'string' },
      json: { type: 'string' },
    },
  })
  if (values.child !== undefined) {
    const out = await runJob(JSON.parse(values.child) as Job)
    const ru = process.resourceUsage()
    console.log(JSON.stringify({ ...out, maxRssMB: Math.round(ru.maxRSS / 1024), cpuMs: Math.round((ru.userCPUTime + ru.systemCPUTime) / 1000) }))
    return
  }

  const quick = values.quick === true
  let powers = values.powers !== undefined ? values.powers.split(',').map(Number) : quick ? [8, 10] : [12, 14, 16]
  if (values.max !== undefined) powers = [...new Set([...powers, Number(values.max)])].sort((a, b) => a - b)
  const preparePower = Number(values['prepare-power'] ?? (quick ? 8 : 12))
  const snarkjsSetupPower = Number(values['snarkjs-setup'] ?? powers[0])
  const load0 = loadavg()
  console.log(`pipeline bench: powers ${powers.join(', ')}; snarkjs prepare phase2 at 2^${preparePower}; snarkjs zkey-new setup at 2^${snarkjsSetupPower}`)
  console.log(`load average at start: ${load0.map((x) => x.toFixed(1)).join(' ')} (2 cores; other work on the machine inflates times)\n`)

  const rows: Record<string, unknown>[] = []
  for (const power of powers) {
    const cacheDir = mkdtempSync(join(tmpdir(), `l2bench-bench-${power}-`))
    try {
      let compile: Result | undefined
      try {
        compile = child({ kind: 'compile', power, cacheDir })
        console.log(`2^${power}: compile ${s(compile.ms)} s (${compile.detail.constraints} constraints, ${compile.maxRssMB} MB; cached re-run ${Number(compile.detail.cachedMs).toFixed(0)} ms)`)
      } catch (err) {
        // A circuit this size may not fit circom2's 32-bit wasm memory: measure the ptau alone then.
        console.log(`2^${power}: compile FAILED: ${String(err).split('\n').slice(0, 3).join(' ')}`)
      }
      const ptau = child({ kind: 'ptau', power, cacheDir })
      console.log(`2^${power}: ptau generation ${s(ptau.ms)} s (${ptau.maxRssMB} MB)`)
      if (compile === undefined) {
        rows.push({ power, ptau })
        continue
      }
      const setup = child({ kind: 'setup', power, cacheDir, method: 'derived' })
      console.log(`2^${power}: setup (fresh dev ptau + derived zkey with the secret contribution and the beacon folded in + vkey) ${s(setup.ms)} s (${setup.maxRssMB} MB) ${JSON.stringify(setup.detail)}`)
      const proof = child({ kind: 'prove', power, cacheDir })
      console.log(`2^${power}: one proof ${s(proof.ms)} s (${proof.maxRssMB} MB), verified ${proof.detail.verified}`)
      let snark: Result | undefined
      if (power === snarkjsSetupPower) {
        snark = child({ kind: 'setup', power, cacheDir, method: 'snarkjs' })
        console.log(`2^${power}: setup via snarkjs zkey new against a shared dev ptau ${s(snark.ms)} s (${snark.maxRssMB} MB) ${JSON.stringify(snark.detail)}`)
      }
      rows.push({ power, compile, ptau, setup, proof, snark, endToEndMs: compile.ms + setup.ms })
    } finally {
      rmSync(cacheDir, { recursive: true, force: true })
    }
  }
  const prepDir = mkdtempSync(join(tmpdir(), 'l2bench-bench-prepare-'))
  let prepare: Result
  try {
    prepare = child({ kind: 'prepare', power: preparePower, cacheDir: prepDir })
  } finally {
    rmSync(prepDir, { recursive: true, force: true })
  }
  console.log(`snarkjs powersoftau prepare phase2 at 2^${preparePower}: ${s(prepare.ms)} s (${prepare.maxRssMB} MB); our generator for the same power, prepared file included: ${s(Number(prepare.detail.fastGeneratorMs))} s`)
  const load1 = loadavg()

  console.log('\n| power | constraints | compile s (MB) | shared dev ptau s (MB) [CPU s] | setup s (MB) [CPU s] | of which ptau / zkey+phase 2 s | compile+setup s [CPU s] | one proof s |')
  console.log('|---|---|---|---|---|---|---|---|')
  for (const r of rows) {
    const { compile, ptau, setup, proof } = r as Partial<Record<'compile' | 'ptau' | 'setup' | 'proof', Result>>
    if (compile === undefined || setup === undefined || proof === undefined) {
      console.log(`| 2^${r.power} | – | failed | ${ptau === undefined ? '–' : `${s(ptau.ms)} (${ptau.maxRssMB}) [${s(ptau.cpuMs)}]`} | – | – | – | – |`)
      continue
    }
    const d = setup.detail
    console.log(
      `| 2^${r.power} | ${compile.detail.constraints} | ${s(compile.ms)} (${compile.maxRssMB}) | ${ptau === undefined ? '–' : `${s(ptau.ms)} (${ptau.maxRssMB}) [${s(ptau.cpuMs)}]`} | ${s(setup.ms)} (${setup.maxRssMB}) [${s(setup.cpuMs)}] | ${s(Number(d.ptau))} / ${s(Number(d.zkeyDerive))} | ${s(Number(r.endToEndMs))} [${s(compile.cpuMs + setup.cpuMs)}] | ${s(proof.ms)} |`,
    )
  }
  const snarkRow = rows.find((r) => r.snark !== undefined)
  if (snarkRow !== undefined) {
    const sn = snarkRow.snark as Result
    console.log(`\nsnarkjs path at 2^${snarkRow.power} (shared dev ptau + zkey new + contribute + beacon): ${s(sn.ms)} s (${sn.maxRssMB} MB), zkey new ${s(Number(sn.detail.zkeyNew))} s`)
  }
  console.log(`snarkjs prepare phase2 at 2^${preparePower}: ${s(prepare.ms)} s (${prepare.maxRssMB} MB) — the step the fast generator replaces`)
  console.log('CPU s = user+system time of the child process over all its threads; on an otherwise idle 2-core machine the wall time of the parallel stages would be about CPU/2.')
  console.log(`load average at end: ${load1.map((x) => x.toFixed(1)).join(' ')}`)
  if (values.json !== undefined) {
    writeFileSync(values.json, JSON.stringify({ date: new Date().toISOString(), load: [load0, load1], rows, prepare: { power: preparePower, ...prepare } }, null, 2))
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
