/**
 * `l2bench micro`: runs every package's tinybench suites (packages/<pkg>/bench/*.ts),
 * one child process per file so suites cannot disturb each other, and
 * collects their results through micro-preload.ts.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import type { MicroTask } from './micro-preload.ts'

export interface MicroResult {
  package: string
  file: string
  ok: boolean
  exitCode: number | null
  wallMs: number
  tasks: MicroTask[]
}

const packagesDir = new URL('../../', import.meta.url).pathname

export function findSuites(filter?: string): { pkg: string; file: string }[] {
  const out: { pkg: string; file: string }[] = []
  for (const pkg of readdirSync(packagesDir).sort()) {
    const dir = join(packagesDir, pkg, 'bench')
    if (!existsSync(dir)) continue
    for (const f of readdirSync(dir).sort())
      if (f.endsWith('.ts') && !f.endsWith('.d.ts')) {
        const file = join(dir, f)
        if (filter === undefined || `${pkg}/${f}`.includes(filter)) out.push({ pkg, file })
      }
  }
  return out
}

export async function runSuite(pkg: string, file: string, onLine: (l: string) => void = () => {}): Promise<MicroResult> {
  const tmp = mkdtempSync(join(tmpdir(), 'l2bench-micro-'))
  const outFile = join(tmp, 'out.json')
  const preload = new URL('./micro-preload.ts', import.meta.url).href
  const t0 = performance.now()
  const code = await new Promise<number | null>((resolvePromise) => {
    const child = spawn(process.execPath, ['--conditions=@l2bench/source', '--import', 'tsx', '--import', preload, file], {
      cwd: join(packagesDir, pkg),
      env: { ...process.env, L2BENCH_MICRO_OUT: outFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const forward = (buf: Buffer) => {
      for (const l of buf.toString().split('\n')) if (l.trim() !== '') onLine(l)
    }
    child.stdout.on('data', forward)
    child.stderr.on('data', forward)
    child.on('close', (c) => resolvePromise(c))
  })
  const wallMs = performance.now() - t0
  let tasks: MicroResult['tasks'] = []
  if (existsSync(outFile)) tasks = JSON.parse(readFileSync(outFile, 'utf8')) as MicroResult['tasks']
  rmSync(tmp, { recursive: true, force: true })
  return { package: pkg, file: file.slice(packagesDir.length), ok: code === 0, exitCode: code, wallMs, tasks }
}
