/**
 * The packages as a user gets them: built (`turbo run build`), packed with
 * `npm pack`, installed from the tarballs into a scratch project (dependencies
 * from npm's local cache where it has them), then
 *  - each package README's first TypeScript example type-checks in that
 *    project with `skipLibCheck: false` (the published .d.ts files, and
 *    every type they reference, must resolve);
 *  - `npx l2bench` runs from the built dist/ with no tsx installed, finds the
 *    shipped scenarios, and completes a quick L1 run;
 *  - a project that installs only @l2bench/payment-channel gets no
 *    better-sqlite3 (no native build) and type-checks against MemoryStore.
 *
 * It is a system test (`npm run test:system`): it builds every package and
 * installs a few hundred MB from the npm cache, one to three minutes here.
 */
import assert from 'node:assert/strict'
import { type SpawnSyncOptions, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

const root = new URL('../../../', import.meta.url).pathname
const tmp = mkdtempSync(join(tmpdir(), 'l2bench-consumer-'))
const tarballs = join(tmp, 'tarballs')
/** @l2bench/bench and every @l2bench package it depends on, read from the package.json files (a new dependency is packed without editing this list). */
function closure(start: string): string[] {
  const seen = new Set<string>()
  const visit = (pkg: string): void => {
    if (seen.has(pkg)) return
    seen.add(pkg)
    const manifest = JSON.parse(readFileSync(join(root, 'packages', pkg, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; peerDependencies?: Record<string, string> }
    for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) if (dep.startsWith('@l2bench/')) visit(dep.slice('@l2bench/'.length))
  }
  visit(start)
  return [...seen].sort()
}
const PACKAGES = closure('bench')
const packed = new Map<string, string>()

function sh(cmd: string, args: string[], options: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, ...options })
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} (in ${options.cwd ?? root}) failed:\n${r.stdout}\n${r.stderr}`)
  return String(r.stdout)
}

const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }
const tsVersion = rootPkg.devDependencies.typescript!
const nodeTypes = rootPkg.devDependencies['@types/node']!

/** A scratch project with the given tarballs and TypeScript installed. */
function project(name: string, pkgs: string[], extraInstallArgs: string[] = []): string {
  const dir = join(tmp, name)
  mkdirSync(dir)
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name, private: true, type: 'module' }, null, 1)}\n`)
  writeFileSync(
    join(dir, 'tsconfig.json'),
    `${JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
        },
        include: ['*.ts'],
      },
      null,
      1,
    )}\n`,
  )
  const files = pkgs.map((p) => packed.get(p)!)
  sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...extraInstallArgs, ...files, `typescript@${tsVersion}`, `@types/node@${nodeTypes}`], { cwd: dir })
  return dir
}

/** The first ```ts block of a package README. */
function readmeExample(pkg: string): string {
  const text = readFileSync(join(root, 'packages', pkg, 'README.md'), 'utf8')
  const m = /```ts\n([\s\S]*?)```/.exec(text)
  assert.ok(m !== null, `${pkg}/README.md has a TypeScript example`)
  return `${m[1]}\nexport {}\n`
}

before(() => {
  sh('npx', ['turbo', 'run', 'build', '--filter=@l2bench/bench...', '--output-logs=errors-only'], { cwd: root, env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } })
  mkdirSync(tarballs)
  const out = sh('npm', ['pack', '--json', '--pack-destination', tarballs, ...PACKAGES.flatMap((p) => ['-w', `@l2bench/${p}`])], { cwd: root })
  const list = JSON.parse(out) as { name: string; filename: string; files: { path: string }[] }[]
  for (const p of list) packed.set(p.name.replace('@l2bench/', ''), join(tarballs, p.filename))
  const bench = list.find((p) => p.name === '@l2bench/bench')!
  const paths = bench.files.map((f) => f.path)
  assert.ok(paths.includes('dist/cli.js'), 'bench ships dist/')
  assert.ok(paths.includes('scenarios/default.yaml'), 'bench ships the scenarios')
  assert.ok(!existsSync(join(root, 'packages/bench/scenarios')), 'postpack removed the copy')
})
after(() => rmSync(tmp, { recursive: true, force: true }))

test('README examples type-check against the packed packages with skipLibCheck: false; npx l2bench runs from dist without tsx', () => {
  // --ignore-scripts: better-sqlite3 (bench's channel store) would otherwise build from source here;
  // the run below uses the L1 design only.
  const dir = project('app', PACKAGES, ['--ignore-scripts'])
  assert.equal(existsSync(join(dir, 'node_modules/tsx')), false, 'tsx is not installed')
  for (const pkg of PACKAGES) writeFileSync(join(dir, `${pkg}-example.ts`), readmeExample(pkg))
  sh(join(dir, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: dir })

  const help = sh(join(dir, 'node_modules/.bin/l2bench'), ['run', '--help'], { cwd: dir })
  assert.match(help, /usage: l2bench run/)
  const list = sh(join(dir, 'node_modules/.bin/l2bench'), ['list'], { cwd: dir })
  assert.match(list, /default +50 users/)
  const out = join(dir, 'out', 'quick')
  sh(join(dir, 'node_modules/.bin/l2bench'), ['run', '--scenario', 'default', '--quick', '--designs', 'l1', '--no-sweeps', '--out', out], { cwd: dir })
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { designs: { name: string; succeeded: number; payments: number }[] }
  assert.equal(results.designs[0]?.name, 'l1')
  assert.equal(results.designs[0]?.succeeded, results.designs[0]?.payments)
  assert.ok(existsSync(join(out, 'report.html')))
})

test('@l2bench/payment-channel alone: no better-sqlite3 installed, its README example type-checks, MemoryStore runs, SqliteStore names the missing peer', () => {
  const dir = project('channel-only', ['core', 'l1-mock', 'payment-channel'])
  assert.equal(existsSync(join(dir, 'node_modules/better-sqlite3')), false, 'better-sqlite3 is an optional peer: not installed')
  writeFileSync(join(dir, 'example.ts'), readmeExample('payment-channel'))
  sh(join(dir, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: dir })
  writeFileSync(
    join(dir, 'run.mjs'),
    `import { MemoryStore, SqliteStore } from '@l2bench/payment-channel'
new MemoryStore().close()
try { new SqliteStore('x.db'); console.log('opened') } catch (e) { console.log(e.code, e.field) }
`,
  )
  assert.equal(sh(process.execPath, ['run.mjs'], { cwd: dir }).trim(), 'MISSING_PEER_DEPENDENCY better-sqlite3')
})
