/**
 * Durable HTLC bookkeeping: what an HtlcNode must not forget across a restart
 * (the channel states themselves are in payment-channel's ChannelStore).
 *
 *   htlc          one record per HTLC: the lock, direction, status, route
 *                 instructions, and for an outgoing HTLC the incoming one it
 *                 serves — without it a hop that paid downstream could not
 *                 claim upstream
 *   preimage      every preimage learnt (saved before our policy can accept a
 *                 settle that relies on it)
 *   invoice       the receiver's preimages and amounts
 *   instructions  route instructions received before their HTLC
 *   failure       why a peer failed an HTLC (reported upstream)
 *   meta          the lock-id counter (saved before an id is used)
 *
 * Values are core-codec encodings; a store is a (kind, key) → bytes map.
 * `SqliteHtlcStore` (better-sqlite3, WAL) commits each put in its own
 * transaction; with synchronous = FULL (default) it is on disk when put
 * returns, so the node saves before it sends anything that depends on it.
 */
import { InvalidInputError, codec } from '@l2bench/core'
import { lockedEntryCodec } from '@l2bench/payment-channel'
import Database from 'better-sqlite3'
import { MAX_HOPS, wireHopCodec } from './wire.ts'

export const HTLC_STORE_KINDS = ['htlc', 'preimage', 'invoice', 'instructions', 'failure', 'meta'] as const
export type HtlcStoreKind = (typeof HTLC_STORE_KINDS)[number]

export interface HtlcStore {
  /**
   * Writes (or, with undefined, deletes) one value: durable when it returns —
   * or, for a store with `flush`, by the time `flush` returns.
   */
  put(kind: HtlcStoreKind, key: string, value: Uint8Array | undefined): void
  all(kind: HtlcStoreKind): [string, Uint8Array][]
  /**
   * A store that defers puts (SqliteNodeStore) makes them durable here. The
   * node calls it before anything that may depend on them leaves it: an HTLC
   * message, an L1 transaction (a channel save commits them too, when the
   * node's ChannelStore is the same store). Absent: every put is durable at once.
   */
  flush?(): void
  close(): void
}

export const failureCodec = codec.struct({ code: codec.string(64), reporter: codec.address })

export const htlcRecordCodec = codec.struct({
  channelId: codec.fixedBytes(32),
  entry: lockedEntryCodec,
  incoming: codec.bool,
  status: codec.enumeration(['offering', 'pending', 'settled', 'failed'] as const),
  onChain: codec.bool,
  processed: codec.bool,
  onward: codec.optional(codec.list(wireHopCodec, MAX_HOPS)),
  finalAmount: codec.optional(codec.amount),
  from: codec.optional(codec.string(160)),
  releasedUpstream: codec.bool,
  failure: codec.optional(failureCodec),
})
export type HtlcRecordData = codec.Infer<typeof htlcRecordCodec>

export const invoiceCodec = codec.struct({ preimage: codec.fixedBytes(32), amount: codec.amount })
export const instructionsCodec = codec.struct({ onward: codec.list(wireHopCodec, MAX_HOPS), finalAmount: codec.amount })
export const counterCodec = codec.u64

function checkKind(kind: unknown): asserts kind is HtlcStoreKind {
  if (!(HTLC_STORE_KINDS as readonly unknown[]).includes(kind)) throw new InvalidInputError('kind', `unknown store kind ${String(kind)}`)
}

/** In memory (tests, benchmarks): copies values in and out, like a real store. */
export class MemoryHtlcStore implements HtlcStore {
  private readonly maps = new Map<HtlcStoreKind, Map<string, Uint8Array>>()
  put(kind: HtlcStoreKind, key: string, value: Uint8Array | undefined): void {
    checkKind(kind)
    let m = this.maps.get(kind)
    if (m === undefined) {
      m = new Map()
      this.maps.set(kind, m)
    }
    if (value === undefined) m.delete(key)
    else m.set(key, value.slice())
  }
  all(kind: HtlcStoreKind): [string, Uint8Array][] {
    checkKind(kind)
    return [...(this.maps.get(kind) ?? new Map<string, Uint8Array>())].map(([k, v]) => [k, v.slice()])
  }
  close(): void {}
}

export interface SqliteHtlcStoreOptions {
  /** FULL (default): each put is fsynced; NORMAL: survives a process crash, not a power loss. */
  synchronous?: 'FULL' | 'NORMAL'
}

export class SqliteHtlcStore implements HtlcStore {
  readonly db: Database.Database
  private readonly upsert: Database.Statement
  private readonly remove: Database.Statement
  private readonly select: Database.Statement

  constructor(
    readonly path: string,
    options: SqliteHtlcStoreOptions = {},
  ) {
    const sync = options.synchronous ?? 'FULL'
    if (sync !== 'FULL' && sync !== 'NORMAL') throw new InvalidInputError('synchronous', `expected FULL or NORMAL, got ${String(sync)}`)
    this.db = new Database(path)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma(`synchronous = ${sync}`)
    this.db.exec('CREATE TABLE IF NOT EXISTS htlc_kv (kind TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (kind, key))')
    this.upsert = this.db.prepare('INSERT INTO htlc_kv (kind, key, value) VALUES (?, ?, ?) ON CONFLICT(kind, key) DO UPDATE SET value = excluded.value')
    this.remove = this.db.prepare('DELETE FROM htlc_kv WHERE kind = ? AND key = ?')
    this.select = this.db.prepare('SELECT key, value FROM htlc_kv WHERE kind = ? ORDER BY key')
  }

  put(kind: HtlcStoreKind, key: string, value: Uint8Array | undefined): void {
    checkKind(kind)
    if (value === undefined) this.remove.run(kind, key)
    else this.upsert.run(kind, key, Buffer.from(value))
  }

  all(kind: HtlcStoreKind): [string, Uint8Array][] {
    checkKind(kind)
    return (this.select.all(kind) as { key: string; value: Buffer }[]).map((r) => [r.key, new Uint8Array(r.value)])
  }

  close(): void {
    this.db.close()
  }
}
