/**
 * The `l2bench` command line.
 *
 *   l2bench run [--scenario <name|file>] [--designs a,b] [--quick] [--seed n] [--out dir] [--no-sweeps]
 *   l2bench micro [--filter text] [--out file]
 *   l2bench report <results.json> [--out dir]
 *   l2bench gate --baseline <baseline.json> <results.json> [--update] [--tolerance-scale x]
 *   l2bench list
 *
 * Exit codes: 0 ok, 1 a check failed (funds not conserved, gate regression,
 * suite crashed), 2 bad usage or input.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { type ParseArgsConfig, parseArgs } from 'node:util'
import { L2Error } from '@l2bench/core'
import { DESIGN_FACTORIES, MISSING_REASONS } from './designs/index.ts'
import { UsageError } from './errors.ts'
import { baselineFrom, compareGate, readBaseline } from './gate.ts'
import { type MicroResult, findSuites, runSuite } from './micro.ts'
import { OUTPUT_FILES, terminalSummary, terminalTable, writeRunDir } from './output.ts'
import { fmtMs, fmtNum } from './report/format.ts'
import { readResults } from './results.ts'
import { runScenario } from './run.ts'
import { DESIGN_NAMES, type DesignName, listScenarioNames, loadScenario } from './scenario.ts'

const repoRoot = resolve(new URL('../../../', import.meta.url).pathname)
/** npm runs package scripts in the package directory; resolve user paths against where the user typed. */
const userCwd = process.env.INIT_CWD ?? process.cwd()
const userPath = (p: string) => resolve(userCwd, p)

const USAGE = `usage: l2bench <command> [options]

commands:
  run      run a scenario through the designs and write a report directory
           --scenario <name|file.yaml>  (default: default)
           --designs <a,b,...>          subset of: ${DESIGN_NAMES.join(', ')}
           --quick                      apply the scenario's quick: overrides (CI-sized)
           --seed <n>                   override the scenario seed
           --out <dir>                  (default: out/<scenario>-<timestamp>/)
           --no-sweeps                  skip the growth sweeps
  micro    run the tinybench suites of every package (packages/*/bench/*.ts)
           --filter <text>  only suites whose <package>/<file> contains text
           --out <file>     write the collected results as JSON
  report   re-render report.md / report.html / benchmark JSON from a results.json
           l2bench report <results.json> [--out dir]
  gate     fail when a ratio metric regressed against a committed baseline
           l2bench gate --baseline <baseline.json> <results.json> [--tolerance-scale x]
           l2bench gate --update --baseline <baseline.json> <results.json>  (write the baseline)
  list     list scenarios and design adapters
`

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true, allowNegative: false })
  } catch (err) {
    const e = err as Error & { code?: string }
    const m = /'(-{1,2}[^']+)'/.exec(e.message)
    throw new UsageError(m?.[1] ?? 'args', `${e.message.split('. ')[0]}\n\n${USAGE}`)
  }
}

function createProgress(): { line: (s: string) => void; done: () => void } {
  const tty = process.stderr.isTTY === true
  let inPlace = false
  return {
    line(s: string) {
      const transient = /payments \d+\/\d+/.test(s)
      if (tty && transient) {
        process.stderr.write(`\r\x1b[2K${s}`)
        inPlace = true
        return
      }
      if (inPlace) process.stderr.write('\n')
      inPlace = false
      process.stderr.write(`${s}\n`)
    },
    done() {
      if (inPlace) process.stderr.write('\n')
      inPlace = false
    },
  }
}

