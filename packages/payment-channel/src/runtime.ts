/**
 * The runtime: one slot per channel (its machine and its queue of requests)
 * and the loop that feeds events through `step` and runs the effects.
 *
 * It is the only writer of `slot.machine` and the only caller of
 * `store.save`. Effects run strictly in order, and `persist` comes first: if
 * the store throws (disk full, injected crash) nothing after it runs, the
 * node is told (`failed`), and no signature on a non-durable state, no L1
 * transaction, leaves the process. Network, chain and API work is done
 * through the hooks the node installs, so this file imports neither.
 *
 * Requests (pay, update, top-up, close) queue per channel. One proposal is in
 * flight per channel; when requests queue behind it, the next proposal
 * carries up to `maxMerge` of them (merged: one state, one pair of
 * signatures, one commit per side; see merge.ts). Each request is built on
 * the state the ones before it leave, so one that does not apply fails alone
 * with its own error and the rest go out; each resolves with the version of
 * the state that carries it, once that state is countersigned. A request
 * whose proposal loses a crossing or is rejected is retried on top of the new
 * state, at most `maxConflicts` / `maxRejections` times; then it fails with a
 * typed error (CONFLICT / REJECTED) instead of re-signing forever against a
 * peer that refuses everything. When the peer refuses a merged proposal
 * naming one entry, that request alone counts the rejection and is retried on
 * its own; the others are proposed again without it.
 *
 * Group commit (`groupCommit`): the updates of the protocol's hot path
 * (incoming messages and our own proposals) do not write at once. Their
 * machines are installed in memory and their effects wait; once the work
 * already queued has run (a microtask queued behind the frames delivered
 * with it, so no event-loop turn is added to a round trip) the records of
 * every channel that changed are written in one store transaction
 * (`saveMany`: one fsync under SQLite FULL), and only then do the waiting
 * effects run, in order. So no signature,
 * no L1 transaction and no result leaves before the state it depends on is
 * durable — the persistence contract of protocol.ts holds per state — and a
 * failed (or crashed) commit runs none of them. A channel takes one step per
 * batch (its next event commits the batch first), so every effect runs right
 * after the commit of the very record its step wrote. Any other event
 * (timers, reconnections, L1, opening) also commits what waits first, so
 * effects never overtake each other. (Effects never dispatch synchronously:
 * links deliver, listeners and promises run asynchronously.) A step without
 * effects (a confirm, a crossed proposal we win, a stale message) needs no
 * commit and never splits a batch.
 */
import type { Address, Amount } from '@l2bench/core'
import { ChannelError } from './errors.ts'
import { type ProposalPlan, planProposal } from './merge.ts'
import { acceptsUpdates, isSettled } from './phase.ts'
import { type Effect, type Event, type Machine, type StepContext, type UpdateKind, step, yielding } from './protocol.ts'
import { type ChannelState, type SignedState, channelIdHex, other } from './state.ts'
import type { ChannelStore } from './store.ts'
import type { WireMessage } from './wire.ts'

export interface Request {
  ref: number
  kind: UpdateKind
  build: (latest: ChannelState) => ChannelState
  topUp: Amount
  resolve: (v: bigint) => void
  reject: (e: Error) => void
  conflicts: number
  rejections: number
  /** The peer refused a merged proposal because of this request: it goes alone from now on. */
  solo?: boolean
}

export interface ChannelSlot {
  machine: Machine
  queue: Request[]
  /** The requests our pending proposal serves (empty: none in flight). */
  inFlight: Request[]
  /** Requests the machine proposed together with the previous proposal's completion (see NextUpdate). */
  chained: Request[]
}

type Plan = ProposalPlan<Request>
/** The plan the machine asked for while taking a step (set by NextUpdate.plan). */
interface Offered {
  plan?: Plan | undefined
}

export interface PaymentEvent {
  channelId: `0x${string}`
  amount: Amount
  version: bigint
}

