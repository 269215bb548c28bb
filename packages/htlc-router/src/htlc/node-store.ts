/**
 * SqliteNodeStore: one SQLite database for a node's channel records
 * (payment-channel's SqliteStore) and its HTLC book, with group commit.
 *
 * HTLC puts are kept in memory until the next commit: a channel save writes
 * them in the same transaction as the channel record (one WAL commit, one
 * fsync under synchronous=FULL, instead of one per put), and `flush` commits
 * them alone. The node flushes before anything that may depend on them
 * leaves it — a fulfil or fail message, an L1 transaction, an invoice's hash
 * — and every signature it sends follows a channel save (route instructions
 * go unflushed: the HTLC they describe is only offered by a proposal, whose
 * save commits its record). So "durable before anyone relies on it" holds as
 * with a store that commits each put: a crash loses only writes nothing
 * outside the node depended on, which is a crash a moment earlier. Everything
 * is atomic: the HTLC records and the channel state they belong to land
 * together or not at all. `saveMany` does the same for the records of
 * several channels (payment-channel's group commit).
 *
 * Under half the commits of two separate stores on a payment's path (a
 * two-hop payment: 15 instead of 34, counted in test/htlc-network.test.ts).
 */
import { InvalidInputError } from '@l2bench/core'
import { type ChannelStore, type Machine, SqliteStore, type SqliteStatement, type SyncMode } from '@l2bench/payment-channel'
import { HTLC_STORE_KINDS, type HtlcStore, type HtlcStoreKind } from './store.ts'

export interface SqliteNodeStoreOptions {
  /** FULL (default): every commit fsynced; NORMAL: survives a process crash, not a power loss. */
  synchronous?: SyncMode
}

export class SqliteNodeStore implements ChannelStore, HtlcStore {
  /** The channel part (its `db` is this store's database). */
  readonly channels: SqliteStore
  /** Commits made (channel saves and flushes), for tests and benchmarks. */
  commits = 0
  private readonly pending = new Map<string, { kind: HtlcStoreKind; key: string; value: Uint8Array | undefined }>()
  private readonly upsert: SqliteStatement
  private readonly remove: SqliteStatement
  private readonly select: SqliteStatement
  private readonly commit: (machine: Machine | undefined) => void
  private readonly commitMany: (machines: readonly Machine[]) => void

  constructor(
    readonly path: string,
    options: SqliteNodeStoreOptions = {},
  ) {
    this.channels = new SqliteStore(path, options)
    const db = this.channels.db
    db.exec('CREATE TABLE IF NOT EXISTS htlc_kv (kind TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (kind, key))')
    this.upsert = db.prepare('INSERT INTO htlc_kv (kind, key, value) VALUES (?, ?, ?) ON CONFLICT(kind, key) DO UPDATE SET value = excluded.value')
    this.remove = db.prepare('DELETE FROM htlc_kv WHERE kind = ? AND key = ?')
    this.select = db.prepare('SELECT key, value FROM htlc_kv WHERE kind = ? ORDER BY key')
    this.commit = db.transaction((machine: Machine | undefined) => {
      for (const w of this.pending.values()) {
        if (w.value === undefined) this.remove.run(w.kind, w.key)
        else this.upsert.run(w.kind, w.key, Buffer.from(w.value))
      }
      if (machine !== undefined) this.channels.save(machine)
    })
    this.commitMany = db.transaction((machines: readonly Machine[]) => {
      this.commit(undefined)
      this.channels.saveMany(machines)
    })
  }

  get synchronous(): SyncMode {
    return this.channels.synchronous
  }

  // ------------------------------------------------------------------ ChannelStore

  /** The channel record and every HTLC write since the last commit, in one transaction. */
  save(machine: Machine): void {
    if (this.pending.size === 0) this.channels.save(machine)
    else {
      this.commit(machine)
      this.pending.clear()
    }
    this.commits++
  }

  /** Several channels' records (payment-channel's group commit) and every HTLC write since the last commit, in one transaction. */
  saveMany(machines: readonly Machine[]): void {
    this.commitMany(machines)
    this.pending.clear()
    this.commits++
  }

  load(channelId: Uint8Array): Machine | undefined {
    return this.channels.load(channelId)
  }

  loadAll(): Machine[] {
    return this.channels.loadAll()
  }

  // ------------------------------------------------------------------ HtlcStore

  put(kind: HtlcStoreKind, key: string, value: Uint8Array | undefined): void {
    if (!(HTLC_STORE_KINDS as readonly unknown[]).includes(kind)) throw new InvalidInputError('kind', `unknown store kind ${String(kind)}`)
    // The last write of a key wins; a copy, as the caller may reuse its buffer.
    this.pending.set(`${kind}\u0000${key}`, { kind, key, value: value?.slice() })
  }

  flush(): void {
    if (this.pending.size === 0) return
    this.commit(undefined)
    this.pending.clear()
    this.commits++
  }

  all(kind: HtlcStoreKind): [string, Uint8Array][] {
    if (!(HTLC_STORE_KINDS as readonly unknown[]).includes(kind)) throw new InvalidInputError('kind', `unknown store kind ${String(kind)}`)
    this.flush()
    return (this.select.all(kind) as { key: string; value: Uint8Array }[]).map((r) => [r.key, new Uint8Array(r.value)])
  }

  /** Commits what is pending, then closes the database. */
  close(): void {
    if (this.channels.db.open) this.flush()
    this.channels.close()
  }
}