async function cmdRun(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    scenario: { type: 'string', short: 's' },
    designs: { type: 'string', short: 'd' },
    quick: { type: 'boolean', short: 'q' },
    seed: { type: 'string' },
    out: { type: 'string', short: 'o' },
    'no-sweeps': { type: 'boolean' },
  })
  if (positionals.length > 0) throw new UsageError(positionals[0]!, `unexpected argument (did you mean --scenario ${positionals[0]}?)`)
  const scenarioArg = (values.scenario as string | undefined) ?? 'default'
  const quick = values.quick === true
  const scenarioFile = scenarioArg.endsWith('.yaml') || scenarioArg.endsWith('.yml') ? userPath(scenarioArg) : scenarioArg
  const scenario = loadScenario(scenarioFile, { quick })
  if (values.seed !== undefined) {
    const seed = Number(values.seed)
    if (!Number.isSafeInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) throw new UsageError('--seed', `expected an integer 0..4294967295, got ${JSON.stringify(values.seed)}`)
    scenario.seed = seed
  }
  let designs: DesignName[] | undefined
  if (values.designs !== undefined) {
    designs = []
    for (const d of (values.designs as string).split(',').map((x) => x.trim()).filter((x) => x !== '')) {
      if (!(DESIGN_NAMES as readonly string[]).includes(d)) throw new UsageError('--designs', `unknown design "${d}" (known: ${DESIGN_NAMES.join(', ')})`)
      designs.push(d as DesignName)
    }
    if (designs.length === 0) throw new UsageError('--designs', 'expected at least one design')
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '')
  const outDir = values.out !== undefined ? userPath(values.out as string) : join(repoRoot, 'out', `${scenario.name}${quick ? '-quick' : ''}-${stamp}`)

  const progress = createProgress()
  progress.line(`l2bench run: scenario ${scenario.name}${quick ? ' (quick)' : ''}, seed ${scenario.seed}, designs ${(designs ?? scenario.designs).join(', ')}`)
  const results = await runScenario(scenario, {
    ...(designs === undefined ? {} : { designs }),
    quick,
    sweeps: values['no-sweeps'] !== true,
    progress: progress.line,
  })
  progress.done()
  const files = writeRunDir(outDir, results)
  process.stdout.write(`\n${terminalSummary(results)}\n\n`)
  process.stdout.write(`wrote ${files.map((f) => f.replace(`${userCwd}/`, '')).join(', ')}\n`)
  process.stdout.write(`run took ${fmtMs(results.durationMs)}\n`)
  const broken = results.designs.filter((d) => d.ran && !d.conservation.ok)
  if (broken.length > 0) {
    process.stderr.write(`error: funds not conserved by ${broken.map((d) => d.name).join(', ')}\n`)
    return 1
  }
  return 0
}

async function cmdMicro(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { filter: { type: 'string' }, out: { type: 'string', short: 'o' } })
  if (positionals.length > 0) throw new UsageError(positionals[0]!, 'unexpected argument')
  const suites = findSuites(values.filter as string | undefined)
  if (suites.length === 0) {
    process.stderr.write('no micro-benchmark suites found (packages/*/bench/*.ts)\n')
    return 0
  }
  const results: MicroResult[] = []
  for (const s of suites) {
    process.stderr.write(`running ${s.pkg}/${s.file.split('/').pop()}\n`)
    const r = await runSuite(s.pkg, s.file, (l) => process.stderr.write(`  ${l}\n`))
    results.push(r)
  }
  const rows = results.flatMap((r) =>
    r.tasks.length === 0
      ? [[r.file, r.ok ? '(no tinybench tasks recorded)' : `FAILED (exit ${r.exitCode})`, '', '', '', '', '']]
      : r.tasks.map((t) => [
          r.file,
          `${t.bench ? `${t.bench}: ` : ''}${t.task}`,
          t.opsPerSecond === undefined ? t.state : fmtNum(t.opsPerSecond),
          t.p50Ms === undefined ? '' : fmtMs(t.p50Ms),
          t.p95Ms === undefined ? '' : fmtMs(t.p95Ms),
          t.p99Ms === undefined ? '' : fmtMs(t.p99Ms),
          t.rme === undefined ? '' : `±${t.rme.toFixed(1)} %`,
        ]),
  )
  process.stdout.write(`${terminalTable(['suite', 'task', 'ops/s', 'p50', 'p95', 'p99', 'rme'], rows)}\n`)
  if (values.out !== undefined) {
    const file = userPath(values.out as string)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, `${JSON.stringify({ schema: 1, kind: 'l2bench-micro', at: new Date().toISOString(), suites: results }, null, 1)}\n`)
    process.stdout.write(`wrote ${file}\n`)
  }
  return results.every((r) => r.ok) ? 0 : 1
}