/** What the runtime asks of the node around it. */
export interface RuntimeHooks {
  send(peer: Address, msg: WireMessage): void
  /** L1 work after the state it depends on is durable (`fund`, `topUpSigned`). */
  chain(key: string, effect: Extract<Effect, { type: 'fund' | 'topUpSigned' }>): void
  opened(key: string): void
  openFailed(key: string, code: string): void
  final(key: string, signed: SignedState): void
  signed(signed: SignedState, steps?: ChannelState[]): void
  payment(e: PaymentEvent): void
  /** The store failed: the node must stop. */
  failed(err: unknown): void
}

export interface RetryLimits {
  /** Crossings a request may lose before it fails with CONFLICT (default 16). */
  maxConflicts: number
  /** Rejections by the peer before a request fails with REJECTED (default 2). */
  maxRejections: number
}

export interface RuntimeOptions extends RetryLimits {
  /** Most queued requests one proposal carries (1: no merging). */
  maxMerge: number
  /** Commit the records of all channels changed by the work queued at one moment in one store transaction. */
  groupCommit: boolean
}

let nextRef = 1
export function newRef(): number {
  return nextRef++ >>> 0
}

export class Runtime {
  readonly channels = new Map<string, ChannelSlot>()
  stopped = false
  /** Group commit: records written by the next commit (newest per channel), effects waiting for it, channels to pump after. */
  private readonly dirty = new Map<string, Machine>()
  private waiting: (() => void)[] = []
  private readonly touched = new Set<string>()
  /** Channels whose step in the waiting batch wrote or has effects: their next event commits the batch first. */
  private readonly batched = new Set<string>()
  private scheduled = false
  private flushing = false
  /** Store transactions and records written (a transaction may hold several channels' records). */
  readonly commits = { transactions: 0, records: 0 }

  constructor(
    readonly ctx: StepContext,
    readonly store: ChannelStore,
    private readonly hooks: RuntimeHooks,
    private readonly now: () => number,
    private readonly limits: RuntimeOptions,
  ) {}

  /** (Re)loads every channel from the store; queued requests of an earlier life are gone. */
  load(): Machine[] {
    this.discard()
    this.channels.clear()
    const all = this.store.loadAll()
    for (const m of all) this.channels.set(channelIdHex(m.params.channelId), { machine: m, queue: [], inFlight: [], chained: [] })
    return all
  }

  peerOf(m: Machine): Address {
    return m.params.parties[other(m.me)]
  }

  slot(channelId: `0x${string}` | Uint8Array, field = 'channelId'): [string, ChannelSlot] {
    const key = typeof channelId === 'string' ? channelId.toLowerCase().replace(/^0x/, '') : channelId instanceof Uint8Array ? channelIdHex(channelId) : ''
    const slot = this.channels.get(key)
    if (slot === undefined) throw new ChannelError('UNKNOWN_CHANNEL', field, `no channel ${key.slice(0, 16)}…`)
    return [key, slot]
  }

  /** Starts a new channel: the slot exists only if the first step (and its persist) succeeded. */
  install(machine: Machine, ev: Event): string {
    const key = channelIdHex(machine.params.channelId)
    if (this.channels.has(key)) throw new ChannelError('UNKNOWN_CHANNEL', 'params.channelId', 'channel already known')
    this.channels.set(key, { machine, queue: [], inFlight: [], chained: [] })
    const slot = this.channels.get(key) as ChannelSlot
    try {
      this.dispatch(key, ev)
    } catch (err) {
      // Still the machine we started from: its first persist did not happen, so nothing of it exists.
      if (slot.machine === machine) this.channels.delete(key)
      throw err
    }
    return key
  }

