/**
 * ChannelNode: the imperative shell around the pure protocol. It owns a
 * signer, a store, links to peers and an AdjudicatorClient, and exposes the
 * channel API (open, pay, closeCooperative, forceClose, challenge, finalize,
 * topUp, status) plus `on('payment')`.
 *
 * Effects from `step` run strictly in order; if `persist` throws (disk error,
 * injected crash) nothing after it runs, so no signature on a non-durable
 * state ever leaves the process. A malformed frame or a rejected message is
 * recorded (`errors`), answered with `reject` where that helps the peer, and
 * the node keeps serving.
 *
 * The node also watches the adjudicator: when a state older than its own is
 * registered for one of its channels it challenges inside the window (unless
 * `autoChallenge: false`). That needs the node online; a Watchtower covers
 * the time it is not.
 */
import {
  type Address,
  type Amount,
  AmountError,
  DecodeError,
  SignatureError,
  InvalidInputError,
  L2Error,
  type Signer,
  type Verifier,
  bytesEqual,
  nodeVerifier,
  toAddress,
  toAmount,
  toHex,
  toPositiveAmount,
} from '@l2bench/core'
import type { L1, L1Event, Receipt, Unsubscribe, Wallet } from '@l2bench/l1-mock'
import type { Adjudicator, ChannelInfo } from './adjudicator.ts'
import { AdjudicatorClient } from './client.ts'
import { ChannelError } from './errors.ts'
import {
  type ChannelParams,
  type Effect,
  type Event,
  type Machine,
  type UpdateKind,
  type UpdatePolicy,
  type StepContext,
  completeOpen,
  createMachine,
  step,
} from './protocol.ts'
import {
  type ChannelState,
  type LockedEntry,
  type PartyIndex,
  type Penalty,
  type SignedState,
  applyPayment,
  channelIdHex,
  deriveChannelId,
  other,
  stateTotal,
} from './state.ts'
import { isFullySigned } from './phase.ts'
import type { ChannelStore } from './store.ts'
import type { Link } from './transport.ts'
import { type WireMessage, decodeMessage, encodeMessage, paramsToWire } from './wire.ts'

export interface ChannelNodeOptions {
  signer: Signer
  /** Wallet for L1 transactions (its signer may differ from the channel signer). */
  wallet: Wallet
  adjudicator: Adjudicator
  store: ChannelStore
  verifier?: Verifier
  /** Proposal retransmission timeout (ms); default 2,000. */
  timeoutMs?: number
  maxAttempts?: number
  /** Extra checks on the peer's proposals. */
  policy?: UpdatePolicy
  /** `policy` replaces the default one instead of adding to it (see StepContext). */
  policyReplacesDefault?: boolean
  /** Challenge stale registrations automatically (default true). */
  autoChallenge?: boolean
  /** Decide on an incoming channel (default: accept). */
  acceptChannel?: (params: ChannelParams) => boolean
  /** Receives every fully signed state (e.g. a Watchtower's `watch`). */
  onSignedState?: (signed: SignedState) => void
  /** Runs `tick` on a timer (default true; tests drive time themselves with false). */
  timers?: boolean
  now?: () => number
}

export interface OpenParameters {
  peer: Address
  peerPublicKey: Uint8Array
  deposit: Amount
  peerDeposit?: Amount
  /** Dispute window Δ in blocks. */
  disputeWindow: number
  /** Blocks B has to confirm before A may refund. */
  fundingTimeout?: number
  penalty?: Penalty
  nonce?: bigint
}

export interface PayParameters {
  channelId: `0x${string}` | Uint8Array
  amount: Amount
}

export interface PaymentEvent {
  channelId: `0x${string}`
  amount: Amount
  version: bigint
}

export interface ChannelStatus {
  channelId: `0x${string}`
  phase: Machine['phase']
  me: PartyIndex
  peer: Address
  version: bigint
  balances: readonly [Amount, Amount]
  myBalance: Amount
  locked: readonly LockedEntry[]
  pendingVersion: bigint | undefined
  total: Amount
}

interface Request {
  ref: number
  kind: UpdateKind
  build: (latest: ChannelState) => ChannelState
  topUp: Amount
  resolve: (v: bigint) => void
  reject: (e: Error) => void
}

interface ChannelSlot {
  machine: Machine
  queue: Request[]
  inFlight: Request | undefined
  /** A request the machine proposed together with the previous one's completion (see NextUpdate). */
  chained?: Request | undefined
}

