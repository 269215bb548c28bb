/** Stores: SQLite migrations and modes, restart recovery of the latest state and a half-signed proposal, memory store parity. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { type InvalidInputError, bytesEqual } from '@l2bench/core'
import Database from 'better-sqlite3'
import { MIGRATIONS, MemoryStore, SqliteStore, decodeRecord, encodeRecord } from '../src/index.ts'
import { ETH, nodePair, settle, until } from './fixtures.ts'

function tmp() {
  const dir = mkdtempSync(join(tmpdir(), 'pc-store-'))
  return { dir, file: join(dir, 'node.db'), done: () => rmSync(dir, { recursive: true, force: true }) }
}

describe('SqliteStore', () => {
  test('migrations: schema_version records every step; reopening applies nothing twice', () => {
    const t = tmp()
    const s = new SqliteStore(t.file)
    assert.equal(s.schemaVersion(), MIGRATIONS.at(-1)?.version)
    assert.equal(s.db.pragma('journal_mode', { simple: true }), 'wal')
    assert.equal(s.db.pragma('synchronous', { simple: true }), 2, 'FULL')
    s.close()
    const again = new SqliteStore(t.file, { synchronous: 'NORMAL' })
    assert.equal(again.db.pragma('synchronous', { simple: true }), 1, 'NORMAL')
    const rows = again.db.prepare('SELECT version FROM schema_version ORDER BY version').all() as { version: number }[]
    assert.deepEqual(
      rows.map((r) => r.version),
      MIGRATIONS.map((m) => m.version),
    )
    again.close()
    assert.throws(() => new SqliteStore(t.file, { synchronous: 'OFF' as 'FULL' }), (e: InvalidInputError) => e.field === 'synchronous')
    t.done()
  })

  test('upgrades a database left at schema version 1', () => {
    const t = tmp()
    const db = new Database(t.file)
    db.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)')
    db.exec(MIGRATIONS[0]!.sql)
    db.prepare('INSERT INTO schema_version VALUES (1, 0)').run()
    db.close()
    const s = new SqliteStore(t.file)
    assert.equal(s.schemaVersion(), 2)
    const idx = s.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'channels_phase'").get()
    assert.ok(idx)
    s.close()
    t.done()
  })

  test('restart recovers the latest fully signed state and a half-signed proposal', async () => {
    const ta = tmp()
    const tb = tmp()
    const stores: [SqliteStore, SqliteStore] = [new SqliteStore(ta.file), new SqliteStore(tb.file)]
    const p = await nodePair({ stores })
    const { alice, bob, channelId, links } = p
    await until(() => bob.status(channelId).phase === 'open')
    await alice.pay({ channelId, amount: ETH })
    await bob.pay({ channelId, amount: 2n })
    // A proposal that never reaches Bob.
    links[0].send = () => {}
    const pending = alice.pay({ channelId, amount: 3n })
    await settle()
    const live = alice.machine(channelId)
    assert.equal(live.pending?.state.version, 3n)
    alice.stop()
    await assert.rejects(pending)
    stores[0].close()
    const reopened = new SqliteStore(ta.file)
    const [rec] = reopened.loadAll()
    assert.ok(rec)
    assert.equal(rec.latest.state.version, 2n)
    assert.ok(bytesEqual(rec.latest.digest, live.latest.digest))
    assert.ok(bytesEqual(rec.latest.sigs[1] as Uint8Array, live.latest.sigs[1] as Uint8Array))
    assert.equal(rec.pending?.state.version, 3n)
    assert.ok(bytesEqual(rec.pending.sig, live.pending.sig))
    assert.equal(rec.phase, 'open')
    reopened.close()
    bob.stop()
    stores[1].close()
    ta.done()
    tb.done()
  })
})

describe('record encoding', () => {
  test('MemoryStore and SqliteStore hold identical records; encode/decode round-trips', async () => {
    const p = await nodePair()
    await p.alice.pay({ channelId: p.channelId, amount: 5n })
    const m = p.alice.machine(p.channelId)
    const bytes = encodeRecord(m)
    const back = decodeRecord(bytes)
    assert.deepEqual(encodeRecord(back), bytes)
    assert.ok(bytesEqual(back.latest.digest, m.latest.digest))
    const mem = new MemoryStore()
    mem.save(m)
    const t = tmp()
    const sql = new SqliteStore(t.file)
    sql.save(m)
    assert.deepEqual(encodeRecord(mem.load(m.params.channelId)!), encodeRecord(sql.load(m.params.channelId)!))
    sql.close()
    t.done()
  })
})
