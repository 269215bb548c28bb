#!/usr/bin/env node
// The l2bench CLI.
// - Installed from npm (or a packed tarball): runs the built dist/cli.js with plain node — no tsx.
// - In a checkout of the repository (the package's tsconfig.json is there, never shipped): runs
//   src/cli.ts through tsx with the `@l2bench/source` export condition, so sibling packages resolve
//   to their src/ and no build is needed. Arguments, SIGINT/SIGTERM (so `l2bench prover` stops
//   gracefully under a process manager that signals only this process) and the exit code pass
//   through either way.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const pkg = new URL('../', import.meta.url)
const checkout = existsSync(new URL('tsconfig.json', pkg)) && existsSync(new URL('src/cli.ts', pkg))

if (!checkout || process.env.L2BENCH_FROM_DIST === '1') {
  const { run } = await import('../dist/cli.js')
  await run(process.argv.slice(2))
} else {
  const cli = fileURLToPath(new URL('src/cli.ts', pkg))
  const tsx = import.meta.resolve('tsx')
  const child = spawn(process.execPath, ['--conditions=@l2bench/source', '--import', tsx, cli, ...process.argv.slice(2)], { stdio: 'inherit' })
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
  child.once('error', (err) => {
    console.error(`l2bench: cannot start node: ${err.message}`)
    process.exit(1)
  })
  child.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
}
