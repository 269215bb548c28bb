/**
 * Command line for the circuit build pipeline (`npm run circuit -- <command>`):
 *
 *   compile <file.circom> [--main T --args 1,2 --public a,b] [-l dir]...
 *   ptau    --power N [--ptau FILE]          shared development ptau, or check a file
 *   setup   <file.circom> [...]              compile + Groth16 setup
 *   all     <file.circom> [...] [--input in.json]   everything, then prove and verify once
 *   phase2  <file.zkey>                      list a zkey's phase-2 contributions; fails if none is secret
 *
 * Common: --cache-dir DIR (default $L2BENCH_CACHE_DIR or packages/zk-rollup/.cache),
 * --workers N, --force, --power N, --ptau FILE, --shared, --beacon HEX, --name NAME.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { buildCircuit, prove, verify } from './build.ts'
import { type CompileOptions, compileCircuit } from './compile.ts'
import { terminateCurve } from './libs.ts'
import type { ProgressEvent, ProgressFn } from './progress.ts'
import { PipelineError } from './errors.ts'
import { assertSecretContribution, readPhase2 } from './phase2.ts'
import { DEV_SETUP_WARNING, ensurePtau } from './ptau.ts'

const USAGE = `usage: circuit <compile|ptau|setup|all|phase2> [options]

  compile <file.circom>   compile with circom2 --O2 (r1cs, wasm, sym), cached
  ptau --power N          make (or find) the shared development ptau 2^N;
                          with --ptau FILE, check and fingerprint a ceremony file
  setup <file.circom>     compile, then Groth16 setup (zkey + verification key)
  all <file.circom>       compile, setup, and prove/verify once (--input in.json)
  phase2 <file.zkey>      list the zkey's phase-2 contributions; exit 1 when none is secret
                          (a beacon alone leaves δ recomputable: anyone could forge proofs)

options:
  --main TEMPLATE         generate 'component main' (the file only defines templates)
  --args 1,2,3            template arguments for --main
  --public a,b            public inputs of the generated main
  --name NAME             artifact name
  -l, --include DIR       extra include directory (repeatable); circomlib is always included
  --ptau FILE             use this (prepared, public ceremony) ptau instead of a development one
  --shared                development setup against the shared cached dev ptau via snarkjs zkey new
                          (default: fresh dev ptau with the zkey derived directly, much faster)
  --power N               ptau power (default: what the circuit needs)
  --beacon HEX            beacon made after the secret phase-2 contribution (default random)
  --workers N             worker threads for ptau generation
  --cache-dir DIR         artifact cache
  --force                 redo the work even if cached
  --input FILE            (all) witness input JSON for the test proof
`

function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`
}

/** Progress printer: one line per step; on a terminal, countable steps update in place. */
function printer(): ProgressFn & { end(): void } {
  const t0 = performance.now()
  const tty = process.stdout.isTTY === true
  let lastLine = 0
  let inPlace = false
  const stamp = () => `${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s`
  const fn = ((e: ProgressEvent) => {
    const countable = e.done !== undefined && e.total !== undefined && e.total > 0
    if (countable) {
      const pct = ((100 * e.done!) / e.total!).toFixed(0).padStart(3)
      const line = `${stamp()} [${e.stage}] ${pct}% ${e.message}`
      const now = performance.now()
      if (tty) {
        process.stdout.write(`\r\x1b[K${line}`)
        inPlace = true
        if (e.done === e.total) {
          process.stdout.write('\n')
          inPlace = false
        }
      } else if (now - lastLine > 2000 || e.done === e.total || e.done === 0) {
        lastLine = now
        console.log(line)
      }
      return
    }
    if (inPlace) {
      process.stdout.write('\n')
      inPlace = false
    }
    // snarkjs prints hashes over several tab-indented lines; keep the first line only.
    console.log(`${stamp()} [${e.stage}] ${e.message.split('\n')[0]}`)
  }) as ProgressFn & { end(): void }
  fn.end = () => {
    if (inPlace) process.stdout.write('\n')
  }
  return fn
}

