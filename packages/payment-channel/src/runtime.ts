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
 * Requests (pay, update, top-up, close) queue per channel and run one at a
 * time. A request whose proposal loses a crossing or is rejected is retried
 * on top of the new state, at most `maxConflicts` / `maxRejections` times;
 * then it fails with a typed error (CONFLICT / REJECTED) instead of re-signing
 * forever against a peer that refuses everything.
 */
import type { Address, Amount } from '@l2bench/core'
import { ChannelError } from './errors.ts'
import { acceptsUpdates, isSettled } from './phase.ts'
import { type Effect, type Event, type Machine, type StepContext, type UpdateKind, step } from './protocol.ts'
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
}

export interface ChannelSlot {
  machine: Machine
  queue: Request[]
  inFlight: Request | undefined
  /** A request the machine proposed together with the previous one's completion (see NextUpdate). */
  chained?: Request | undefined
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
  signed(signed: SignedState): void
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

let nextRef = 1
export function newRef(): number {
  return nextRef++ >>> 0
}

export class Runtime {
  readonly channels = new Map<string, ChannelSlot>()
  stopped = false

  constructor(
    readonly ctx: StepContext,
    readonly store: ChannelStore,
    private readonly hooks: RuntimeHooks,
    private readonly now: () => number,
    private readonly limits: RetryLimits,
  ) {}

  /** (Re)loads every channel from the store; queued requests of an earlier life are gone. */
  load(): Machine[] {
    this.channels.clear()
    const all = this.store.loadAll()
    for (const m of all) this.channels.set(channelIdHex(m.params.channelId), { machine: m, queue: [], inFlight: undefined })
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
    this.channels.set(key, { machine, queue: [], inFlight: undefined })
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

  /** Runs one event through `step` and executes its effects in order. Throws what step throws. */
  dispatch(key: string, ev: Event, offered?: Request): void {
    const slot = this.channels.get(key)
    if (slot === undefined) throw new ChannelError('UNKNOWN_CHANNEL', 'channelId', 'unknown channel')
    if (this.stopped) throw new ChannelError('STOPPED', 'node', 'node stopped')
    const { machine, effects } = step(this.ctx, slot.machine, ev)
    if (offered !== undefined && machine.pending?.ref === offered.ref && slot.queue[0] === offered) {
      // The machine took the offered request: it is in flight once its 'completed' for the previous one has run.
      slot.queue.shift()
      slot.chained = offered
    }
    // A failing persist stops everything after it. The new machine is
    // installed before any outward effect runs, so a re-entrant call (a
    // listener paying from its callback) sees it.
    let installed = false
    for (const eff of effects) {
      if (eff.type === 'persist') {
        this.persist(eff.machine)
        continue
      }
      if (!installed) {
        slot.machine = machine
        installed = true
      }
      this.runEffect(key, slot, eff)
    }
    if (!installed) slot.machine = machine
    this.pump(key, slot)
  }

  /** Feeds `ev` and records instead of throwing (timers, resyncs, L1 events). */
  tryDispatch(key: string, ev: Event, record: (err: unknown) => void): void {
    try {
      this.dispatch(key, ev)
    } catch (err) {
      record(err)
    }
  }

  private persist(machine: Machine): void {
    if (this.stopped) throw new ChannelError('STOPPED', 'node', 'node stopped')
    try {
      this.store.save(machine)
    } catch (err) {
      this.hooks.failed(err)
      throw err
    }
  }

  private runEffect(key: string, slot: ChannelSlot, eff: Exclude<Effect, { type: 'persist' }>): void {
    const h = this.hooks
    switch (eff.type) {
      case 'send':
        h.send(this.peerOf(slot.machine), eff.msg)
        return
      case 'completed': {
        const r = slot.inFlight
        if (r !== undefined && r.ref === eff.ref) {
          slot.inFlight = slot.chained
          slot.chained = undefined
          r.resolve(eff.version)
        }
        return
      }
      case 'received':
        h.payment({ channelId: `0x${key}`, amount: eff.amount, version: eff.version })
        return
      case 'retry': {
        const r = slot.inFlight
        if (r === undefined || r.ref !== eff.ref) return
        slot.inFlight = undefined
        if (eff.reason === 'rejected') r.rejections++
        else r.conflicts++
        if (r.rejections > this.limits.maxRejections)
          r.reject(new ChannelError('REJECTED', 'channelId', `peer refused the update ${r.rejections} times (${eff.code ?? 'no reason'})`))
        else if (r.conflicts > this.limits.maxConflicts)
          r.reject(new ChannelError('CONFLICT', 'channelId', `the update lost ${r.conflicts} crossings in a row`))
        else slot.queue.unshift(r)
        return
      }
      case 'timeout': {
        const r = slot.inFlight
        if (r !== undefined && r.ref === eff.ref) {
          slot.inFlight = undefined
          r.reject(new ChannelError('TIMEOUT', 'channelId', `no countersignature for v${eff.version}; close with the latest state if the peer stays silent`))
        }
        return
      }
      case 'final':
        h.final(key, eff.signed)
        for (const r of slot.queue.splice(0)) r.reject(new ChannelError('CHANNEL_CLOSED', 'channelId', 'channel is closing'))
        return
      case 'signed':
        h.signed(eff.signed)
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

  /** Starts the next queued request when the machine is idle. */
  pump(key: string, slot: ChannelSlot): void {
    const m = slot.machine
    if (slot.inFlight !== undefined || slot.queue.length === 0 || this.stopped) return
    if (m.pending !== undefined || m.unconfirmed !== undefined || m.awaitingDeposit !== undefined || !acceptsUpdates(m.phase)) {
      if (m.phase === 'closing' || isSettled(m.phase))
        for (const r of slot.queue.splice(0)) r.reject(new ChannelError('CHANNEL_CLOSED', 'channelId', `channel is ${m.phase}`))
      return
    }
    const r = slot.queue.shift() as Request
    let next: ChannelState
    try {
      next = r.build(m.latest.state)
    } catch (err) {
      r.reject(err as Error)
      this.pump(key, slot)
      return
    }
    slot.inFlight = r
    try {
      this.dispatch(key, { type: 'update', next, kind: r.kind, ref: r.ref, topUp: r.topUp, now: this.now() })
    } catch (err) {
      if (slot.inFlight === r) slot.inFlight = undefined
      r.reject(err as Error)
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

  /** Rejects every waiting request (the node stops). */
  rejectAll(err: Error): void {
    for (const slot of this.channels.values()) {
      const all = [slot.inFlight, slot.chained, ...slot.queue].filter((r): r is Request => r !== undefined)
      slot.chained = undefined
      slot.queue = []
      slot.inFlight = undefined
      for (const r of all) r.reject(err)
    }
  }
}
