#!/usr/bin/env node
// l2bench CLI shim: runs src/cli.ts from source through tsx with the `source`
// export condition (so sibling packages resolve to their src/), passing all
// arguments and the exit code through.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
const tsx = import.meta.resolve('tsx')
const r = spawnSync(process.execPath, ['--conditions=@l2bench/source', '--import', tsx, cli, ...process.argv.slice(2)], { stdio: 'inherit' })
if (r.error) {
  console.error(`l2bench: cannot start node: ${r.error.message}`)
  process.exit(1)
}
process.exit(r.status ?? (r.signal ? 1 : 0))
