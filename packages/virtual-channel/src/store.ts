/**
 * Durable virtual-channel records: what a VirtualNode must not forget across
 * a restart beyond the channel states (those are in payment-channel's
 * ChannelStore, the virtual channel's own machine included).
 *
 * One record per virtual channel this node is in (as Alice, Bob or Ingrid):
 * its parameters, the role, the protocol status, both signatures on
 * version 0, Ingrid's activation, and for Ingrid the final state she settled
 * the ledgers by. A record is saved before anything that depends on it is
 * sent or signed (see node.ts for the order of each step).
 *
 * `SqliteVirtualStore` writes into a better-sqlite3 database the caller
 * opens — typically the very database of the node's `SqliteStore`
 * (`new SqliteVirtualStore(channelStore.db)`), so one file holds a node's
 * state; each put is one autocommit transaction (fsynced under the
 * database's synchronous=FULL).
 */
import { InvalidInputError, codec, decode, encode } from '@l2bench/core'
import { type SignedState, type SqliteDatabase, type SqliteStatement, signedStateCodec } from '@l2bench/payment-channel'
import { type VirtualParams, domainOf, virtualId, virtualParamsCodec } from './params.ts'
import { stateDigest } from '@l2bench/payment-channel'

export const ROLES = ['alice', 'bob', 'ingrid'] as const
export type Role = (typeof ROLES)[number]

/**
 * proposed  Alice sent her proposal to Bob
 * accepted  Bob signed version 0 (waits for the locks and Ingrid's activation)
 * funding   Alice holds both signatures and asked Ingrid; Ingrid locks both ledgers
 * active    Ingrid activated it: payments run
 * settling  a final state is signed; the ledgers are being unlocked by it
 * closed    this node's ledger(s) no longer hold the lock (paid out off or on chain)
 * aborted   never activated; the locks are (being) removed with the deposits
 * disputed  registered on L1: no more updates, the outcome comes from L1
 */
export const STATUSES = ['proposed', 'accepted', 'funding', 'active', 'settling', 'closed', 'aborted', 'disputed'] as const
export type Status = (typeof STATUSES)[number]

export interface VirtualRecord {
  vid: Uint8Array
  params: VirtualParams
  role: Role
  status: Status
  /** Alice's and Bob's signatures on version 0 (empty until known). */
  sigs: readonly [Uint8Array, Uint8Array]
  /** Ingrid's activation (empty until active). */
  activation: Uint8Array
  /** Ingrid: the final state she unlocks both ledgers by (saved before the first unlock is proposed). */
  final: SignedState | undefined
}

const recordCodec = codec.struct({
  schema: codec.u8,
  params: virtualParamsCodec,
  role: codec.enumeration(ROLES),
  status: codec.enumeration(STATUSES),
  sigA: codec.bytes(64),
  sigB: codec.bytes(64),
  activation: codec.bytes(64),
  final: codec.optional(signedStateCodec),
})
const RECORD_SCHEMA = 1

export function encodeRecord(r: VirtualRecord): Uint8Array {
  return encode(recordCodec, {
    schema: RECORD_SCHEMA,
    params: r.params,
    role: r.role,
    status: r.status,
    sigA: r.sigs[0],
    sigB: r.sigs[1],
    activation: r.activation,
    final: r.final === undefined ? undefined : { state: r.final.state, sigA: r.final.sigs[0] as Uint8Array, sigB: r.final.sigs[1] as Uint8Array },
  })
}

export function decodeRecord(bytes: Uint8Array): VirtualRecord {
  const r = decode(recordCodec, bytes, { maxSize: 1 << 16 })
  if (r.schema !== RECORD_SCHEMA) throw new InvalidInputError('schema', `unknown record schema ${r.schema}`)
  const final: SignedState | undefined =
    r.final === undefined ? undefined : { state: r.final.state, digest: stateDigest(domainOf(r.params), r.final.state), sigs: [r.final.sigA, r.final.sigB] }
  return { vid: virtualId(r.params), params: r.params, role: r.role, status: r.status, sigs: [r.sigA, r.sigB], activation: r.activation, final }
}

export interface VirtualStore {
  /** Writes one record (atomic; durable when it returns, as the store's mode promises). */
  save(record: VirtualRecord): void
  loadAll(): VirtualRecord[]
  close(): void
}

/** In memory (tests, benchmarks): records are encoded, so it shares every code path but the disk. */
export class MemoryVirtualStore implements VirtualStore {
  readonly records = new Map<string, Uint8Array>()
  saves = 0
  save(record: VirtualRecord): void {
    this.records.set(Buffer.from(record.vid).toString('hex'), encodeRecord(record))
    this.saves++
  }
  loadAll(): VirtualRecord[] {
    return [...this.records.values()].map(decodeRecord)
  }
  close(): void {}
}

export class SqliteVirtualStore implements VirtualStore {
  private readonly upsert: SqliteStatement
  private readonly selectAll: SqliteStatement
  saves = 0

  /** `db`: an open better-sqlite3 database (e.g. `SqliteStore#db`); the table is created if missing. */
  constructor(readonly db: SqliteDatabase) {
    this.db.exec('CREATE TABLE IF NOT EXISTS virtual_channels (id TEXT PRIMARY KEY, record BLOB NOT NULL, status TEXT NOT NULL)')
    this.upsert = this.db.prepare(
      'INSERT INTO virtual_channels (id, record, status) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record, status = excluded.status',
    )
    this.selectAll = this.db.prepare('SELECT record FROM virtual_channels ORDER BY id')
  }

  save(record: VirtualRecord): void {
    this.upsert.run(Buffer.from(record.vid).toString('hex'), encodeRecord(record), record.status)
    this.saves++
  }

  loadAll(): VirtualRecord[] {
    return (this.selectAll.all() as { record: Uint8Array }[]).map((r) => decodeRecord(new Uint8Array(r.record)))
  }

  /** The database belongs to whoever opened it. */
  close(): void {}
}
