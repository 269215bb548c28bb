/**
 * The `l2bench` command line.
 *
 *   l2bench run [--scenario <name|file>] [--designs a,b] [--quick] [--l1 mock|evm] [--seed n] [--out dir] [--no-sweeps]
 *               [--prove-all] [--prover-redis url [--prover-farm name] [--circuit-cache dir] [--prover-speedup k]]
 *               [--seeds list] [--shard i/n]
 *   l2bench merge <partial.json|dir>... [--out dir]
 *   l2bench prover --redis url [--farm name] [--circuit-cache dir] [--circuit id] [--build]
 *   l2bench micro [--filter text] [--out file]
 *   l2bench report <results.json> [--out dir]
 *   l2bench gate --baseline <baseline.json> <results.json> [--update] [--tolerance-scale x]
 *   l2bench list [--options [--markdown]]
 *   l2bench docs [--from <run>]... [--options] [--dir docs]
 *
 * Every command takes -h/--help. Exit codes: 0 ok, 1 a check failed (a design
 * did not run, funds not conserved, gate regression, suite crashed), 2 bad
 * usage or input (nothing is run and nothing written).
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { L2Error } from '@l2bench/core'
import { DESIGN_FACTORIES, MISSING_REASONS } from './designs/index.ts'
import { designOptions } from './designs/options.ts'
import { UsageError } from './errors.ts'
import { type FarmOptions, checkFarm, farmProverFactory } from './farm.ts'
import { baselineFrom, compareGate, readBaseline } from './gate.ts'
import { type MicroResult, findSuites, runSuite } from './micro.ts'
import { OUTPUT_FILES, prepareOutDir, terminalSummary, terminalTable, writeRunDir } from './output.ts'
import { inWorkspace, repoRoot, scenariosDir as listScenarioDir } from './paths.ts'
import { streamProgress } from './progress.ts'
import { optionsMarkdown, optionsText } from './reference.ts'
import { writeResultsDocs } from './report/docs.ts'
import { fmtMs, fmtNum } from './report/format.ts'
import { type ResultsJson, readResults } from './results.ts'
import { type RunOptions, mergePartials, runScenario, runShard } from './run.ts'
import { findPartials, parseSeeds, parseShard, partialFileName, readPartial } from './shard.ts'
import { DESIGN_NAMES, type DesignName, listScenarioNames, loadScenario } from './scenario.ts'
import { didYouMean } from './suggest.ts'
import { COMMANDS, USAGE, commandHelp } from './cli-commands.ts'

/** npm runs package scripts in the package directory; resolve user paths against where the user typed. */
const userCwd = process.env.INIT_CWD ?? process.cwd()
const userPath = (p: string) => resolve(userCwd, p)

/** Where the CLI writes: the process's streams, or a test's buffers (never by patching process.stdout). */
export interface CliIo {
  out(text: string): void
  err(text: string): void
  /** stderr is a terminal: progress bars instead of plain lines. */
  isTTY?: boolean
  columns?: number
}

const processIo: CliIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  isTTY: process.stderr.isTTY === true,
  columns: process.stderr.columns,
}
let io: CliIo = processIo

/** Parses a command's flags; returns undefined after printing the help for -h/--help. */
function parse(name: string, args: string[]) {
  const c = COMMANDS[name]!
  if (args.includes('-h') || args.includes('--help')) {
    io.out(commandHelp(name))
    return undefined
  }
  try {
    return parseArgs({ args, options: c.options, allowPositionals: true, strict: true, allowNegative: false })
  } catch (err) {
    const e = err as Error & { code?: string }
    const m = /'(-{1,2}[^']+)'/.exec(e.message)
    const flag = m?.[1] ?? 'args'
    const known = Object.keys(c.options).map((k) => `--${k}`)
    const hint = flag.startsWith('--') ? didYouMean(flag.split('=')[0]!, known) : undefined
    throw new UsageError(flag, `${e.message.split('. ')[0]}${hint === undefined ? '' : ` (did you mean ${hint}?)`}\n\n${commandHelp(name)}`)
  }
}