type Listener = (e: PaymentEvent) => void

let nextRef = 1

export class ChannelNode {
  readonly signer: Signer
  readonly address: Address
  readonly client: AdjudicatorClient
  readonly store: ChannelStore
  readonly ctx: StepContext
  /** Rejected inputs (typed errors), newest last, capped. */
  readonly errors: L2Error[] = []
  private readonly channels = new Map<string, ChannelSlot>()
  private readonly peers = new Map<Address, Link>()
  private readonly peerWaiters = new Map<Address, (() => void)[]>()
  private readonly listeners = new Set<Listener>()
  private readonly openWaiters = new Map<string, { resolve: () => void; reject: (e: Error) => void }>()
  private readonly finalWaiters = new Map<string, (s: SignedState) => void>()
  /** Opens whose L1 deposit is not done yet (not to be repeated on resync), and incoming opens being processed. */
  private readonly opening = new Set<string>()
  private unsubscribe: Unsubscribe | undefined
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private readonly now: () => number

  constructor(readonly options: ChannelNodeOptions) {
    this.signer = options.signer
    this.address = options.signer.address
    this.store = options.store
    this.client = new AdjudicatorClient(options.wallet, options.adjudicator)
    this.now = options.now ?? Date.now
    this.ctx = {
      signer: options.signer,
      verifier: options.verifier ?? nodeVerifier,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      ...(options.policy === undefined ? {} : { policy: options.policy }),
      ...(options.policyReplacesDefault === undefined ? {} : { policyReplacesDefault: options.policyReplacesDefault }),
    }
    for (const m of this.store.loadAll()) {
      const key = channelIdHex(m.params.channelId)
      this.channels.set(key, { machine: m, queue: [], inFlight: undefined })
      if (m.awaitingDeposit !== undefined) queueMicrotask(() => this.resumeTopUp(key).catch((err) => this.record(err)))
    }
    this.unsubscribe = this.l1.subscribe({ address: options.adjudicator.address }, (e) => this.onL1Event(e), { owner: options.wallet.address })
    if (options.timers !== false) {
      const period = Math.max(10, Math.floor((options.timeoutMs ?? 2_000) / 4))
      this.timer = setInterval(() => this.tick(), period)
      this.timer.unref()
    }
  }

  get l1(): L1 {
    return this.client.l1
  }

  // ------------------------------------------------------------------ links

  /** Uses `link` to talk to whoever says hello on it; resyncs on every (re)open. */
  attach(link: Link): void {
    let peer: Address | undefined
    // Every (re)connection starts with hellos both ways; each hello (re)binds the peer and resyncs its channels.
    link.onOpen(() => {
      link.send(encodeMessage({ type: 'hello', address: this.address, chainId: this.l1.chainId }))
    })
    link.onClose(() => {
      if (peer !== undefined && this.peers.get(peer) === link) this.peers.delete(peer)
    })
    link.onFrame((frame) => {
      if (this.stopped) return
      let msg: WireMessage
      try {
        msg = decodeMessage(frame)
      } catch (err) {
        this.record(err)
        return
      }
      if (msg.type === 'hello') {
        if (peer !== undefined && msg.address !== peer) {
          this.record(new InvalidInputError('address', 'peer already introduced itself on this link'))
          return
        }
        if (msg.chainId !== this.l1.chainId) {
          this.record(new InvalidInputError('chainId', `peer is on chain ${msg.chainId}`))
          link.close()
          return
        }
        peer = msg.address
        this.peers.set(peer, link)
        for (const w of this.peerWaiters.get(peer) ?? []) w()
        this.peerWaiters.delete(peer)
        this.resync(peer)
        return
      }
      if (peer === undefined) {
        this.record(new InvalidInputError('type', `${msg.type} before hello`))
        return
      }
      this.handle(peer, msg)
    })
  }

  /** Resolves once `peer` has said hello on some link (immediately if it already has). */
  whenConnected(peer: Address): Promise<void> {
    const a = toAddress('peer', peer)
    if (this.peers.has(a)) return Promise.resolve()
    return new Promise((resolve) => {
      const list = this.peerWaiters.get(a) ?? []
      list.push(resolve)
      this.peerWaiters.set(a, list)
    })
  }

  /** Whether a link to `peer` is up. */
  isConnected(peer: Address): boolean {
    return this.peers.has(toAddress('peer', peer))
  }

