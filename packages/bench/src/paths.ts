/**
 * Where the harness finds its files, from a checkout of the repository or
 * from an installed package. Both src/ and dist/ sit one level below the
 * package root. A checkout has the package's tsconfig.json (never shipped)
 * and the repository's benchmarks/ two levels up; an installed package has
 * its scenarios in scenarios/ (copied there by `prepack`).
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join, resolve } from 'node:path'

export const packageDir = fileURLToPath(new URL('../', import.meta.url))
export const repoRoot = resolve(packageDir, '../..')

/** True when running from a checkout of the l2bench repository (not from an installed package). */
export const inWorkspace = existsSync(join(packageDir, 'tsconfig.json')) && existsSync(join(repoRoot, 'benchmarks'))

/** Directory of the scenarios: the repository's benchmarks/ in a checkout, the package's scenarios/ when installed. */
export function scenariosDir(): string {
  return inWorkspace ? join(repoRoot, 'benchmarks') : join(packageDir, 'scenarios')
}