function intOpt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`)
  return n
}

export async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      main: { type: 'string' },
      args: { type: 'string' },
      public: { type: 'string' },
      name: { type: 'string' },
      include: { type: 'string', short: 'l', multiple: true },
      ptau: { type: 'string' },
      shared: { type: 'boolean' },
      power: { type: 'string' },
      beacon: { type: 'string' },
      workers: { type: 'string' },
      'cache-dir': { type: 'string' },
      force: { type: 'boolean' },
      input: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const [command, source] = positionals
  if (values.help === true || command === undefined) {
    console.log(USAGE)
    return command === undefined && values.help !== true ? 2 : 0
  }
  const progress = printer()
  const cacheDir = values['cache-dir']
  const workers = intOpt('workers', values.workers)
  const power = intOpt('power', values.power)
  const common = { ...(cacheDir !== undefined ? { cacheDir } : {}), onProgress: progress }

  const compileOpts = (): CompileOptions => {
    if (source === undefined) throw new Error(`${command} needs a .circom file`)
    const opts: CompileOptions = { source, ...common }
    if (values.include !== undefined) opts.include = values.include
    if (values.name !== undefined) opts.name = values.name
    if (values.force === true) opts.force = true
    if (values.main !== undefined) {
      opts.main = {
        template: values.main,
        args: values.args === undefined || values.args === '' ? [] : values.args.split(',').map((a) => BigInt(a.trim())),
        publicInputs: values.public === undefined || values.public === '' ? [] : values.public.split(',').map((p) => p.trim()),
      }
    }
    return opts
  }

  switch (command) {
    case 'phase2': {
      if (source === undefined) throw new Error('phase2 needs a .zkey file')
      for (const [i, c] of (await readPhase2(source)).entries()) {
        const what = c.type === 'beacon' ? `beacon ${c.beacon?.hash} (2^${c.beacon?.iterationsExp} iterations): its key is public` : 'contribution: secret key'
        console.log(`#${i + 1} ${c.name ?? '(unnamed)'}: ${what}`)
      }
      try {
        await assertSecretContribution(source)
        console.log('ok: at least one secret contribution')
        return 0
      } catch (err) {
        if (!(err instanceof PipelineError)) throw err
        console.log(`REFUSED: ${err.message}`)
        return 1
      }
    }
    case 'compile': {
      const c = await compileCircuit(compileOpts())
      progress.end()
      console.log(`${c.name}: ${c.constraints} constraints, ${c.wires} wires, public ${c.publicInputs} in + ${c.publicOutputs} out, needs ptau 2^${c.requiredPower}${c.cached ? ' (cached)' : ''}`)
      console.log(`  r1cs ${c.r1cs}\n  wasm ${c.wasm}\n  sym  ${c.sym}`)
      return 0
    }
    case 'ptau': {
      if (power === undefined) throw new Error('ptau needs --power N')
      const p = await ensurePtau({
        power,
        ...(values.ptau !== undefined ? { ptauFile: values.ptau } : {}),
        ...(workers !== undefined ? { workers } : {}),
        ...(values.force === true ? { force: true } : {}),
        ...common,
      })
      progress.end()
      console.log(`ptau 2^${p.power} (${p.kind}${p.cached ? ', cached' : `, ${fmtMs(p.durationMs)}`}): ${p.path}\n  sha256 ${p.hash}`)
      if (p.developmentOnly) console.log(`\n${DEV_SETUP_WARNING}`)
      return 0
    }
    case 'setup':
    case 'all': {
      const b = await buildCircuit({
        ...compileOpts(),
        ...(values.ptau !== undefined ? { ptauFile: values.ptau } : {}),
        ...(values.shared === true ? { devSetup: 'shared' as const } : {}),
        ...(power !== undefined ? { power } : {}),
        ...(workers !== undefined ? { workers } : {}),
        ...(values.beacon !== undefined ? { beacon: values.beacon } : {}),
      })
      progress.end()
      const cached = (c: boolean, ms: number) => (c ? 'cached' : fmtMs(ms))
      console.log(`\n${b.compiled.name}: ${b.compiled.constraints} constraints, ptau 2^${b.ptau.power} (${b.ptau.kind}), setup ${b.setup.method}`)
      console.log(`  compile ${cached(b.compiled.cached, b.compiled.durationMs)}; setup ${cached(b.setup.cached, b.setup.durationMs)}`)
      if (b.setup.timings !== undefined) {
        console.log(`  steps: ${Object.entries(b.setup.timings).map(([k, v]) => `${k} ${fmtMs(v)}`).join(', ')}`)
      }
      console.log(`  zkey ${b.setup.zkey}\n  vkey ${b.setup.vkeyPath}\n  ptau ${b.ptau.path}`)
      if (command === 'all') {
        if (values.input === undefined) {
          console.log('  (no --input: skipping the test proof)')
        } else {
          const input = JSON.parse(readFileSync(values.input, 'utf8')) as Record<string, unknown>
          const t = performance.now()
          const { proof, publicSignals } = await prove(b, input)
          const ok = await verify(b.setup.vkey, publicSignals, proof)
          console.log(`  test proof: ${ok ? 'verifies' : 'DOES NOT VERIFY'} (${fmtMs(performance.now() - t)}), public signals [${publicSignals.join(', ')}]`)
          if (!ok) return 1
        }
      }
      if (b.developmentOnly) console.log(`\n${DEV_SETUP_WARNING}`)
      return 0
    }
    default:
      console.error(`unknown command ${command}\n\n${USAGE}`)
      return 2
  }
}

// Run when executed directly (not when imported, e.g. by a test).
if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  main(process.argv.slice(2))
    .then(
      (code) => {
        process.exitCode = code
      },
      (err: unknown) => {
        console.error(`error: ${err instanceof Error ? err.message : String(err)}`)
        process.exitCode = 1
      },
    )
    .finally(() => terminateCurve())
}
