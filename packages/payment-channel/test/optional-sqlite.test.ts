import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { MemoryStore, SqliteStore } from '../src/index.ts'

const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes(`${'/'}better-sqlite3${'/'}`))

test('better-sqlite3 is loaded only when a SqliteStore opens: MemoryStore users never load it', () => {
  new MemoryStore().close()
  assert.equal(loaded(), false, 'importing the package and using MemoryStore loaded better-sqlite3')
  const dir = mkdtempSync(join(tmpdir(), 'pc-optional-'))
  try {
    const s = new SqliteStore(join(dir, 'c.db'))
    assert.equal(loaded(), true)
    assert.equal(s.db.pragma('journal_mode', { simple: true }), 'wal')
    s.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
