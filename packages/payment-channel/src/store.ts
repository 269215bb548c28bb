/**
 * Durable channel records. One record per channel holds everything the
 * protocol needs after a restart: parameters, the newest fully signed state,
 * our half-signed proposal if any, and the fork/top-up markers.
 *
 * `save` is the persistence point of the protocol: when it returns, the record
 * is durable (as durable as the store's mode promises), and only then may the
 * shell send a signature on it.
 *
 * SqliteStore (better-sqlite3): WAL journal, one UPSERT per save in its own
 * transaction. `synchronous`:
 *   - FULL (default): every commit fsyncs the WAL, so a saved record survives
 *     power loss. About 3,700 commits/s on the reference machine.
 *   - NORMAL: WAL commits are not fsynced (only checkpoints are); a process
 *     crash loses nothing, but a power loss or kernel crash can lose the last
 *     commits. A lost commit may be a state we already signed and sent, so on
 *     power loss the node could restart one version behind what the peer
 *     holds — recoverable by resync while the peer is honest, but it breaks
 *     "never sign what is not durable" against a dishonest peer. About 7×
 *     faster. Use it only where that risk is acceptable (benchmarks, tests).
 * Migrations are numbered; `schema_version` records the highest applied.
 *
 * better-sqlite3 is an optional peer dependency, loaded when the first
 * SqliteStore opens: a MemoryStore user installs no native module, and the
 * published types reference none of its types (`SqliteDatabase` below is the
 * part of its API this store uses). Node's built-in `node:sqlite` would need
 * no install at all, but it is not in Node 20 (the supported floor, ≥ 20.19).
 */
import { type Amount, type Codec, InvalidInputError, L2Error, codec, decode, encode } from '@l2bench/core'
import { createRequire } from 'node:module'
import { MAX_MERGE, changeCodec, changeFromWire, changeToWire } from './merge.ts'
import { PHASES } from './phase.ts'
import type { ChannelParams, Machine, Proposal, UpdateKind } from './protocol.ts'
import { MAX_REFUSED, digestOf } from './protocol.ts'
import { type ChannelState, channelIdHex, partyIndex, stateCodec } from './state.ts'
import { channelParamsCodec, paramsFromWire, paramsToWire } from './wire.ts'

export interface ChannelStore {
  /** Durably writes the whole record of a channel (atomic: all or nothing). */
  save(machine: Machine): void
  /** Durably writes several channels' records in one transaction (atomic: all or none; one fsync). Without it they are saved one by one. */
  saveMany?(machines: readonly Machine[]): void
  load(channelId: Uint8Array): Machine | undefined
  loadAll(): Machine[]
  close(): void
}

const KINDS = ['pay', 'update', 'close', 'topUp'] as const satisfies readonly UpdateKind[]
const PART_KINDS = ['pay', 'update'] as const

const pendingFields = {
  state: stateCodec,
  sig: codec.fixedBytes(64),
  kind: codec.enumeration(KINDS),
  topUp: codec.amount,
  ref: codec.u32,
}

/** The record up to the pending proposal, which schema 2 extends with the parts of a merged proposal. */
function recordFieldsWith<P>(pending: Codec<P>) {
  return {
    schema: codec.u8,
    params: channelParamsCodec,
    me: partyIndex,
    phase: codec.enumeration(PHASES),
    state: stateCodec,
    sigA: codec.bytes(64),
    sigB: codec.bytes(64),
    pending: codec.optional(pending),
    ...tailFields,
  }
}

const tailFields = {
  unconfirmed: codec.optional(codec.u64),
  forkVersion: codec.optional(codec.u64),
  deferred: codec.list(codec.struct({ version: codec.u64, amount: codec.amount }), 1024),
  awaitingDeposit: codec.optional(codec.amount),
  topUpFallback: codec.optional(codec.struct({ state: stateCodec, sigA: codec.fixedBytes(64), sigB: codec.fixedBytes(64) })),
  topUpParty: codec.optional(partyIndex),
}

const proposalCodec = codec.struct({
  ...pendingFields,
  parts: codec.list(codec.struct({ ref: codec.u32, kind: codec.enumeration(PART_KINDS), change: changeCodec }), MAX_MERGE),
})
type WireProposal = codec.Infer<typeof proposalCodec>

/** Schema 1: no merged proposals (still read). */
const recordCodecV1 = codec.struct(recordFieldsWith(codec.struct(pendingFields)))
/** Schema 2: no refused proposals (still read). */
const recordCodecV2 = codec.struct(recordFieldsWith(proposalCodec))
/** Schema 3: the proposals the peer refused at the next version, whose signatures it holds (Machine.refused). */
const recordCodec = codec.struct({ ...recordFieldsWith(proposalCodec), refused: codec.list(proposalCodec, MAX_REFUSED + 1) })

