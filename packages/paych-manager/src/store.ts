/**
 * Durable state of the paych manager: channels, lanes, vouchers, reservations
 * and the chain messages in flight (the outbox). Two implementations of one
 * synchronous interface: SqliteStore (better-sqlite3, WAL — the real one) and
 * MemoryStore (for benchmarks and throwaway runs).
 *
 * Persistence contract: the manager writes a state change here before it
 * reports it or acts on it, and every multi-row change runs inside
 * `transaction`, so a restart sees either all of it or none. A chain message
 * is stored — signed, with its hash, nonce and the effect it has on its
 * channel — in one transaction before it is broadcast (outbox.ts), so no
 * crash can forget a message that reached the L1.
 */
import Database from 'better-sqlite3'
import { type Address, InvalidInputError } from '@l2bench/core'
import type { TxHash } from '@l2bench/l1-mock'
import type { LaneState } from './rules.ts'

export type Direction = 'inbound' | 'outbound'
/** creating → open → settling → closed; failed when the create message reverted. */
export type ChannelPhase = 'creating' | 'open' | 'settling' | 'closed' | 'failed'

export interface ChannelRecord {
  channel: Address
  direction: Direction
  from: Address
  to: Address
  /** `from`'s registered public key (vouchers are checked against it). */
  fromKey: Uint8Array
  phase: ChannelPhase
  createMessage: TxHash | undefined
  /** Funds our confirmed create/add-funds messages put in (outbound). */
  confirmed: bigint
  /** Funds in the create/add-funds message in flight. */
  pendingAmount: bigint
  pendingMessage: TxHash | undefined
  /** Funds requested while a message was in flight: they go out together in the next one. */
  queued: bigint
  nextLane: number
  settlingAt: number
  /** Creation order (lookup prefers the newest channel). */
  seq: number
}

export interface StoredVoucher {
  channel: Address
  /** Insertion order within the channel. */
  seq: number
  lane: number
  nonce: bigint
  amount: bigint
  /** Canonical encoding of the signed voucher. */
  bytes: Uint8Array
  submitted: boolean
}

export type MessageKind = 'create' | 'addFunds' | 'settle' | 'collect' | 'submit'

/** A chain message written ahead of its broadcast, kept until its outcome is processed. */
export interface PendingMessage {
  hash: TxHash
  channel: Address
  kind: MessageKind
  amount: bigint
  /** For 'submit': the voucher's lane and nonce. */
  lane: number
  nonce: bigint
  /** The L1 transaction nonce it holds. */
  txNonce: bigint
  /** The signed transaction (signedTxCodec), to broadcast again after a restart; undefined in rows of older files. */
  raw: Uint8Array | undefined
}

export interface PaychStore {
  getChannel(channel: Address): ChannelRecord | undefined
  putChannel(rec: ChannelRecord): void
  /** Removes a channel record (a create the L1 refused: the channel never existed). */
  deleteChannel(channel: Address): void
  listChannels(): ChannelRecord[]
  lanes(channel: Address): Map<number, LaneState>
  putLane(channel: Address, lane: number, state: LaneState): void
  vouchers(channel: Address): StoredVoucher[]
  addVoucher(v: StoredVoucher): void
  setSubmitted(channel: Address, seq: number, submitted: boolean): void
  reserved(channel: Address): bigint
  setReserved(channel: Address, amount: bigint): void
  pending(): PendingMessage[]
  putPending(m: PendingMessage): void
  deletePending(hash: TxHash): void
  /** Runs `fn` atomically (all its writes or none). */
  transaction<T>(fn: () => T): T
  close(): void
}

const copyRec = (r: ChannelRecord): ChannelRecord => ({ ...r, fromKey: r.fromKey.slice() })

/** Map-backed store: same semantics, nothing survives the process. */
export class MemoryStore implements PaychStore {
  private readonly channels = new Map<Address, ChannelRecord>()
  private readonly laneMap = new Map<Address, Map<number, LaneState>>()
  private readonly voucherMap = new Map<Address, StoredVoucher[]>()
  private readonly reservations = new Map<Address, bigint>()
  private readonly messages = new Map<TxHash, PendingMessage>()