async function cmdRun(args: string[]): Promise<number> {
  const parsed = parse('run', args)
  if (parsed === undefined) return 0
  const { values, positionals } = parsed
  if (positionals.length > 0) throw new UsageError(positionals[0]!, `unexpected argument (did you mean --scenario ${positionals[0]}?)`)
  const scenarioArg = (values.scenario as string | undefined) ?? 'default'
  const quick = values.quick === true
  const scenarioFile = scenarioArg.endsWith('.yaml') || scenarioArg.endsWith('.yml') ? userPath(scenarioArg) : scenarioArg
  const scenario = loadScenario(scenarioFile, { quick })
  if (values.seed !== undefined && values.seeds !== undefined) throw new UsageError('--seeds', 'give --seed or --seeds, not both')
  const seeds = values.seeds !== undefined ? parseSeeds(values.seeds as string) : undefined
  const shard = values.shard !== undefined ? parseShard(values.shard as string) : undefined
  if (values.seed !== undefined) {
    const seed = Number(values.seed)
    if (!Number.isSafeInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) throw new UsageError('--seed', `expected an integer 0..4294967295, got ${JSON.stringify(values.seed)}`)
    scenario.seed = seed
  }
  let designs: DesignName[] | undefined
  if (values.designs !== undefined) {
    designs = []
    for (const d of (values.designs as string).split(',').map((x) => x.trim()).filter((x) => x !== '')) {
      if (!(DESIGN_NAMES as readonly string[]).includes(d)) {
        const hint = didYouMean(d, DESIGN_NAMES)
        throw new UsageError('--designs', `unknown design "${d}"${hint === undefined ? '' : ` (did you mean "${hint}"?)`} (known: ${DESIGN_NAMES.join(', ')})`)
      }
      designs.push(d as DesignName)
    }
    if (designs.length === 0) throw new UsageError('--designs', 'expected at least one design')
  }
  const l1 = (values.l1 as string | undefined) ?? 'mock'
  if (l1 !== 'mock' && l1 !== 'evm') throw new UsageError('--l1', `expected mock or evm, got ${JSON.stringify(l1)}`)
  if (values['prove-all'] === true) scenario.designOptions = { ...scenario.designOptions, rollup: { ...designOptions(scenario, 'rollup'), proveAll: true } }
  const farm = farmOptions(values)
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '')
  // Shards of one run share a directory by default, so a shell loop's partial files end up together.
  const defaultOut = join(inWorkspace ? repoRoot : userCwd, 'out', `${scenario.name}${quick ? '-quick' : ''}${l1 === 'evm' ? '-evm' : ''}-${shard !== undefined ? `shards-of-${shard.count}` : stamp}`)
  const outDir = values.out !== undefined ? userPath(values.out as string) : defaultOut
  // Before any work: a run that cannot write its reports (or reach its prover farm) is not worth starting.
  prepareOutDir(outDir)
  let factories: RunOptions['factories']
  if (farm !== undefined) {
    await checkFarm(farm)
    const prover = farmProverFactory(farm)
    factories = { ...DESIGN_FACTORIES, rollup: async () => new (await import('./designs/rollup.ts')).RollupDesign({ prover }) }
  }

  const progress = streamProgress({ write: io.err, isTTY: io.isTTY, columns: io.columns })
  progress.line(
    `l2bench run: scenario ${scenario.name}${quick ? ' (quick)' : ''}${l1 === 'evm' ? ' on anvil (--l1 evm)' : ''}, ${seeds === undefined ? `seed ${scenario.seed}` : `seeds ${seeds.join(', ')}`}, designs ${(designs ?? scenario.designs).join(', ')}` +
      (shard === undefined ? '' : `, shard ${shard.index} of ${shard.count}`),
  )
  const runOptions: RunOptions = {
    ...(designs === undefined ? {} : { designs }),
    ...(seeds === undefined ? {} : { seeds }),
    quick,
    l1,
    sweeps: values['no-sweeps'] !== true,
    progress,
    ...(factories === undefined ? {} : { factories }),
  }
  if (shard !== undefined) {
    const partial = await runShard(scenario, shard, runOptions)
    const file = join(outDir, partialFileName(shard))
    writeFileSync(file, `${JSON.stringify(partial, null, 1)}\n`)
    io.out(`\nshard ${shard.index} of ${shard.count}: ${partial.units.length} of ${partial.plan.length} units in ${fmtMs(partial.run.durationMs)}\nwrote ${file.replace(`${userCwd}/`, '')}\n`)
    io.out(`merge the ${shard.count} partial files with: l2bench merge ${dirname(file).replace(`${userCwd}/`, '')}\n`)
    const failed = partial.units.filter((u) => (u.design !== undefined && !u.design.ran) || (u.sweep !== undefined && !u.sweep.ran))
    if (failed.length > 0) io.err(`error: ${failed.length} unit${failed.length === 1 ? '' : 's'} did not run: ${failed.map((u) => u.id).join(', ')}\n`)
    return failed.length > 0 ? 1 : 0
  }
  const results = await runScenario(scenario, runOptions)
  return reportRun(outDir, results)
}