  /**
   * A message from the peer. When it may be the countersignature of our
   * proposal and requests wait, the next proposal is offered with it (built
   * on the new state, persisted in the same write).
   */
  deliver(key: string, msg: WireMessage): void {
    const slot = this.channels.get(key)
    if (slot === undefined) throw new ChannelError('UNKNOWN_CHANNEL', 'channelId', 'unknown channel')
    const now = this.now()
    if (msg.type !== 'accept' || slot.inFlight.length === 0 || slot.queue.length === 0) {
      // With a proposal, the peer learns whether updates of ours wait (it then leaves us the next version).
      this.dispatch(key, msg.type === 'propose' && slot.queue.length > 0 ? { type: 'message', msg, now, queued: true } : { type: 'message', msg, now })
      return
    }
    const offered: Offered = {}
    const next = {
      plan: (latest: ChannelState) => {
        offered.plan = this.plan(slot, latest)
        return offered.plan.taken.length === 0 ? undefined : offered.plan
      },
    }
    this.dispatch(key, { type: 'message', msg, now, next }, offered)
  }

  /** Runs one event through `step` and executes its effects in order (or after the group commit). Throws what step throws. */
  dispatch(key: string, ev: Event, offered?: Offered): void {
    const slot = this.channels.get(key)
    if (slot === undefined) throw new ChannelError('UNKNOWN_CHANNEL', 'channelId', 'unknown channel')
    if (this.stopped) throw new ChannelError('STOPPED', 'node', 'node stopped')
    const deferred = this.limits.groupCommit && (ev.type === 'message' || ev.type === 'update')
    // Anything else first commits what waits, so its effects stay behind theirs.
    if (!deferred) this.flush()
    let { machine, effects } = step(this.ctx, slot.machine, ev)
    if (deferred && effects.length > 0 && this.batched.has(key)) {
      // A second step with effects on one channel in one batch: commit the batch first and take the step again
      // on what the commit left (each step's effects run right after the commit of its own record, never a later one).
      this.flush()
      if (offered !== undefined) offered.plan = undefined
      ;({ machine, effects } = step(this.ctx, slot.machine, ev))
    }
    const plan = offered?.plan
    let failed: [Request, unknown][] = []
    if (plan !== undefined && plan.taken.length > 0 && machine.pending?.ref === plan.ref) {
      // The machine took the offered requests: in flight once its 'completed' for the previous proposal has run.
      this.take(slot, plan)
      slot.chained = plan.taken
      failed = plan.failed
    }
    if (deferred) {
      slot.machine = machine
      for (const eff of effects) {
        if (eff.type === 'persist') this.dirty.set(key, eff.machine)
        else this.waiting.push(() => this.runEffect(key, slot, eff))
      }
      if (failed.length > 0) this.waiting.push(() => this.fail(failed))
      this.touched.add(key)
      if (effects.length > 0) this.batched.add(key)
      if (this.dirty.size > 0) this.schedule()
      else this.flush()
      this.pump(key, slot)
      return
    }
    // A failing persist stops everything after it. The new machine is
    // installed before any outward effect runs, so a re-entrant call (a
    // listener paying from its callback) sees it.
    let installed = false
    for (const eff of effects) {
      if (eff.type === 'persist') {
        this.persist([eff.machine])
        continue
      }
      if (!installed) {
        slot.machine = machine
        installed = true
      }
      this.runEffect(key, slot, eff)
    }
    if (!installed) slot.machine = machine
    this.fail(failed)
    this.pump(key, slot)
  }

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    queueMicrotask(() => {
      this.scheduled = false
      this.flush()
    })
  }

  /**
   * The group commit: writes every changed record in one transaction, then
   * runs the effects that waited for it, in order, and pumps the channels
   * involved. A failed write runs none of them (the node stops).
   */
  flush(): void {
    if (this.flushing) return
    this.flushing = true
    try {
      while (!this.stopped && (this.dirty.size > 0 || this.waiting.length > 0)) {
        const records = [...this.dirty.values()]
        const waiting = this.waiting
        this.dirty.clear()
        this.batched.clear()
        this.waiting = []
        if (records.length > 0) {
          try {
            this.persist(records)
          } catch {
            this.discard()
            return
          }
        }
        for (const run of waiting) if (!this.stopped) run()
        const touched = [...this.touched]
        this.touched.clear()
        for (const key of touched) {
          const slot = this.channels.get(key)
          if (slot !== undefined) this.pump(key, slot)
        }
      }
    } finally {
      this.flushing = false
    }
  }

  /** Drops what waits for a commit that will not happen (stop, crash, reload): nothing of it was durable or sent. */
  private discard(): void {
    this.dirty.clear()
    this.waiting = []
    this.touched.clear()
    this.batched.clear()
  }

  /** Feeds `ev` and records instead of throwing (timers, resyncs, L1 events). */
  tryDispatch(key: string, ev: Event, record: (err: unknown) => void): void {
    try {
      this.dispatch(key, ev)
    } catch (err) {
      record(err)
    }
  }

  /** Durably writes `records` (one transaction when the store can, one fsync under SQLite FULL). */
  private persist(records: Machine[]): void {
    if (this.stopped) throw new ChannelError('STOPPED', 'node', 'node stopped')
    try {
      if (records.length === 1) this.store.save(records[0] as Machine)
      else if (this.store.saveMany !== undefined) this.store.saveMany(records)
      else for (const m of records) this.store.save(m)
    } catch (err) {
      this.hooks.failed(err)
      throw err
    }
    this.commits.transactions++
    this.commits.records += records.length
  }

  /** Rejects requests that failed on their own while a proposal was built (after its persist). */
  private fail(failed: [Request, unknown][]): void {
    for (const [r, err] of failed) r.reject(err instanceof Error ? err : new Error(String(err)))
  }

  /** Removes a plan's taken and failed requests from the queue. */
  private take(slot: ChannelSlot, plan: Plan): void {
    const gone = new Set<Request>([...plan.taken, ...plan.failed.map(([r]) => r)])
    slot.queue = slot.queue.filter((r) => !gone.has(r))
  }

  private plan(slot: ChannelSlot, latest: ChannelState): Plan {
    return planProposal(slot.queue, latest, this.limits.maxMerge)
  }

  private runEffect(key: string, slot: ChannelSlot, eff: Exclude<Effect, { type: 'persist' }>): void {
    const h = this.hooks
    switch (eff.type) {
      case 'send':
        h.send(this.peerOf(slot.machine), eff.msg)
        return
      case 'completed': {
        if (eff.late === true) {
          this.completeLate(slot, eff.refs, eff.version)
          return
        }
        const done = slot.inFlight
        if (done[0] !== undefined && done[0].ref === eff.refs[0]) {
          slot.inFlight = slot.chained
          slot.chained = []
          for (const r of done) r.resolve(eff.version)
        }
        return
      }
      case 'received':
        h.payment({ channelId: `0x${key}`, amount: eff.amount, version: eff.version })
        return
      case 'retry': {
        const rs = slot.inFlight
        if (rs[0] === undefined || rs[0].ref !== eff.refs[0]) return
        slot.inFlight = []
        // The peer blamed one entry of a merged proposal: only that request counts the refusal, and goes alone next.
        const blamed = eff.entry === undefined ? undefined : rs[eff.entry]
        if (blamed !== undefined) blamed.solo = true
        const again: Request[] = []
        for (const r of rs) {
          if (blamed === undefined || r === blamed) {
            if (eff.reason === 'rejected') r.rejections++
            else r.conflicts++
          }
          if (r.rejections > this.limits.maxRejections)
            r.reject(new ChannelError('REJECTED', 'channelId', `peer refused the update ${r.rejections} times (${eff.code ?? 'no reason'})`))
          else if (r.conflicts > this.limits.maxConflicts) r.reject(new ChannelError('CONFLICT', 'channelId', `the update lost ${r.conflicts} crossings in a row`))
          else again.push(r)
        }
        slot.queue.unshift(...again)
        return
      }
      case 'timeout': {
        const rs = slot.inFlight
        if (rs[0] !== undefined && rs[0].ref === eff.refs[0]) {
          slot.inFlight = []
          for (const r of rs)
            r.reject(new ChannelError('TIMEOUT', 'channelId', `no countersignature for v${eff.version}; close with the latest state if the peer stays silent`))
        }
        return
      }
      case 'final':
        h.final(key, eff.signed)
        for (const r of slot.queue.splice(0)) r.reject(new ChannelError('CHANNEL_CLOSED', 'channelId', 'channel is closing'))
        return
      case 'signed':
        h.signed(eff.signed, eff.steps)
        return
      case 'opened':
        h.opened(key)
        return
      case 'openFailed':
        h.openFailed(key, eff.code)
        return
      case 'fund':
      case 'topUpSigned':
        h.chain(key, eff)
        return
    }
  }

  /**
   * A refused proposal of ours that the peer countersigned after all: its requests still waiting (queued again
   * after the refusal) are done at `version`. Those that already failed with REJECTED stay failed (README: known limits).
   */
  private completeLate(slot: ChannelSlot, refs: readonly number[], version: bigint): void {
    const carried = new Set(refs)
    const done = slot.queue.filter((r) => carried.has(r.ref))
    if (done.length === 0) return
    slot.queue = slot.queue.filter((r) => !carried.has(r.ref))
    for (const r of done) r.resolve(version)
  }

  /** Proposes the next queued request(s) when the machine is idle (and the next version is not the peer's turn). */
  pump(key: string, slot: ChannelSlot): void {
    const m = slot.machine
    if (slot.inFlight.length > 0 || this.stopped) return
    if (slot.queue.length === 0) {
      this.pass(key, m)
      return
    }
    if (m.pending !== undefined || m.unconfirmed !== undefined || m.awaitingDeposit !== undefined || yielding(m) || !acceptsUpdates(m.phase)) {
      if (m.phase === 'closing' || isSettled(m.phase))
        for (const r of slot.queue.splice(0)) r.reject(new ChannelError('CHANNEL_CLOSED', 'channelId', `channel is ${m.phase}`))
      return
    }
    const plan = this.plan(slot, m.latest.state)
    this.take(slot, plan)
    this.fail(plan.failed)
    if (plan.taken.length === 0) {
      this.pump(key, slot)
      return
    }
    slot.inFlight = plan.taken
    const { taken, failed: _, ...update } = plan
    try {
      this.dispatch(key, { type: 'update', ...update, now: this.now() })
    } catch (err) {
      if (slot.inFlight === taken) slot.inFlight = []
      for (const r of taken) r.reject(err as Error)
      // The requests behind them are not stranded: each round takes at least one request off the queue.
      if (slot.inFlight.length === 0 && !this.stopped) this.pump(key, slot)
    }
  }

  /** We promised the peer the next version and have nothing to propose: tell it to go on. */
  private pass(key: string, m: Machine): void {
    if (m.promised === undefined || m.promised !== m.latest.state.version + 1n || m.pending !== undefined || m.unconfirmed !== undefined) return
    try {
      this.dispatch(key, { type: 'pass', now: this.now() })
    } catch {
      // A stopped node passes nothing; the peer's turn times out.
    }
  }

  enqueue(channelId: `0x${string}` | Uint8Array, kind: UpdateKind, build: Request['build'], topUp: Amount = 0n): Promise<bigint> {
    const [key, slot] = this.slot(channelId)
    if (this.stopped) return Promise.reject(new ChannelError('STOPPED', 'node', 'node stopped'))
    if (!acceptsUpdates(slot.machine.phase)) return Promise.reject(new ChannelError('CHANNEL_CLOSED', 'channelId', `channel is ${slot.machine.phase}`))
    return new Promise<bigint>((resolve, reject) => {
      slot.queue.push({ ref: newRef(), kind, build, topUp, resolve, reject, conflicts: 0, rejections: 0 })
      this.pump(key, slot)
    })
  }

  /** Rejects every waiting request and drops what waits for a commit (the node stops). */
  rejectAll(err: Error): void {
    this.discard()
    for (const slot of this.channels.values()) {
      const all = [...slot.inFlight, ...slot.chained, ...slot.queue]
      slot.chained = []
      slot.queue = []
      slot.inFlight = []
      for (const r of all) r.reject(err)
    }
  }
}