const RECORD_SCHEMA = 3

function proposalToWire(p: Proposal): WireProposal {
  return {
    state: p.state,
    sig: p.sig,
    kind: p.kind,
    topUp: p.topUp,
    ref: p.ref >>> 0,
    parts: p.parts.map((x) => ({ ref: x.ref >>> 0, kind: x.kind, change: changeToWire(x.change) })),
  }
}

function proposalFromWire(params: ChannelParams, ps: WireProposal): Proposal {
  return {
    state: ps.state,
    digest: digestOf(params, ps.state),
    sig: ps.sig,
    kind: ps.kind,
    topUp: ps.topUp,
    ref: ps.ref,
    parts: ps.parts.map((x) => ({ ref: x.ref, kind: x.kind, change: changeFromWire(x.change) })),
    sentAt: 0,
    attempts: 1,
    timedOut: false,
  }
}

export function encodeRecord(m: Machine): Uint8Array {
  const p = m.params
  return encode(recordCodec, {
    schema: RECORD_SCHEMA,
    params: paramsToWire(p),
    me: m.me,
    phase: m.phase,
    state: m.latest.state,
    sigA: m.latest.sigs[0],
    sigB: m.latest.sigs[1],
    pending: m.pending === undefined ? undefined : proposalToWire(m.pending),
    unconfirmed: m.unconfirmed,
    forkVersion: m.forkVersion,
    deferred: m.deferred,
    awaitingDeposit: m.awaitingDeposit,
    topUpFallback:
      m.topUpFallback === undefined
        ? undefined
        : { state: m.topUpFallback.state, sigA: m.topUpFallback.sigs[0] as Uint8Array, sigB: m.topUpFallback.sigs[1] as Uint8Array },
    topUpParty: m.topUpParty,
    refused: (m.refused ?? []).map(proposalToWire),
  })
}

export function decodeRecord(bytes: Uint8Array): Machine {
  const schema = bytes[0]
  if (schema !== 1 && schema !== 2 && schema !== RECORD_SCHEMA) throw new InvalidInputError('schema', `unknown record schema ${String(schema)}`)
  const r =
    schema === 1
      ? (() => {
          const v1 = decode(recordCodecV1, bytes, { maxSize: 1 << 24 })
          return { ...v1, pending: v1.pending === undefined ? undefined : { ...v1.pending, parts: [] }, refused: [] }
        })()
      : schema === 2
        ? { ...decode(recordCodecV2, bytes, { maxSize: 1 << 24 }), refused: [] }
        : decode(recordCodec, bytes, { maxSize: 1 << 24 })
  const params: ChannelParams = paramsFromWire(r.params)
  const state: ChannelState = r.state
  const pending = r.pending === undefined ? undefined : proposalFromWire(params, r.pending)
  return {
    params,
    me: r.me,
    phase: r.phase,
    latest: { state, digest: digestOf(params, state), sigs: [r.sigA, r.sigB] },
    pending,
    unconfirmed: r.unconfirmed,
    forkVersion: r.forkVersion,
    deferred: r.deferred as { version: bigint; amount: Amount }[],
    awaitingDeposit: r.awaitingDeposit,
    topUpFallback:
      r.topUpFallback === undefined
        ? undefined
        : { state: r.topUpFallback.state, digest: digestOf(params, r.topUpFallback.state), sigs: [r.topUpFallback.sigA, r.topUpFallback.sigB] },
    topUpParty: r.topUpParty,
    ...(r.refused.length === 0 ? {} : { refused: r.refused.map((x) => proposalFromWire(params, x)) }),
  }
}

/** In-memory store (tests, benchmarks): records are encoded so it shares every code path but the disk. */
export class MemoryStore implements ChannelStore {
  readonly records = new Map<string, Uint8Array>()
  saves = 0
  save(machine: Machine): void {
    this.records.set(channelIdHex(machine.params.channelId), encodeRecord(machine))
    this.saves++
  }
  saveMany(machines: readonly Machine[]): void {
    const encoded = machines.map((m) => [channelIdHex(m.params.channelId), encodeRecord(m)] as const)
    for (const [k, r] of encoded) this.records.set(k, r)
    this.saves++
  }
  load(channelId: Uint8Array): Machine | undefined {
    const r = this.records.get(channelIdHex(channelId))
    return r === undefined ? undefined : decodeRecord(r)
  }
  loadAll(): Machine[] {
    return [...this.records.values()].map(decodeRecord)
  }
  close(): void {}
}

export type SyncMode = 'FULL' | 'NORMAL'

export interface SqliteStoreOptions {
  /** Default FULL (see the module comment for the trade-off). */
  synchronous?: SyncMode
}

interface Migration {
  version: number
  sql: string
}