  getChannel(channel: Address) {
    const r = this.channels.get(channel)
    return r === undefined ? undefined : copyRec(r)
  }
  putChannel(rec: ChannelRecord) {
    this.channels.set(rec.channel, copyRec(rec))
  }
  deleteChannel(channel: Address) {
    this.channels.delete(channel)
    this.reservations.delete(channel)
  }
  listChannels() {
    return [...this.channels.values()].map(copyRec)
  }
  lanes(channel: Address) {
    return new Map([...(this.laneMap.get(channel) ?? new Map<number, LaneState>())].map(([k, v]) => [k, { ...v }]))
  }
  putLane(channel: Address, lane: number, state: LaneState) {
    let m = this.laneMap.get(channel)
    if (m === undefined) {
      m = new Map()
      this.laneMap.set(channel, m)
    }
    m.set(lane, { ...state })
  }
  vouchers(channel: Address) {
    return (this.voucherMap.get(channel) ?? []).map((v) => ({ ...v }))
  }
  addVoucher(v: StoredVoucher) {
    let list = this.voucherMap.get(v.channel)
    if (list === undefined) {
      list = []
      this.voucherMap.set(v.channel, list)
    }
    list.push({ ...v })
  }
  setSubmitted(channel: Address, seq: number, submitted: boolean) {
    const v = this.voucherMap.get(channel)?.find((x) => x.seq === seq)
    if (v !== undefined) v.submitted = submitted
  }
  reserved(channel: Address) {
    return this.reservations.get(channel) ?? 0n
  }
  setReserved(channel: Address, amount: bigint) {
    this.reservations.set(channel, amount)
  }
  pending() {
    return [...this.messages.values()].map((m) => ({ ...m, raw: m.raw?.slice() }))
  }
  putPending(m: PendingMessage) {
    this.messages.set(m.hash, { ...m, raw: m.raw?.slice() })
  }
  deletePending(hash: TxHash) {
    this.messages.delete(hash)
  }
  transaction<T>(fn: () => T): T {
    // Callers validate before writing, so there is nothing to roll back here.
    return fn()
  }
  close() {}
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS channels (
  channel TEXT PRIMARY KEY, direction TEXT NOT NULL, from_addr TEXT NOT NULL, to_addr TEXT NOT NULL,
  from_key BLOB NOT NULL, phase TEXT NOT NULL, create_message TEXT, confirmed TEXT NOT NULL,
  pending_amount TEXT NOT NULL, pending_message TEXT, queued TEXT NOT NULL, next_lane INTEGER NOT NULL,
  settling_at INTEGER NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS lanes (
  channel TEXT NOT NULL, lane INTEGER NOT NULL, nonce TEXT NOT NULL, redeemed TEXT NOT NULL,
  PRIMARY KEY (channel, lane));
CREATE TABLE IF NOT EXISTS vouchers (
  channel TEXT NOT NULL, seq INTEGER NOT NULL, lane INTEGER NOT NULL, nonce TEXT NOT NULL,
  amount TEXT NOT NULL, bytes BLOB NOT NULL, submitted INTEGER NOT NULL, PRIMARY KEY (channel, seq));
CREATE TABLE IF NOT EXISTS reservations (channel TEXT PRIMARY KEY, amount TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pending_messages (
  hash TEXT PRIMARY KEY, channel TEXT NOT NULL, kind TEXT NOT NULL, amount TEXT NOT NULL,
  lane INTEGER NOT NULL, nonce TEXT NOT NULL, tx_nonce TEXT NOT NULL DEFAULT '0', raw BLOB);
`

interface PendingRow {
  hash: string
  channel: string
  kind: string
  amount: string
  lane: number
  nonce: string
  tx_nonce: string
  raw: Buffer | null
}

export interface SqliteStoreOptions {
  /**
   * FULL (default): every commit is fsynced before it returns, so a message is
   * on disk before it is broadcast even across a power loss. NORMAL: WAL
   * frames are fsynced at checkpoints only; durable across a process crash,
   * not an OS crash.
   */
  synchronous?: 'FULL' | 'NORMAL'
}

interface ChannelRow {
  channel: string
  direction: string
  from_addr: string
  to_addr: string
  from_key: Buffer
  phase: string
  create_message: string | null
  confirmed: string
  pending_amount: string
  pending_message: string | null
  queued: string
  next_lane: number
  settling_at: number
  seq: number
}

function rowToRec(r: ChannelRow): ChannelRecord {
  return {
    channel: r.channel as Address,
    direction: r.direction as Direction,
    from: r.from_addr as Address,
    to: r.to_addr as Address,
    fromKey: new Uint8Array(r.from_key),
    phase: r.phase as ChannelPhase,
    createMessage: (r.create_message ?? undefined) as TxHash | undefined,
    confirmed: BigInt(r.confirmed),
    pendingAmount: BigInt(r.pending_amount),
    pendingMessage: (r.pending_message ?? undefined) as TxHash | undefined,
    queued: BigInt(r.queued),
    nextLane: r.next_lane,
    settlingAt: r.settling_at,
    seq: r.seq,
  }
}

/** better-sqlite3 store in WAL mode; one file per manager. */
export class SqliteStore implements PaychStore {
  readonly db: Database.Database
  private readonly st: Record<string, Database.Statement>

  constructor(
    readonly path: string,
    options: SqliteStoreOptions = {},
  ) {
    const sync = options.synchronous ?? 'FULL'
    if (sync !== 'FULL' && sync !== 'NORMAL') throw new InvalidInputError('synchronous', `expected FULL or NORMAL, got ${String(sync)}`)
    this.db = new Database(path)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma(`synchronous = ${sync}`)
    this.db.exec(SCHEMA)
    // Files written before the outbox kept the signed transaction: add its columns.
    const cols = (this.db.pragma('table_info(pending_messages)') as Array<{ name: string }>).map((c) => c.name)
    if (!cols.includes('tx_nonce')) this.db.exec("ALTER TABLE pending_messages ADD COLUMN tx_nonce TEXT NOT NULL DEFAULT '0'")
    if (!cols.includes('raw')) this.db.exec('ALTER TABLE pending_messages ADD COLUMN raw BLOB')
    const p = (sql: string) => this.db.prepare(sql)
    this.st = {
      getChannel: p('SELECT * FROM channels WHERE channel = ?'),
      putChannel: p(`INSERT OR REPLACE INTO channels VALUES (@channel, @direction, @from_addr, @to_addr, @from_key, @phase,
        @create_message, @confirmed, @pending_amount, @pending_message, @queued, @next_lane, @settling_at, @seq)`),
      deleteChannel: p('DELETE FROM channels WHERE channel = ?'),
      deleteReservation: p('DELETE FROM reservations WHERE channel = ?'),
      listChannels: p('SELECT * FROM channels ORDER BY seq'),
      lanes: p('SELECT lane, nonce, redeemed FROM lanes WHERE channel = ?'),
      putLane: p('INSERT OR REPLACE INTO lanes VALUES (?, ?, ?, ?)'),
      vouchers: p('SELECT * FROM vouchers WHERE channel = ? ORDER BY seq'),
      addVoucher: p('INSERT INTO vouchers VALUES (?, ?, ?, ?, ?, ?, ?)'),
      setSubmitted: p('UPDATE vouchers SET submitted = ? WHERE channel = ? AND seq = ?'),
      reserved: p('SELECT amount FROM reservations WHERE channel = ?'),
      setReserved: p('INSERT OR REPLACE INTO reservations VALUES (?, ?)'),
      pending: p('SELECT hash, channel, kind, amount, lane, nonce, tx_nonce, raw FROM pending_messages'),
      putPending: p(
        'INSERT OR REPLACE INTO pending_messages (hash, channel, kind, amount, lane, nonce, tx_nonce, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      deletePending: p('DELETE FROM pending_messages WHERE hash = ?'),
    }
  }

  private s(name: string): Database.Statement {
    return this.st[name] as Database.Statement
  }

  getChannel(channel: Address) {
    const r = this.s('getChannel').get(channel) as ChannelRow | undefined
    return r === undefined ? undefined : rowToRec(r)
  }
  putChannel(r: ChannelRecord) {
    this.s('putChannel').run({
      channel: r.channel,
      direction: r.direction,
      from_addr: r.from,
      to_addr: r.to,
      from_key: Buffer.from(r.fromKey),
      phase: r.phase,
      create_message: r.createMessage ?? null,
      confirmed: r.confirmed.toString(),
      pending_amount: r.pendingAmount.toString(),
      pending_message: r.pendingMessage ?? null,
      queued: r.queued.toString(),
      next_lane: r.nextLane,
      settling_at: r.settlingAt,
      seq: r.seq,
    })
  }
  deleteChannel(channel: Address) {
    this.s('deleteChannel').run(channel)
    this.s('deleteReservation').run(channel)
  }
  listChannels() {
    return (this.s('listChannels').all() as ChannelRow[]).map(rowToRec)
  }
  lanes(channel: Address) {
    const rows = this.s('lanes').all(channel) as Array<{ lane: number; nonce: string; redeemed: string }>
    return new Map(rows.map((r) => [r.lane, { nonce: BigInt(r.nonce), redeemed: BigInt(r.redeemed) }]))
  }
  putLane(channel: Address, lane: number, state: LaneState) {
    this.s('putLane').run(channel, lane, state.nonce.toString(), state.redeemed.toString())
  }
  vouchers(channel: Address) {
    const rows = this.s('vouchers').all(channel) as Array<{
      channel: string
      seq: number
      lane: number
      nonce: string
      amount: string
      bytes: Buffer
      submitted: number
    }>
    return rows.map((r) => ({
      channel: r.channel as Address,
      seq: r.seq,
      lane: r.lane,
      nonce: BigInt(r.nonce),
      amount: BigInt(r.amount),
      bytes: new Uint8Array(r.bytes),
      submitted: r.submitted === 1,
    }))
  }
  addVoucher(v: StoredVoucher) {
    this.s('addVoucher').run(v.channel, v.seq, v.lane, v.nonce.toString(), v.amount.toString(), Buffer.from(v.bytes), v.submitted ? 1 : 0)
  }
  setSubmitted(channel: Address, seq: number, submitted: boolean) {
    this.s('setSubmitted').run(submitted ? 1 : 0, channel, seq)
  }
  reserved(channel: Address) {
    const r = this.s('reserved').get(channel) as { amount: string } | undefined
    return r === undefined ? 0n : BigInt(r.amount)
  }
  setReserved(channel: Address, amount: bigint) {
    this.s('setReserved').run(channel, amount.toString())
  }
  pending() {
    return (this.s('pending').all() as PendingRow[]).map((r) => ({
      hash: r.hash as TxHash,
      channel: r.channel as Address,
      kind: r.kind as MessageKind,
      amount: BigInt(r.amount),
      lane: r.lane,
      nonce: BigInt(r.nonce),
      txNonce: BigInt(r.tx_nonce),
      raw: r.raw === null ? undefined : new Uint8Array(r.raw),
    }))
  }
  putPending(m: PendingMessage) {
    const raw = m.raw === undefined ? null : Buffer.from(m.raw)
    this.s('putPending').run(m.hash, m.channel, m.kind, m.amount.toString(), m.lane, m.nonce.toString(), m.txNonce.toString(), raw)
  }
  deletePending(hash: TxHash) {
    this.s('deletePending').run(hash)
  }
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)()
  }
  close() {
    if (this.db.open) this.db.close()
  }
}
