/** Stores: SQLite migrations and modes, restart recovery of the latest state and a half-signed proposal, memory store parity. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { type InvalidInputError, bytesEqual } from '@l2bench/core'
import Database from 'better-sqlite3'
import { MIGRATIONS, MemoryStore, SqliteStore, decodeMessage, decodeRecord, encodeRecord } from '../src/index.ts'
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

  test('a merged proposal survives a restart with its parts; a schema-1 record (before merging) still loads', async () => {
    const p = await nodePair()
    const { alice, bob, channelId, secure } = p
    await until(() => bob.status(channelId).phase === 'open')
    // The merged proposal of the three queued payments never reaches Bob.
    const send = secure[0].send.bind(secure[0])
    secure[0].send = (f) => {
      const msg = decodeMessage(f)
      if (msg.type !== 'propose' || msg.entries.length === 0) send(f)
    }
    const first = alice.pay({ channelId, amount: 1n })
    const jobs = [alice.pay({ channelId, amount: 2n }), alice.pay({ channelId, amount: 3n }), alice.pay({ channelId, amount: 4n })]
    assert.equal(await first, 1n)
    await settle()
    const m = alice.machine(channelId)
    assert.equal(m.pending?.parts.length, 3)
    const back = decodeRecord(encodeRecord(m))
    assert.deepEqual(encodeRecord(back), encodeRecord(m))
    assert.deepEqual(
      back.pending?.parts.map((x) => [x.kind, x.change.delta]),
      [
        ['pay', [-2n, 2n]],
        ['pay', [-3n, 3n]],
        ['pay', [-4n, 4n]],
      ],
    )
    // A record written by the version before merged updates (schema 1): Alice's pending v1 paying 7 (ref 42).
    const old = decodeRecord(Buffer.from(SCHEMA_1_RECORD, 'hex'))
    assert.equal(old.pending?.parts.length, 0)
    assert.equal(old.pending.ref, 42)
    assert.deepEqual(old.pending.state.balances, [93n, 57n])
    assert.equal(encodeRecord(old)[0], 3, 'saved again in the current schema')
    assert.ok(bytesEqual(decodeRecord(encodeRecord(old)).pending?.digest as Uint8Array, old.pending.digest))
    alice.stop()
    bob.stop()
    await Promise.allSettled(jobs)
  })
})


/** Generated by the payment-channel code before merged updates (main at c2fde01): a machine with a pending proposal. */
const SCHEMA_1_RECORD =
  '0143a2c94da3f8d975caaf530577a10acc90727a6f10cc5485af3cada673af9c3a0000000000007a6900000000000000000000000000000000000000cc0000000000000007e3cc2f5fd48300e993d69d2be244c27dab75e49d4520685051680d2b70c16768dd4622efa46d293602ccbbf911d3f682b1e12d30df88462b933644a143b52215094b100cfc298844b403ecad315128ae748f68d8748a75ee64bd39b0d1e220f5daadbeabfe1277a0c0fa016401320000000a0000000a00000143a2c94da3f8d975caaf530577a10acc90727a6f10cc5485af3cada673af9c3a000000000000000001640132000000000000000040ebeb86c4df021d4cddf68e236b48bfa514d23f56999e6d78cd656a848add09d01f2f9afca984478512ffc196b0728728013c2779536f37672c025d1901384fa600000040b8bd8b72f8cceb852368234dfd8d3a1bfbd1d00227104bd9b22d930fcdd355f53f50d4aba008e4b434b5405681df6b61c94bf2e663de76adb7c373a32a3e32e10143a2c94da3f8d975caaf530577a10acc90727a6f10cc5485af3cada673af9c3a0000000000000001015d013900000000006a3b2dc510ff53300c9e1288d8a7497798674c37d7944472b7cc63efc2b10f617145aa6964dfde28a69db1f28f60b484fc598c4bd3452a20d902be712b06eab300000000002a000000000000000000'