  private resync(peer: Address): void {
    for (const [key, slot] of this.channels) {
      const m = slot.machine
      if (this.peerOf(m) !== peer || m.phase === 'closed') continue
      if (m.phase === 'funding') {
        // An unfinished open resumes: A repeats her request, B finishes his part.
        if (m.me === 0) {
          if (!this.opening.has(key)) this.resumeOpen(key).catch((err) => this.record(err))
        }
        else this.finishFunding(key).catch((err) => this.record(err))
        continue
      }
      try {
        this.dispatch(key, { type: 'connected', now: this.now() })
      } catch (err) {
        this.record(err)
      }
    }
  }

  private peerOf(m: Machine): Address {
    return m.params.parties[other(m.me)]
  }

  private sendTo(peer: Address, msg: WireMessage): void {
    // A stopped (or crashed) node sends nothing.
    if (this.stopped) return
    this.peers.get(peer)?.send(encodeMessage(msg))
  }

  private record(err: unknown): void {
    const e = err instanceof L2Error ? err : new L2Error('INTERNAL', String((err as Error)?.message ?? err), { cause: err })
    this.errors.push(e)
    if (this.errors.length > 1000) this.errors.shift()
  }

  // ------------------------------------------------------------------ events

  on(event: 'payment', listener: Listener): () => void {
    if (event !== 'payment') throw new InvalidInputError('event', `unknown event ${String(event)}`)
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  // ------------------------------------------------------------------ dispatch

  private slot(channelId: `0x${string}` | Uint8Array, field = 'channelId'): [string, ChannelSlot] {
    const key = typeof channelId === 'string' ? channelId.toLowerCase().replace(/^0x/, '') : channelId instanceof Uint8Array ? channelIdHex(channelId) : ''
    const slot = this.channels.get(key)
    if (slot === undefined) throw new ChannelError('UNKNOWN_CHANNEL', field, `no channel ${key.slice(0, 16)}…`)
    return [key, slot]
  }

  /** Runs one event through `step` and executes its effects in order. Throws what step throws. */
  private dispatch(key: string, ev: Event, offered?: Request): void {
    const slot = this.channels.get(key)
    if (slot === undefined) throw new ChannelError('UNKNOWN_CHANNEL', 'channelId', 'unknown channel')
    const { machine, effects } = step(this.ctx, slot.machine, ev)
    if (offered !== undefined && machine.pending?.ref === offered.ref && slot.queue[0] === offered) {
      // The machine took the offered request: it is in flight once its 'completed' for the previous one has run.
      slot.queue.shift()
      slot.chained = offered
    }
    // Effects in order; a failing persist stops everything after it. The new
    // machine is installed before any outward effect runs, so a re-entrant
    // call (a listener paying from its callback) sees it.
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

  private runEffect(key: string, slot: ChannelSlot, eff: Exclude<Effect, { type: 'persist' }>): void {
    const m = slot.machine
    switch (eff.type) {
      case 'send':
        this.sendTo(this.peerOf(m), eff.msg)
        if (this.options.onSignedState !== undefined && (eff.msg.type === 'accept' || eff.msg.type === 'confirm')) this.options.onSignedState(m.latest)
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
      case 'received': {
        const e: PaymentEvent = { channelId: `0x${key}`, amount: eff.amount, version: eff.version }
        for (const l of this.listeners) queueMicrotask(() => l(e))
        return
      }
      case 'retry': {
        const r = slot.inFlight
        if (r !== undefined && r.ref === eff.ref) {
          slot.inFlight = undefined
          slot.queue.unshift(r)
        }
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
      case 'final': {
        const w = this.finalWaiters.get(key)
        if (w !== undefined) {
          this.finalWaiters.delete(key)
          w(eff.signed)
        }
        for (const r of slot.queue.splice(0)) r.reject(new ChannelError('CHANNEL_CLOSED', 'channelId', 'channel is closing'))
        return
      }
      case 'topUpSigned':
        // After the current step: the L1 mock mines (and emits) synchronously.
        queueMicrotask(() => {
          if (!this.stopped) this.client.topUp(m.params.channelId, eff.amount).catch((err) => this.record(err))
        })
        return
    }
  }

  /** Starts the next queued request when the machine is idle. */
  private pump(key: string, slot: ChannelSlot): void {
    const m = slot.machine
    if (slot.inFlight !== undefined || slot.queue.length === 0) return
    if (m.pending !== undefined || m.unconfirmed !== undefined || m.awaitingDeposit !== undefined || m.phase !== 'open') {
      if (m.phase === 'closed' || m.phase === 'closing')
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

  private enqueue(channelId: `0x${string}` | Uint8Array, kind: UpdateKind, build: Request['build'], topUp: Amount = 0n): Promise<bigint> {
    const [key, slot] = this.slot(channelId)
    if (slot.machine.phase !== 'open') return Promise.reject(new ChannelError('CHANNEL_CLOSED', 'channelId', `channel is ${slot.machine.phase}`))
    return new Promise<bigint>((resolve, reject) => {
      slot.queue.push({ ref: nextRef++ >>> 0, kind, build, topUp, resolve, reject })
      this.pump(key, slot)
    })
  }

  private handle(peer: Address, msg: WireMessage): void {
    try {
      if (msg.type === 'open') {
        this.onOpenRequest(peer, msg).catch((err) => {
          this.record(err)
          // Tell the opener, so it does not wait for the funding timeout to learn it.
          if (isRejection(err))
            this.sendTo(peer, { type: 'reject', channelId: msg.params.channelId, version: 0n, code: err.code.slice(0, 64) })
        })
        return
      }
      if (msg.type === 'openAck') {
        this.onOpenAck(peer, msg)
        return
      }
      if (msg.type === 'hello') return
      const id = msg.type === 'propose' || msg.type === 'state' ? msg.state.channelId : msg.channelId
      const key = channelIdHex(id)
      const slot = this.channels.get(key)
      if (slot === undefined) throw new ChannelError('UNKNOWN_CHANNEL', msg.type === 'propose' || msg.type === 'state' ? 'state.channelId' : 'channelId', 'unknown channel')
      if (this.peerOf(slot.machine) !== peer) throw new ChannelError('UNKNOWN_CHANNEL', 'channelId', 'channel is not with this peer')
      if (msg.type === 'reject' && slot.machine.phase === 'funding' && msg.version === 0n) {
        const w = this.openWaiters.get(key)
        this.openWaiters.delete(key)
        w?.reject(new ChannelError('POLICY', 'peer', `peer refused the channel (${msg.code}); refund after the funding timeout`))
        return
      }
      try {
        // Offer the next queued request with a countersignature: it is proposed in the same write.
        const head = msg.type === 'accept' && slot.inFlight !== undefined ? slot.queue[0] : undefined
        const next = head === undefined ? undefined : { build: head.build, kind: head.kind, ref: head.ref, topUp: head.topUp }
        this.dispatch(key, next === undefined ? { type: 'message', msg, now: this.now() } : { type: 'message', msg, now: this.now(), next }, head)
      } catch (err) {
        // Tell an honest proposer its proposal is refused, so it can retry or close.
        if (msg.type === 'propose' && isRejection(err) && msg.state.version === slot.machine.latest.state.version + 1n)
          this.sendTo(peer, { type: 'reject', channelId: id, version: msg.state.version, code: (err as L2Error).code.slice(0, 64) })
        throw err
      }
    } catch (err) {
      this.record(err)
    }
  }

  // ------------------------------------------------------------------ open

  /** Opens a channel as A: deposits on L1, sends the parameters, waits for B's signature and confirmation. */
  async open(p: OpenParameters): Promise<`0x${string}`> {
    const peer = toAddress('peer', p.peer)
    if (peer === this.address) throw new InvalidInputError('peer', 'cannot open a channel with oneself')
    const deposit = toAmount('deposit', p.deposit)
    const peerDeposit = toAmount('peerDeposit', p.peerDeposit ?? 0n)
    if (deposit + peerDeposit === 0n) throw new InvalidInputError('deposit', 'a channel needs some funds')
    if (!Number.isInteger(p.disputeWindow) || p.disputeWindow < 1) throw new InvalidInputError('disputeWindow', 'expected a positive number of blocks')
    const fundingTimeout = p.fundingTimeout ?? 20
    if (!Number.isInteger(fundingTimeout) || fundingTimeout < 1) throw new InvalidInputError('fundingTimeout', 'expected a positive number of blocks')
    const link = this.peers.get(peer)
    if (link === undefined) throw new ChannelError('UNKNOWN_CHANNEL', 'peer', 'not connected to this peer')
    const nonce = p.nonce ?? BigInt(this.now()) * 1000n + BigInt(nextRef++ % 1000)
    const domain = { chainId: this.l1.chainId, adjudicator: this.client.contract.address }
    const channelId = deriveChannelId(domain, this.address, peer, nonce)
    const params: ChannelParams = {
      channelId,
      domain,
      nonce,
      parties: [this.address, peer],
      publicKeys: [this.signer.publicKey, p.peerPublicKey],
      deposits: [deposit, peerDeposit],
      disputeWindow: p.disputeWindow,
      fundingTimeout,
      penalty: p.penalty ?? 'none',
    }
    const machine = createMachine(this.ctx, params, 0)
    const key = channelIdHex(channelId)
    if (this.channels.has(key)) throw new InvalidInputError('nonce', 'channel exists')
    // Durable before the deposit: after a crash the node still knows the channel (to resume or refund).
    this.persist(machine)
    this.channels.set(key, { machine, queue: [], inFlight: undefined })
    this.opening.add(key)
    try {
      await this.client.open({
      b: peer,
      pkA: this.signer.publicKey,
      pkB: p.peerPublicKey,
      nonce,
      depositA: deposit,
      depositB: peerDeposit,
      disputeWindow: p.disputeWindow,
        fundingTimeout,
        penalty: params.penalty,
      })
    } catch (err) {
      this.markClosed(key)
      throw err
    } finally {
      this.opening.delete(key)
    }
    const opened = new Promise<void>((resolve, reject) => this.openWaiters.set(key, { resolve, reject }))
    this.sendTo(peer, openMessage(machine))
    await opened
    return toHex(channelId)
  }

  /** A's side after a restart or a drop: repeat the request if the deposit is on L1, forget the channel if not. */
  private async resumeOpen(key: string): Promise<void> {
    const slot = this.channels.get(key)
    if (slot === undefined || slot.machine.me !== 0 || slot.machine.phase !== 'funding') return
    const info = await this.client.info(slot.machine.params.channelId)
    // Crashed between persisting and depositing: nothing moved on L1.
    if (info === undefined) return this.markClosed(key)
    if (info.phase === 'funding' || info.phase === 'open') this.sendTo(this.peerOf(slot.machine), openMessage(slot.machine))
  }

  /** B's side of funding, idempotent: confirm on L1 unless already done, then mark open and acknowledge. */
  private async finishFunding(key: string): Promise<void> {
    const slot = this.channels.get(key)
    if (slot === undefined || slot.machine.me !== 1) return
    const m = slot.machine
    if (m.phase === 'funding') {
      const info = await this.client.info(m.params.channelId)
      if (info?.phase === 'funding') await this.client.confirm(m.params.channelId, m.params.deposits[1])
      else if (info?.phase !== 'open') throw new ChannelError('L1', 'channelId', `channel is ${info?.phase ?? 'unknown'} on L1`)
      const machine: Machine = { ...slot.machine, phase: 'open' }
      this.persist(machine)
      slot.machine = machine
    }
    if (slot.machine.latest.state.version === 0n && slot.machine.phase === 'open')
      this.sendTo(this.peerOf(slot.machine), { type: 'openAck', channelId: m.params.channelId, sig: slot.machine.latest.sigs[1] as Uint8Array })
  }

  private async onOpenRequest(peer: Address, msg: Extract<WireMessage, { type: 'open' }>): Promise<void> {
    const w = msg.params
    if (w.b !== this.address) throw new InvalidInputError('params.b', 'channel is not for us')
    if (w.a !== peer) throw new InvalidInputError('params.a', 'opener is not the peer')
    if (w.chainId !== this.l1.chainId) throw new InvalidInputError('params.chainId', 'wrong chain')
    if (w.adjudicator !== this.client.contract.address) throw new InvalidInputError('params.adjudicator', 'unknown adjudicator')
    if (!bytesEqual(w.pkB, this.signer.publicKey)) throw new InvalidInputError('params.pkB', 'not our public key')
    const domain = { chainId: w.chainId, adjudicator: w.adjudicator }
    const channelId = deriveChannelId(domain, w.a, w.b, w.nonce)
    if (!bytesEqual(channelId, w.channelId)) throw new InvalidInputError('params.channelId', 'channel id does not match its parameters')
    const key = channelIdHex(channelId)
    // One open request at a time per channel (a repeat may arrive while the first awaits L1).
    if (this.opening.has(key)) return
    this.opening.add(key)
    try {
      await this.acceptOpen(peer, msg, channelId, key)
    } finally {
      this.opening.delete(key)
    }
  }

  private async acceptOpen(peer: Address, msg: Extract<WireMessage, { type: 'open' }>, channelId: Uint8Array, key: string): Promise<void> {
    const w = msg.params
    const domain = { chainId: w.chainId, adjudicator: w.adjudicator }
    const known = this.channels.get(key)
    if (known !== undefined) {
      // A repeated open (A resyncs after a drop or a restart): finish our part again, idempotently.
      if (known.machine.me !== 1 || this.peerOf(known.machine) !== peer) throw new InvalidInputError('params.channelId', 'channel already known')
      return this.finishFunding(key)
    }
    const params: ChannelParams = {
      channelId,
      domain,
      nonce: w.nonce,
      parties: [w.a, w.b],
      publicKeys: [w.pkA, w.pkB],
      deposits: w.deposits,
      disputeWindow: w.disputeWindow,
      fundingTimeout: w.fundingTimeout,
      penalty: w.penalty,
    }
    if (this.options.acceptChannel !== undefined && !this.options.acceptChannel(params))
      throw new ChannelError('POLICY', 'params', 'channel refused by policy')
    const info = await this.client.info(channelId)
    if (info === undefined || info.phase !== 'funding') throw new ChannelError('L1', 'params.channelId', 'channel not funding on L1')
    if (info.parties[0] !== w.a || info.parties[1] !== w.b || !bytesEqual(info.publicKeys[0], w.pkA) || !bytesEqual(info.publicKeys[1], w.pkB))
      throw new ChannelError('L1', 'params', 'on-chain parties differ')
    if (info.deposits[0] !== w.deposits[0] || info.declaredDepositB !== w.deposits[1]) throw new ChannelError('L1', 'params.deposits', 'on-chain deposits differ')
    if (info.disputeWindow !== w.disputeWindow || info.penalty !== w.penalty) throw new ChannelError('L1', 'params', 'on-chain terms differ')
    let machine = createMachine(this.ctx, params, 1)
    machine = { ...completeOpen(this.ctx, machine, msg.sig), phase: 'funding' }
    // Durable before our signature on version 0 leaves (in the confirm and the ack).
    this.persist(machine)
    this.channels.set(key, { machine, queue: [], inFlight: undefined })
    await this.finishFunding(key)
  }

  private onOpenAck(peer: Address, msg: Extract<WireMessage, { type: 'openAck' }>): void {
    const [key, slot] = this.slot(msg.channelId)
    if (this.peerOf(slot.machine) !== peer || slot.machine.me !== 0) throw new ChannelError('UNKNOWN_CHANNEL', 'channelId', 'not our opening')
    if (slot.machine.phase !== 'funding') return
    const machine = completeOpen(this.ctx, slot.machine, msg.sig)
    this.persist(machine)
    slot.machine = machine
    this.openWaiters.get(key)?.resolve()
    this.openWaiters.delete(key)
    this.pump(key, slot)
  }

  // ------------------------------------------------------------------ updates

  /** Pays `amount` to the peer; resolves with the new version once countersigned. */
  pay(p: PayParameters): Promise<bigint> {
    let amount: Amount
    try {
      amount = toPositiveAmount('amount', p.amount)
      this.slot(p.channelId)
    } catch (err) {
      return Promise.reject(err)
    }
    const [, slot] = this.slot(p.channelId)
    const me = slot.machine.me
    return this.enqueue(p.channelId, 'pay', (latest) => applyPayment(latest, me, amount))
  }

  /**
   * Proposes an arbitrary next state (built from the latest one); the peer's
   * policy decides. The HTLC router adds and removes locked entries this way.
   */
  update(channelId: `0x${string}` | Uint8Array, build: (latest: ChannelState) => ChannelState): Promise<bigint> {
    return this.enqueue(channelId, 'update', build)
  }

  /** Adds `amount` to our deposit: both sign the new split, then the deposit goes on L1. */
  topUp(p: PayParameters): Promise<bigint> {
    const { channelId, amount } = p
    let value: Amount
    try {
      value = toPositiveAmount('amount', amount)
      this.slot(channelId)
    } catch (err) {
      return Promise.reject(err)
    }
    const [, slot] = this.slot(channelId)
    const me = slot.machine.me
    return this.enqueue(
      channelId,
      'topUp',
      (latest) => {
        const b: [Amount, Amount] = [latest.balances[0], latest.balances[1]]
        b[me] = b[me] + value
        return { ...latest, version: latest.version + 1n, balances: b, isFinal: false }
      },
      value,
    )
  }

  // ------------------------------------------------------------------ closing

  /** Signs a final state with the peer and closes on L1 at once. */
  async closeCooperative(p: { channelId: `0x${string}` | Uint8Array }): Promise<Receipt> {
    const [key, slot] = this.slot(p.channelId)
    if (slot.machine.latest.state.isFinal && isFullySigned(slot.machine.latest)) {
      // Already signed (e.g. before a restart): submit it again.
      const receipt = await this.client.close(slot.machine.latest)
      this.markClosed(key)
      return receipt
    }
    const finalSigned = new Promise<SignedState>((resolve) => this.finalWaiters.set(key, resolve))
    const version = await this.enqueue(p.channelId, 'close', (latest) => ({ ...latest, version: latest.version + 1n, isFinal: true }))
    const signed = await finalSigned
    if (signed.state.version !== version) throw new ChannelError('STALE_VERSION', 'version', 'final state mismatch')
    const receipt = await this.client.close(signed)
    this.markClosed(key)
    return receipt
  }

  /**
   * Registers our latest fully signed state (starts the dispute window). While
   * a top-up is in flight, that is the newest state matching the deposits on L1.
   */
  async forceClose(p: { channelId: `0x${string}` | Uint8Array }): Promise<Receipt> {
    const [, slot] = this.slot(p.channelId)
    return this.client.register(await this.enforceable(slot.machine))
  }

  /** The newest state the adjudicator accepts now (a top-up's states only once its deposit landed). */
  private async enforceable(m: Machine): Promise<SignedState> {
    const latest = this.latestSigned(m)
    if (m.awaitingDeposit === undefined || m.topUpFallback === undefined) return latest
    const info = await this.client.info(m.params.channelId)
    const onChain = info === undefined ? 0n : info.deposits[0] + info.deposits[1]
    return onChain >= m.awaitingDeposit ? latest : m.topUpFallback
  }

  /** After a restart with a top-up in flight: notice the deposit, or make it if it is ours. */
  private async resumeTopUp(key: string): Promise<void> {
    const slot = this.channels.get(key)
    const m = slot?.machine
    if (m === undefined || m.awaitingDeposit === undefined) return
    const info = await this.client.info(m.params.channelId)
    if (info === undefined) return
    const onChain = info.deposits[0] + info.deposits[1]
    if (onChain < m.awaitingDeposit && m.topUpParty === m.me && info.phase === 'open')
      await this.client.topUp(m.params.channelId, m.awaitingDeposit - onChain)
    else if (onChain >= m.awaitingDeposit) this.dispatch(key, { type: 'deposited', total: onChain, now: this.now() })
  }

  /** Challenges a registration with our latest fully signed state. */
  async challenge(p: { channelId: `0x${string}` | Uint8Array }): Promise<Receipt> {
    const [, slot] = this.slot(p.channelId)
    return this.client.challenge(await this.enforceable(slot.machine))
  }

  async finalize(p: { channelId: `0x${string}` | Uint8Array }): Promise<Receipt> {
    const [key, slot] = this.slot(p.channelId)
    const r = await this.client.finalize(slot.machine.params.channelId)
    this.markClosed(key)
    return r
  }

  /** A's refund when B never confirmed. */
  async refund(p: { channelId: `0x${string}` | Uint8Array }): Promise<Receipt> {
    const [key, slot] = this.slot(p.channelId)
    const r = await this.client.refund(slot.machine.params.channelId)
    this.openWaiters.get(key)?.reject(new ChannelError('CHANNEL_CLOSED', 'channelId', 'refunded'))
    this.openWaiters.delete(key)
    this.markClosed(key)
    return r
  }

  private latestSigned(m: Machine): SignedState {
    if (!isFullySigned(m.latest))
      throw new ChannelError('CHANNEL_CLOSED', 'channelId', 'no fully signed state yet')
    return m.latest
  }

  private markClosed(key: string): void {
    const slot = this.channels.get(key)
    if (slot === undefined || slot.machine.phase === 'closed') return
    this.dispatch(key, { type: 'closed', now: this.now() })
  }

  // ------------------------------------------------------------------ L1 events

  private onL1Event(e: L1Event): void {
    // Handled after the transaction that emitted it returns (the mock delivers events synchronously).
    queueMicrotask(() => this.handleL1Event(e))
  }

  private handleL1Event(e: L1Event): void {
    if (this.stopped) return
    const id = e.data.channelId
    if (!(id instanceof Uint8Array)) return
    const key = channelIdHex(id)
    const slot = this.channels.get(key)
    if (slot === undefined) return
    try {
      if (e.name === 'Registered' || e.name === 'Challenged') {
        const version = e.data.version as bigint
        this.dispatch(key, { type: 'disputed', now: this.now() })
        const m = slot.machine
        if (this.options.autoChallenge !== false && version < m.latest.state.version && isFullySigned(m.latest))
          this.enforceable(m)
            .then((s) => (s.state.version > version ? this.client.challenge(s) : undefined))
            .catch((err) => this.record(err))
      } else if (e.name === 'Concluded' || e.name === 'Refunded') {
        this.markClosed(key)
      } else if (e.name === 'ToppedUp') {
        const dep = e.data.deposits as readonly [Amount, Amount]
        this.dispatch(key, { type: 'deposited', total: dep[0] + dep[1], now: this.now() })
      }
    } catch (err) {
      this.record(err)
    }
  }

  // ------------------------------------------------------------------ status and lifecycle

  status(channelId: `0x${string}` | Uint8Array): ChannelStatus {
    const [key, slot] = this.slot(channelId)
    const m = slot.machine
    return {
      channelId: `0x${key}`,
      phase: m.phase,
      me: m.me,
      peer: this.peerOf(m),
      version: m.latest.state.version,
      balances: m.latest.state.balances,
      myBalance: m.latest.state.balances[m.me],
      locked: m.latest.state.locked,
      pendingVersion: m.pending?.state.version,
      total: stateTotal(m.latest.state),
    }
  }

  /** The newest state signed by both (what forceClose would register). */
  latest(channelId: `0x${string}` | Uint8Array): SignedState {
    return this.slot(channelId)[1].machine.latest
  }

  /** The raw machine (tests, watchtower hand-off). */
  machine(channelId: `0x${string}` | Uint8Array): Machine {
    return this.slot(channelId)[1].machine
  }

  onChain(channelId: `0x${string}` | Uint8Array): Promise<ChannelInfo | undefined> {
    return this.client.info(this.slot(channelId)[1].machine.params.channelId)
  }

  channelIds(): `0x${string}`[] {
    return [...this.channels.keys()].map((k) => `0x${k}` as const)
  }

  /** Retransmits or times out stale proposals. */
  tick(now: number = this.now()): void {
    for (const key of this.channels.keys()) {
      try {
        this.dispatch(key, { type: 'tick', now })
      } catch (err) {
        this.record(err)
      }
    }
  }

  /** Durable write; a node that cannot persist must not go on: it stops (and sends nothing more). */
  private persist(machine: Machine): void {
    if (this.stopped) throw new ChannelError('STOPPED', 'node', 'node stopped')
    try {
      this.store.save(machine)
    } catch (err) {
      this.fail(err)
      throw err
    }
  }

  /** Set when the store failed: the node stopped itself. */
  failure: unknown

  private fail(err: unknown): void {
    if (this.failure === undefined) this.failure = err
    this.stop()
  }

  /** Stops timers and subscriptions and rejects what is waiting; the store is left open for the caller. */
  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) clearInterval(this.timer)
    this.unsubscribe?.()
    for (const slot of this.channels.values()) {
      const all = [slot.inFlight, slot.chained, ...slot.queue].filter((r): r is Request => r !== undefined)
      slot.chained = undefined
      for (const r of all) r.reject(new ChannelError('STOPPED', 'node', 'node stopped'))
      slot.queue = []
      slot.inFlight = undefined
    }
    for (const w of this.openWaiters.values()) w.reject(new ChannelError('STOPPED', 'node', 'node stopped'))
    this.openWaiters.clear()
  }
}

/** Errors that mean "your proposal is invalid" (worth a reject), as opposed to local failures. */
function isRejection(err: unknown): err is L2Error {
  return (
    err instanceof ChannelError ||
    err instanceof SignatureError ||
    err instanceof AmountError ||
    err instanceof InvalidInputError ||
    err instanceof DecodeError
  )
}

/** A's open request for a machine in funding (sent at open and repeated on resync). */
function openMessage(m: Machine): WireMessage {
  const p = m.params
  return {
    type: 'open',
    params: paramsToWire(p),
    sig: m.latest.sigs[0] as Uint8Array,
  }
}