/** Writes a run directory and prints the summary; the exit status of `run` and `merge`. */
function reportRun(outDir: string, results: ResultsJson): number {
  const files = writeRunDir(outDir, results)
  io.out(`\n${terminalSummary(results)}\n\n`)
  io.out(`wrote ${files.map((f) => f.replace(`${userCwd}/`, '')).join(', ')}\n`)
  io.out(`run took ${fmtMs(results.durationMs)}\n`)
  let code = 0
  // Every seed of a multi-seed run counts, not only the headline one.
  const runs = [{ seed: results.seed, designs: results.designs, sweeps: results.sweeps }, ...(results.seedRuns ?? [])]
  const at = (seed: number) => (runs.length > 1 ? ` (seed ${seed})` : '')
  const notRun = runs.flatMap((r) => r.designs.filter((d) => !d.ran).map((d) => `${d.name}${at(r.seed)} (${d.error})`))
  if (notRun.length > 0) {
    io.err(`error: ${notRun.length} design${notRun.length === 1 ? '' : 's'} did not run: ${notRun.join('; ')}\n`)
    code = 1
  }
  const missing = runs.flatMap((r) => r.sweeps.filter((p) => !p.ran).map((p) => `${p.design} at ${p.dimension}=${p.value}${at(r.seed)} (${p.error})`))
  if (missing.length > 0) {
    io.err(`error: ${missing.length} sweep point${missing.length === 1 ? '' : 's'} did not run: ${missing.join('; ')}\n`)
    code = 1
  }
  const broken = runs.flatMap((r) => r.designs.filter((d) => d.ran && !d.conservation.ok).map((d) => `${d.name}${at(r.seed)}`))
  if (broken.length > 0) {
    io.err(`error: funds not conserved by ${broken.join(', ')}\n`)
    code = 1
  }
  return code
}

async function cmdMerge(args: string[]): Promise<number> {
  const parsed = parse('merge', args)
  if (parsed === undefined) return 0
  const { values, positionals } = parsed
  if (positionals.length === 0) throw new UsageError('partials', 'give the partial files (or their directory) of every shard')
  const paths = positionals.map(userPath)
  const files = findPartials(paths)
  const parts = files.map((file) => ({ file: file.replace(`${userCwd}/`, ''), partial: readPartial(file) }))
  const results = mergePartials(parts)
  const first = paths[0]!
  const outDir = values.out !== undefined ? userPath(values.out as string) : existsSync(first) && statSync(first).isDirectory() ? first : dirname(first)
  prepareOutDir(outDir)
  io.out(`merged ${parts.length} shards of ${results.scenario} (${results.shards?.map((s) => `${s.index}: ${s.units} units in ${fmtMs(s.durationMs)}`).join(', ') ?? 'one'})\n`)
  return reportRun(outDir, results)
}

