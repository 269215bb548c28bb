import assert from 'node:assert/strict'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'

const root = new URL('../../../', import.meta.url).pathname
const license = readFileSync(join(root, 'LICENSE'), 'utf8')
const read = (p: string) => JSON.parse(readFileSync(p, 'utf8'))
const dirs = readdirSync(join(root, 'packages')).filter((d) => existsSync(join(root, 'packages', d, 'package.json')))

test('every package ships its licence, README and changelog, and declares repository.directory and the Node floor', () => {
  assert.match(license, /^MIT License/)
  const rootPkg = read(join(root, 'package.json'))
  assert.equal(rootPkg.engines.node, '>=20.19', 'root engines')
  // @noble/hashes (core's dependency) needs Node 20.19: the floor is the highest a dependency declares.
  const noble = read(join(root, 'node_modules/@noble/hashes/package.json'))
  assert.match(noble.engines.node, /20\.19/)
  for (const d of dirs) {
    const dir = join(root, 'packages', d)
    const pkg = read(join(dir, 'package.json'))
    assert.equal(pkg.license, 'MIT', `${d}: license`)
    assert.equal(readFileSync(join(dir, 'LICENSE'), 'utf8'), license, `${d}: LICENSE file`)
    assert.ok(existsSync(join(dir, 'README.md')), `${d}: README.md`)
    assert.match(readFileSync(join(dir, 'CHANGELOG.md'), 'utf8'), new RegExp(`^# ${pkg.name}\\n`), `${d}: CHANGELOG.md`)
    assert.equal(pkg.engines?.node, '>=20.19', `${d}: engines.node`)
    assert.equal(pkg.repository?.directory, `packages/${d}`, `${d}: repository.directory`)
    assert.equal(pkg.repository?.type, 'git', `${d}: repository.type`)
    // Export conditions: the TypeScript sources only under the namespaced condition.
    const conditions = JSON.stringify(pkg.exports)
    assert.doesNotMatch(conditions, /"source"/, `${d}: a generic "source" condition`)
    assert.match(conditions, /"@l2bench\/source"/, `${d}: the @l2bench/source condition`)
  }
  const changesets = read(join(root, '.changeset/config.json'))
  assert.equal(changesets.access, 'public')
})

test('every import of a package in src/ is declared in its dependencies (or is a sibling, a node: builtin or an optional peer)', () => {
  for (const d of dirs) {
    const dir = join(root, 'packages', d)
    const pkg = read(join(dir, 'package.json'))
    const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})])
    const files = (readdirSync(join(dir, 'src'), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'))
    for (const f of files) {
      const text = readFileSync(join(dir, 'src', f), 'utf8')
      for (const m of text.matchAll(/(?:from|import\(|require\()\s*['"]([^'".][^'"]*)['"]/g)) {
        const spec = m[1]!
        if (spec.startsWith('node:') || !/^(@[a-z0-9-]+\/)?[a-z0-9][a-z0-9._-]*(\/[\w./-]*)?$/.test(spec)) continue
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!
        assert.ok(declared.has(name), `${d}/src/${f} imports ${name}, which ${pkg.name} does not declare`)
      }
    }
  }
})