async function cmdReport(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { out: { type: 'string', short: 'o' } })
  if (positionals.length !== 1) throw new UsageError('results', 'expected exactly one results.json path')
  const file = userPath(positionals[0]!)
  const results = readResults(file)
  const outDir = values.out !== undefined ? userPath(values.out as string) : dirname(file)
  const files = writeRunDir(outDir, results, { reportsOnly: true })
  process.stdout.write(`${terminalSummary(results)}\n\nwrote ${files.join(', ')}\n`)
  return 0
}

async function cmdGate(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    baseline: { type: 'string', short: 'b' },
    update: { type: 'boolean' },
    'tolerance-scale': { type: 'string' },
  })
  if (values.baseline === undefined) throw new UsageError('--baseline', 'required: the committed baseline file (e.g. benchmarks/baseline.json)')
  if (positionals.length !== 1) throw new UsageError('results', 'expected exactly one results.json path')
  const results = readResults(userPath(positionals[0]!))
  const baselineFile = userPath(values.baseline as string)
  if (values.update === true) {
    writeFileSync(baselineFile, `${JSON.stringify(baselineFrom(results), null, 1)}\n`)
    process.stdout.write(`wrote baseline ${baselineFile} (${results.gate.length} metrics)\n`)
    return 0
  }
  const scaleRaw = values['tolerance-scale'] as string | undefined
  const scale = scaleRaw === undefined ? 1 : Number(scaleRaw)
  if (!(scale > 0)) throw new UsageError('--tolerance-scale', `expected a number > 0, got ${JSON.stringify(scaleRaw)}`)
  const outcome = compareGate(readBaseline(baselineFile), results, scale)
  const rows = outcome.checks.map((c) => [
    c.name,
    c.baseline === undefined ? '–' : String(c.baseline),
    c.current === undefined ? '–' : String(c.current),
    c.baseline === undefined || c.current === undefined ? '' : `${c.change >= 0 ? '+' : ''}${(c.change * 100).toFixed(1)} %`,
    `±${(c.tolerance * 100).toFixed(0)} %`,
    c.status,
  ])
  process.stdout.write(`${terminalTable(['metric', 'baseline', 'current', 'change (+ = better)', 'tolerance', 'status'], rows)}\n`)
  for (const p of outcome.problems) process.stdout.write(`problem: ${p}\n`)
  process.stdout.write(outcome.ok ? 'gate: ok\n' : 'gate: FAILED\n')
  return outcome.ok ? 0 : 1
}

function cmdList(): number {
  process.stdout.write('scenarios (benchmarks/*.yaml):\n')
  for (const name of listScenarioNames()) {
    try {
      const s = loadScenario(name)
      process.stdout.write(`  ${name.padEnd(16)} ${s.users} users, ${s.payments} payments — ${s.description.split('\n')[0]}\n`)
    } catch (err) {
      process.stdout.write(`  ${name.padEnd(16)} INVALID: ${(err as Error).message}\n`)
    }
  }
  process.stdout.write('\ndesigns:\n')
  for (const d of DESIGN_NAMES) process.stdout.write(`  ${d.padEnd(8)} ${DESIGN_FACTORIES[d] !== undefined ? 'ready' : (MISSING_REASONS[d] ?? 'missing')}\n`)
  process.stdout.write(`\noutputs per run: ${Object.values(OUTPUT_FILES).join(', ')}\n`)
  return 0
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'run':
        return await cmdRun(rest)
      case 'micro':
        return await cmdMicro(rest)
      case 'report':
        return await cmdReport(rest)
      case 'gate':
        return await cmdGate(rest)
      case 'list':
        return cmdList()
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE)
        return command === undefined ? 2 : 0
      default:
        throw new UsageError('command', `unknown command "${command}"\n\n${USAGE}`)
    }
  } catch (err) {
    if (err instanceof L2Error) {
      process.stderr.write(`l2bench: ${err.message}\n`)
      return 2
    }
    throw err
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/cli.ts')) {
  main(process.argv.slice(2)).then(
    (code) => {
      // Exit explicitly: a design's worker or timer left running must not keep a finished run alive.
      process.exit(code)
    },
    (err) => {
      process.stderr.write(`l2bench: internal error: ${(err as Error).stack ?? String(err)}\n`)
      process.exitCode = 1
    },
  )
}