/** The --prover-* flags of `run`, or undefined without --prover-redis. */
function farmOptions(values: Record<string, unknown>): FarmOptions | undefined {
  const redis = values['prover-redis'] as string | undefined
  if (redis === undefined) {
    for (const f of ['prover-farm', 'prover-speedup', 'circuit-cache'])
      if (values[f] !== undefined) throw new UsageError(`--${f}`, 'only with --prover-redis')
    return undefined
  }
  let speedup: number | undefined
  if (values['prover-speedup'] !== undefined) {
    const raw = values['prover-speedup'] as string
    speedup = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN
    if (!(speedup >= 2 && speedup <= 1_000)) throw new UsageError('--prover-speedup', `expected the number of workers to compare with one, 2..1000, got ${JSON.stringify(raw)}`)
    if (values['prove-all'] !== true) throw new UsageError('--prover-speedup', 'only with --prove-all (the measurement needs 9k proven batches)')
  }
  return {
    redis,
    ...(speedup !== undefined ? { speedup } : {}),
    ...(values['prover-farm'] !== undefined ? { farm: values['prover-farm'] as string } : {}),
    ...(values['circuit-cache'] !== undefined ? { circuitCache: userPath(values['circuit-cache'] as string) } : {}),
  }
}

async function cmdProver(args: string[]): Promise<number> {
  const parsed = parse('prover', args)
  if (parsed === undefined) return 0
  const { values, positionals } = parsed
  if (positionals.length > 0) throw new UsageError(positionals[0]!, 'unexpected argument')
  if (values.redis === undefined) throw new UsageError('--redis', 'required: the Redis URL of the farm, e.g. redis://127.0.0.1:6379')
  const farm = await import('@l2bench/zk-rollup/farm')
  farm.checkRedisUrl(values.redis, '--redis')
  if (values.farm !== undefined) farm.checkFarmName(values.farm, '--farm')
  let lockMs: number | undefined
  if (values['lock-ms'] !== undefined) {
    lockMs = Number(values['lock-ms'])
    if (!Number.isSafeInteger(lockMs) || lockMs < 1_000 || lockMs > 3_600_000)
      throw new UsageError('--lock-ms', `expected an integer 1000..3600000, got ${JSON.stringify(values['lock-ms'])}`)
  }
  const circuitCache = values['circuit-cache'] !== undefined ? userPath(values['circuit-cache'] as string) : farm.defaultCircuitCache()
  const pinned = values.circuit !== undefined ? await farm.fetchCircuit(circuitCache, farm.checkCircuitId(values.circuit, '--circuit')) : undefined
  const worker = await farm.ProverFarmWorker.start({
    redis: values.redis as string,
    circuitCache,
    ...(values.farm !== undefined ? { farm: values.farm as string } : {}),
    ...(pinned !== undefined ? { pinned } : {}),
    ...(values.build === true ? { build: true } : {}),
    ...(values.name !== undefined ? { name: values.name as string } : {}),
    ...(lockMs !== undefined ? { lockMs } : {}),
    log: (line) => io.err(`${new Date().toISOString()} ${line}\n`),
  })
  // The first SIGINT/SIGTERM lets the job in hand finish; one more, a moment later, stops at once (a
  // terminal's Ctrl-C reaches both the bin shim and this process, which forwards it: that one is the same).
  let stopping = 0
  const stop = () => {
    if (stopping === 0) {
      stopping = Date.now()
      io.err('stopping: the job in hand finishes first (signal again to stop now)\n')
      void worker.close()
    } else if (Date.now() - stopping > 1_000) process.exit(130)
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  const err = await worker.done
  process.off('SIGINT', stop)
  process.off('SIGTERM', stop)
  const s = worker.stats
  io.out(`prover ${worker.name}: ${s.proved} proofs, ${s.witnesses} witness checks, ${s.failed} failed (${s.timedOut} timed out)\n`)
  if (err !== undefined) {
    io.err(`l2bench: ${err.message}\n`)
    return 1
  }
  return 0
}

async function cmdMicro(args: string[]): Promise<number> {
  const parsed = parse('micro', args)
  if (parsed === undefined) return 0
  const { values, positionals } = parsed
  if (positionals.length > 0) throw new UsageError(positionals[0]!, 'unexpected argument')
  const suites = findSuites(values.filter as string | undefined)
  if (suites.length === 0) {
    io.err('no micro-benchmark suites found (packages/*/bench/*.ts)\n')
    return 0
  }
  const results: MicroResult[] = []
  for (const s of suites) {
    io.err(`running ${s.pkg}/${s.file.split('/').pop()}\n`)
    const r = await runSuite(s.pkg, s.file, (l) => io.err(`  ${l}\n`))
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
  io.out(`${terminalTable(['suite', 'task', 'ops/s', 'p50', 'p95', 'p99', 'rme'], rows)}\n`)
  if (values.out !== undefined) {
    const file = userPath(values.out as string)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, `${JSON.stringify({ schema: 1, kind: 'l2bench-micro', at: new Date().toISOString(), suites: results }, null, 1)}\n`)
    io.out(`wrote ${file}\n`)
  }
  return results.every((r) => r.ok) ? 0 : 1
}

async function cmdReport(args: string[]): Promise<number> {
  const parsed = parse('report', args)
  if (parsed === undefined) return 0
  const { values, positionals } = parsed
  if (positionals.length !== 1) throw new UsageError('results', 'expected exactly one results.json path')
  const file = userPath(positionals[0]!)
  const results = readResults(file)
  const outDir = values.out !== undefined ? userPath(values.out as string) : dirname(file)
  const files = writeRunDir(outDir, results, { reportsOnly: true })
  io.out(`${terminalSummary(results)}\n\nwrote ${files.join(', ')}\n`)
  return 0
}

async function cmdGate(args: string[]): Promise<number> {
  const parsed = parse('gate', args)
  if (parsed === undefined) return 0
  const { values, positionals } = parsed
  if (values.baseline === undefined) throw new UsageError('--baseline', 'required: the committed baseline file (e.g. benchmarks/baseline.json)')
  if (positionals.length !== 1) throw new UsageError('results', 'expected exactly one results.json path')
  const results = readResults(userPath(positionals[0]!))
  const baselineFile = userPath(values.baseline as string)
  if (values.update === true) {
    writeFileSync(baselineFile, `${JSON.stringify(baselineFrom(results), null, 1)}\n`)
    io.out(`wrote baseline ${baselineFile} (${results.gate.length} metrics)\n`)
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
  io.out(`${terminalTable(['metric', 'baseline', 'current', 'change (+ = better)', 'tolerance', 'status'], rows)}\n`)
  for (const p of outcome.problems) io.out(`problem: ${p}\n`)
  io.out(outcome.ok ? 'gate: ok\n' : 'gate: FAILED\n')
  return outcome.ok ? 0 : 1
}

function cmdList(args: string[]): number {
  const parsed = parse('list', args)
  if (parsed === undefined) return 0
  const { values, positionals } = parsed
  if (positionals.length > 0) throw new UsageError(positionals[0]!, 'unexpected argument')
  if (values.markdown === true && values.options !== true) throw new UsageError('--markdown', 'only with --options')
  if (values.options === true) {
    io.out(values.markdown === true ? optionsMarkdown() : optionsText())
    return 0
  }
  io.out(`scenarios (${inWorkspace ? 'benchmarks/*.yaml' : `${listScenarioDir()}/*.yaml`}):\n`)
  for (const name of listScenarioNames()) {
    try {
      const s = loadScenario(name)
      io.out(`  ${name.padEnd(16)} ${s.users} users, ${s.payments} payments — ${s.description.split('\n')[0]}\n`)
    } catch (err) {
      io.out(`  ${name.padEnd(16)} INVALID: ${(err as Error).message}\n`)
    }
  }
  io.out('\ndesigns:\n')
  for (const d of DESIGN_NAMES) io.out(`  ${d.padEnd(8)} ${DESIGN_FACTORIES[d] !== undefined ? 'ready' : (MISSING_REASONS[d] ?? 'missing')}\n`)
  io.out(`\noutputs per run: ${Object.values(OUTPUT_FILES).join(', ')}\n`)
  io.out('scenario keys and design options: l2bench list --options\n')
  return 0
}

async function cmdDocs(args: string[]): Promise<number> {
  const parsed = parse('docs', args)
  if (parsed === undefined) return 0
  const { values, positionals } = parsed
  if (positionals.length > 0) throw new UsageError(positionals[0]!, 'unexpected argument (runs are given with --from)')
  const from = (values.from as string[] | undefined) ?? []
  if (from.length === 0 && values.options !== true) throw new UsageError('--from', 'give at least one run (--from out/<run>) or --options')
  const dir = values.dir !== undefined ? userPath(values.dir as string) : inWorkspace ? join(repoRoot, 'docs') : undefined
  if (dir === undefined) throw new UsageError('--dir', 'not in a checkout of the l2bench repository: give the docs directory')
  prepareOutDir(dir, '--dir')
  const written: string[] = []
  const optionsFile = join(dir, 'options.md')
  writeFileSync(optionsFile, optionsMarkdown())
  written.push(optionsFile)
  if (from.length > 0) {
    const runs = from.map((f) => {
      const p = userPath(f)
      return readResults(p.endsWith('.json') ? p : join(p, OUTPUT_FILES.results))
    })
    written.push(...writeResultsDocs(dir, runs, from))
  }
  io.out(`wrote ${written.map((f) => f.replace(`${userCwd}/`, '')).join(', ')}\n`)
  return 0
}

export async function main(argv: string[], streams: CliIo = processIo): Promise<number> {
  io = streams
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'run':
        return await cmdRun(rest)
      case 'merge':
        return await cmdMerge(rest)
      case 'prover':
        return await cmdProver(rest)
      case 'micro':
        return await cmdMicro(rest)
      case 'report':
        return await cmdReport(rest)
      case 'gate':
        return await cmdGate(rest)
      case 'list':
        return cmdList(rest)
      case 'docs':
        return await cmdDocs(rest)
      case 'help':
        if (rest[0] !== undefined && COMMANDS[rest[0]] !== undefined) {
          io.out(commandHelp(rest[0]))
          return 0
        }
        io.out(USAGE)
        return 0
      case undefined:
      case '--help':
      case '-h':
        io.out(USAGE)
        return command === undefined ? 2 : 0
      default: {
        const hint = didYouMean(command, Object.keys(COMMANDS))
        throw new UsageError('command', `unknown command "${command}"${hint === undefined ? '' : ` (did you mean "${hint}"?)`}\n\n${USAGE}`)
      }
    }
  } catch (err) {
    if (err instanceof L2Error) {
      io.err(`l2bench: ${err.message}\n`)
      return 2
    }
    throw err
  }
}

/** Runs the CLI and exits with its status (the bin and `node src/cli.ts` both end here). */
export async function run(argv: string[]): Promise<never> {
  // The event loop emptying before main() settles means something awaited a promise nothing will ever
  // settle (no timer, socket or worker left): Node would exit 0 in silence, with no report. Fail loudly.
  process.once('beforeExit', () => {
    process.stderr.write('l2bench: internal error: the command stopped before it finished (it awaited something that can never happen: a deadlock)\n')
    process.exit(1)
  })
  try {
    // Exit explicitly: a design's worker or timer left running must not keep a finished run alive.
    process.exit(await main(argv))
  } catch (err) {
    process.stderr.write(`l2bench: internal error: ${(err as Error).stack ?? String(err)}\n`)
    process.exit(1)
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/cli.ts')) void run(process.argv.slice(2))
