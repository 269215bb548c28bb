// npm pack / publish: ship the committed scenarios (the repository's benchmarks/*.yaml) in the
// package's scenarios/, and refuse to pack without the built dist/ the bin runs from.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'

const pkg = new URL('../', import.meta.url)
const src = new URL('../../benchmarks/', pkg)
const dst = new URL('scenarios/', pkg)
if (process.argv[2] === 'clean') {
  rmSync(dst, { recursive: true, force: true })
  process.exit(0)
}
if (!existsSync(new URL('dist/cli.js', pkg))) {
  console.error('prepack: dist/cli.js is missing: run `npm run build` at the repository root first')
  process.exit(1)
}
rmSync(dst, { recursive: true, force: true })
mkdirSync(dst)
for (const f of readdirSync(src)) if (f.endsWith('.yaml')) copyFileSync(new URL(f, src), new URL(f, dst))