/** Numbered schema migrations; append only. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `CREATE TABLE channels (
      id TEXT PRIMARY KEY,
      record BLOB NOT NULL,
      version INTEGER NOT NULL,
      phase TEXT NOT NULL,
      updated INTEGER NOT NULL
    )`,
  },
  {
    version: 2,
    sql: 'CREATE INDEX channels_phase ON channels(phase)',
  },
]

/** A prepared statement of better-sqlite3 (the part this store uses). */
export interface SqliteStatement {
  run(...params: unknown[]): unknown
  get(...params: unknown[]): unknown
  all(...params: unknown[]): unknown[]
}

/** A better-sqlite3 Database (the part this store uses). */
export interface SqliteDatabase {
  readonly open: boolean
  pragma(source: string, options?: { simple?: boolean }): unknown
  prepare(sql: string): SqliteStatement
  exec(sql: string): unknown
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void
  close(): unknown
}

let openSqlite: ((path: string) => SqliteDatabase) | undefined

/** Opens a database with better-sqlite3, loading it on first use; a typed error names the missing peer dependency. */
function openDatabase(path: string): SqliteDatabase {
  if (openSqlite === undefined) {
    let Database: new (path: string) => SqliteDatabase
    try {
      Database = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => SqliteDatabase
    } catch (err) {
      throw new L2Error('MISSING_PEER_DEPENDENCY', `SqliteStore needs better-sqlite3, an optional peer dependency: npm install better-sqlite3 (${(err as Error).message.split('\n')[0]})`, {
        field: 'better-sqlite3',
        cause: err,
      })
    }
    openSqlite = (p) => new Database(p)
  }
  return openSqlite(path)
}

function row(m: Machine): unknown[] {
  return [channelIdHex(m.params.channelId), encodeRecord(m), Number(m.latest.state.version), m.phase, Date.now()]
}

export class SqliteStore implements ChannelStore {
  readonly db: SqliteDatabase
  readonly synchronous: SyncMode
  private readonly upsert: SqliteStatement
  private readonly selectOne: SqliteStatement
  private readonly selectAll: SqliteStatement
  private readonly upsertMany: (rows: readonly (readonly unknown[])[]) => void
  /** Commits (transactions): one per save, one per saveMany. */
  saves = 0
  /** Records written (a saveMany writes several in one commit). */
  written = 0

  constructor(readonly path: string, options: SqliteStoreOptions = {}) {
    this.synchronous = options.synchronous ?? 'FULL'
    if (this.synchronous !== 'FULL' && this.synchronous !== 'NORMAL')
      throw new InvalidInputError('synchronous', `expected FULL or NORMAL, got ${String(this.synchronous)}`)
    this.db = openDatabase(path)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma(`synchronous = ${this.synchronous}`)
    this.migrate()
    this.upsert = this.db.prepare(
      'INSERT INTO channels (id, record, version, phase, updated) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT(id) DO UPDATE SET record = excluded.record, version = excluded.version, phase = excluded.phase, updated = excluded.updated',
    )
    this.selectOne = this.db.prepare('SELECT record FROM channels WHERE id = ?')
    this.selectAll = this.db.prepare('SELECT record FROM channels ORDER BY id')
    this.upsertMany = this.db.transaction((rows: readonly (readonly unknown[])[]) => {
      for (const row of rows) this.upsert.run(...row)
    })
  }

  schemaVersion(): number {
    const row = this.db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null }
    return row.v ?? 0
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)')
    const current = this.schemaVersion()
    const apply = this.db.transaction((m: Migration) => {
      this.db.exec(m.sql)
      this.db.prepare('INSERT INTO schema_version (version, applied) VALUES (?, ?)').run(m.version, Date.now())
    })
    for (const m of MIGRATIONS) if (m.version > current) apply(m)
  }

  save(machine: Machine): void {
    // Autocommit: one statement is one transaction, one WAL commit (one fsync under FULL).
    this.upsert.run(...row(machine))
    this.saves++
    this.written++
  }

  /** The group commit: every record in one transaction, one WAL commit (one fsync under FULL); on error none is written. */
  saveMany(machines: readonly Machine[]): void {
    this.upsertMany(machines.map(row))
    this.saves++
    this.written += machines.length
  }

  load(channelId: Uint8Array): Machine | undefined {
    const row = this.selectOne.get(channelIdHex(channelId)) as { record: Uint8Array } | undefined
    return row === undefined ? undefined : decodeRecord(new Uint8Array(row.record))
  }

  loadAll(): Machine[] {
    return (this.selectAll.all() as { record: Uint8Array }[]).map((r) => decodeRecord(new Uint8Array(r.record)))
  }

  close(): void {
    if (this.db.open) this.db.close()
  }
}
