/**
 * The `l2bench` commands as the user sees them: each one's summary, usage
 * line, help text and flags (parsed by cli.ts with node:util's parseArgs), and
 * the top-level usage built from them.
 */
import type { ParseArgsConfig } from 'node:util'
import { DESIGN_NAMES } from './scenario.ts'

type Options = NonNullable<ParseArgsConfig['options']>

export interface Command {
  summary: string
  /** Help text after the usage line. */
  help: string
  usage: string
  options: Options
}

const HELP = { type: 'boolean', short: 'h' } as const

export const COMMANDS: Record<string, Command> = {
  run: {
    summary: 'run a scenario through the designs and write a report directory',
    usage: 'l2bench run [--scenario <name|file.yaml>] [--designs a,b] [--quick] [--l1 mock|evm] [--seed n | --seeds list] [--shard i/n] [--out dir] [--no-sweeps] [--prove-all] [--prover-redis <url> [--prover-speedup <k>]]',
    help: `  -s, --scenario <name|file>  a scenario in benchmarks/ by name, or a YAML file (default: default)
  -d, --designs <a,b,...>     subset of: ${DESIGN_NAMES.join(', ')}
  -q, --quick                 apply the scenario's quick: overrides (CI-sized)
      --l1 <mock|evm>         the L1 the designs run on (default mock): evm starts anvil (from npm) per design
                              run and deploys the designs' Solidity ports, so gas is measured, not modelled
                              (docs/parity.md compares the two); designs without a port do not run there
      --seed <n>              override the scenario seed
  -o, --out <dir>             output directory, checked before the run (default: out/<scenario>-<timestamp>/)
      --no-sweeps             skip the growth sweeps
      --seeds <list>          a multi-seed run, e.g. 1-5 or 1,7,9: each figure with its mean and 95 % interval
                              over the seeds (the first seed's run is the headline); not with --seed
      --shard <i/n>           run shard i of n (1-based) and write <out>/partial-i-of-n.json instead of
                              the reports; \`l2bench merge\` joins the n partial files (see docs/scale.md)
      --prove-all             the rollup proves every batch (designOptions.rollup.proveAll)
      --prover-redis <url>    the rollup's proofs come from a BullMQ prover farm at this Redis (workers:
                              \`l2bench prover --redis <url>\`) instead of worker threads here; see docs/scale.md
      --prover-farm <name>    the farm's name on that Redis (default: default)
      --prover-speedup <k>    with --prove-all: measure the speed-up of k workers over one in this run (after
                              a warm-up round of k proofs, 4 ABBA blocks of 2k: one at a time, k at a time; docs/scale.md)
      --circuit-cache <dir>   where the run publishes its circuit for the workers (a directory they share;
                              default: this machine's circuit cache)
  -h, --help                  this help

Exit status: 0 every design ran and conserved funds; 1 a design (or a sweep point) did not run, or lost funds;
2 bad usage or a bad scenario. \`l2bench list --options\` lists every scenario key and design option.`,
    options: {
      scenario: { type: 'string', short: 's' },
      designs: { type: 'string', short: 'd' },
      quick: { type: 'boolean', short: 'q' },
      l1: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string', short: 'o' },
      'no-sweeps': { type: 'boolean' },
      seeds: { type: 'string' },
      shard: { type: 'string' },
      'prove-all': { type: 'boolean' },
      'prover-redis': { type: 'string' },
      'prover-farm': { type: 'string' },
      'prover-speedup': { type: 'string' },
      'circuit-cache': { type: 'string' },
      help: HELP,
    },
  },
  merge: {
    summary: 'join the partial results of a sharded run (run --shard i/n) into results.json and the reports',
    usage: 'l2bench merge <partial.json | dir>... [--out dir]',
    help: `  <partial.json | dir>  the n partial files, or directories holding partial-<i>-of-<n>.json
  -o, --out <dir>        where to write results.json and the reports (default: the first directory given,
                         or the first file's directory)
  -h, --help             this help

Refuses (exit 2, naming the cause) partial files from another scenario, seed set, code version or
gas schedule, and a shard missing or given twice: nothing is written then. Exit status otherwise as run's.`,
    options: { out: { type: 'string', short: 'o' }, help: HELP },
  },
  prover: {
    summary: 'a rollup prover worker: proves batches from a BullMQ farm in Redis until stopped',
    usage: 'l2bench prover --redis <url> [--farm <name>] [--circuit-cache <dir>] [--circuit <id>] [--build] [--name <n>] [--lock-ms <ms>]',
    help: `  -r, --redis <url>        the farm's Redis, e.g. redis://10.0.0.5:6379 (required)
      --farm <name>        the farm's name on that Redis (default: default)
      --circuit-cache <dir> where runs publish their circuits, by content hash (default: this machine's
                           circuit cache); each circuit is checked against its hash before use
      --circuit <id>       serve this circuit only (from --circuit-cache); refuse every other
      --build              a needed circuit missing from --circuit-cache is built with the local pipeline
                           (served only if it comes out identical: a Groth16 setup is random per build)
      --name <n>           this worker's name in the farm (default: host:pid)
      --lock-ms <ms>       BullMQ lock: a dead worker's job moves to another after about this long (default 30000)
  -h, --help               this help

Runs until SIGINT/SIGTERM (the job in hand finishes first). Exit status: 0 stopped, 1 Redis went away,
2 bad usage or Redis unreachable. See docs/scale.md.`,
    options: {
      redis: { type: 'string', short: 'r' },
      farm: { type: 'string' },
      'circuit-cache': { type: 'string' },
      circuit: { type: 'string' },
      build: { type: 'boolean' },
      name: { type: 'string' },
      'lock-ms': { type: 'string' },
      help: HELP,
    },
  },
  micro: {
    summary: 'run the tinybench suites of every package (packages/*/bench/*.ts)',
    usage: 'l2bench micro [--filter text] [--out file]',
    help: `      --filter <text>  only suites whose <package>/<file> contains text
  -o, --out <file>     write the collected results as JSON
  -h, --help           this help`,
    options: { filter: { type: 'string' }, out: { type: 'string', short: 'o' }, help: HELP },
  },
  report: {
    summary: 're-render report.md / report.html / benchmark JSON from a results.json',
    usage: 'l2bench report <results.json> [--out dir]',
    help: `  -o, --out <dir>  where to write the reports (default: beside results.json)
  -h, --help       this help`,
    options: { out: { type: 'string', short: 'o' }, help: HELP },
  },
  gate: {
    summary: 'fail when a ratio metric regressed against a committed baseline',
    usage: 'l2bench gate --baseline <baseline.json> <results.json> [--update] [--tolerance-scale x]',
    help: `  -b, --baseline <file>      the committed baseline (e.g. benchmarks/baseline.json)
      --update               write the baseline from results.json instead of comparing
      --tolerance-scale <x>  multiply every tolerance by x (> 0)
  -h, --help                 this help

Exit status: 0 within tolerance, 1 a metric regressed or is missing, 2 bad usage.`,
    options: { baseline: { type: 'string', short: 'b' }, update: { type: 'boolean' }, 'tolerance-scale': { type: 'string' }, help: HELP },
  },
  list: {
    summary: 'list scenarios and design adapters; --options: every scenario key and design option',
    usage: 'l2bench list [--options [--markdown]]',
    help: `      --options   the options reference: every scenario key and per-design option, with type and default
      --markdown  print the reference as Markdown (the text of docs/options.md)
  -h, --help      this help`,
    options: { options: { type: 'boolean' }, markdown: { type: 'boolean' }, help: HELP },
  },
  docs: {
    summary: 'regenerate docs/results.md and its SVG charts from runs, and docs/options.md',
    usage: 'l2bench docs [--from <run dir|results.json>]... [--options] [--dir docs]',
    help: `      --from <run>  a run directory (or its results.json); the first is the headline run, later
                    ones add their summaries. Rewrites <dir>/results.md and <dir>/results/*.svg.
      --options     rewrite <dir>/options.md (the options reference); implied by --from
      --dir <dir>   the docs directory (default: the repository's docs/)
  -h, --help        this help`,
    options: { from: { type: 'string', multiple: true }, options: { type: 'boolean' }, dir: { type: 'string' }, help: HELP },
  },
}

export const USAGE = `usage: l2bench <command> [options]   (l2bench <command> --help for its options)

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`)
  .join('\n')}
`

export function commandHelp(name: string): string {
  const c = COMMANDS[name]!
  return `usage: ${c.usage}\n\n${c.summary}\n\n${c.help}\n`
}
