/**
 * ChannelNode: the public API of a channel party, and the wiring of its parts.
 *
 *   peers.ts    authenticated links (signed handshake per connection, MAC per frame)
 *   runtime.ts  slots, `step`, effects in order; the only writer of machines and the store
 *   funding.ts  open / accept as step events plus each side's L1 part
 *   chain.ts    L1 events, the enforceable state, top-up deposits
 *   protocol.ts the pure state machine
 *   node-options.ts  the options, the parameters of open/pay, the status; their checks
 *
 * A malformed frame or a rejected message is recorded (`errors`), answered
 * with `reject` where that helps an honest peer, and the node keeps serving.
 * If the store fails (disk full) the node stops: it rejects what is waiting,
 * closes its connections (peers see a disconnect, not silence) and can be
 * brought back in the same process with `restart()` once the store works.
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
  InvalidInputError,
  L2Error,
  SignatureError,
  type Signer,
  nodeVerifier,
  toAddress,
  toHex,
  toPositiveAmount,
} from '@l2bench/core'
import type { L1, Receipt } from '@l2bench/l1-mock'
import type { ChannelInfo } from './adjudicator.ts'
import { Chain } from './chain.ts'
import { AdjudicatorClient } from './client.ts'
import { EventCursor } from './cursor.ts'
import { ChannelError } from './errors.ts'
import { Funding, acceptLimits } from './funding.ts'
import { EntryError } from './merge.ts'
import { type ChannelNodeOptions, type ChannelRef, type ChannelStatus, type OpenParameters, type PayParameters, maxMerge, openTerms, retryLimits } from './node-options.ts'
import { PeerTable } from './peers.ts'
import { isFullySigned } from './phase.ts'
import { type ChannelParams, type Machine, type StepContext, countersignV0, createMachine, digestOf } from './protocol.ts'
import { type PaymentEvent, Runtime, newRef } from './runtime.ts'
import type { SecureLink } from './secure-link.ts'
import { type ChannelState, type PartyIndex, type SignedState, applyPayment, channelIdHex, deriveChannelId, stateTotal } from './state.ts'
import type { ChannelStore } from './store.ts'
import type { Link } from './transport.ts'
import { type WireMessage, decodeMessage, encodeMessage } from './wire.ts'

export type { ChannelNodeOptions, ChannelStatus, OpenParameters, PayParameters } from './node-options.ts'
export type { PaymentEvent } from './runtime.ts'

export const CHANNEL_PROTOCOL = 'l2bench/payment-channel/v1'

export class ChannelNode {
  readonly signer: Signer
  readonly address: Address
  readonly client: AdjudicatorClient
  readonly store: ChannelStore
  readonly ctx: StepContext
  /** Rejected inputs (typed errors), newest last, capped. */
  readonly errors: L2Error[] = []
  /** Set when the store failed: the node stopped itself (cleared by `restart`). */
  failure: unknown
  private readonly rt: Runtime
  private readonly peers: PeerTable
  private readonly funding: Funding
  private readonly chain: Chain
  private readonly listeners = new Set<(e: PaymentEvent) => void>()
  private readonly openWaiters = new Map<string, { resolve: () => void; reject: (e: Error) => void }>()
  private readonly cursor: EventCursor
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
    const record = (err: unknown) => this.record(err)
    this.rt = new Runtime(
      this.ctx,
      this.store,
      {
        send: (peer, msg) => this.sendTo(peer, msg),
        chain: (key, eff) => {
          if (eff.type === 'fund') this.funding.fund(key).catch(record)
          else this.chain.ensureDeposit(key).catch(record)
        },
        opened: (key) => this.settleOpen(key),
        openFailed: (key, code) => this.settleOpen(key, openFailure(code)),
        // finalState reads the final state from the machine once its request settles.
        final: () => undefined,
        signed: (s, steps) => this.options.onSignedState?.(s, steps),
        payment: (e) => {
          for (const l of this.listeners) queueMicrotask(() => l(e))
        },
        failed: (err) => this.fail(err),
      },
      this.now,
      { ...retryLimits(options.retryLimits), maxMerge: maxMerge(options.maxMerge), groupCommit: options.groupCommit !== false },
    )
    this.peers = new PeerTable({
      signer: options.signer,
      ...(options.verifier === undefined ? {} : { verifier: options.verifier }),
      chainId: this.l1.chainId,
      protocol: CHANNEL_PROTOCOL,
      ...options.links,
      onFrame: (peer, payload) => this.onFrame(peer, payload),
      onPeer: (peer) => this.resync(peer),
      onError: record,
    })
    this.funding = new Funding(this.rt, this.client, acceptLimits(options.acceptLimits), {
      now: this.now,
      record,
      openError: (key, err) => this.settleOpen(key, err),
      acceptChannel: options.acceptChannel,
    })
    this.chain = new Chain(this.rt, this.client, {
      now: this.now,
      record,
      stopped: () => this.stopped,
      autoChallenge: () => this.options.autoChallenge !== false,
      fund: (key) => this.funding.fund(key).catch(record),
    })
    this.cursor = new EventCursor(this.l1, {
      filter: { address: options.adjudicator.address },
      owner: options.wallet.address,
      onEvent: this.chain.onEvent,
      onBlock: () => this.onBlock(),
      onError: record,
    })
    this.start()
  }

  get l1(): L1 {
    return this.client.l1
  }

  /** Loads the channels, resumes top-ups in flight, subscribes to L1 and starts the timer. */
  private start(): void {
    for (const m of this.rt.load()) {
      const key = channelIdHex(m.params.channelId)
      if (m.awaitingDeposit !== undefined) queueMicrotask(() => this.chain.ensureDeposit(key).catch((err) => this.record(err)))
    }
    // A node with channels reads the whole log (what happened while it was down); a new one has nothing there yet.
    this.cursor.start(this.rt.channels.size > 0 ? 0 : this.l1.head().height + 1)
    if (this.options.timers !== false) {
      const period = Math.max(10, Math.floor((this.options.timeoutMs ?? 2_000) / 4))
      this.timer = setInterval(() => this.tick(), period)
      this.timer.unref()
    }
  }

  // ------------------------------------------------------------------ links

  /** Uses `link` to talk to whoever authenticates on it; resyncs on every (re)connection. Returns the authenticated view. */
  attach(link: Link): SecureLink {
    return this.peers.attach(link)
  }

  /** Resolves once `peer` has authenticated on some link (immediately if it has). */
  whenConnected(peer: Address): Promise<void> {
    return this.peers.whenConnected(peer)
  }

  /** Whether an authenticated link to `peer` is up. */
  isConnected(peer: Address): boolean {
    return this.peers.isConnected(peer)
  }

  /** The authenticated link that reaches `peer` (what this node sends on). */
  linkTo(peer: Address): SecureLink | undefined {
    return this.peers.route(toAddress('peer', peer))
  }

  private resync(peer: Address): void {
    if (this.stopped) return
    for (const [key, slot] of this.rt.channels)
      if (this.rt.peerOf(slot.machine) === peer && slot.machine.phase !== 'closed')
        this.rt.tryDispatch(key, { type: 'connected', now: this.now() }, (err) => this.record(err))
  }

  private sendTo(peer: Address, msg: WireMessage): void {
    // A stopped (or crashed) node sends nothing.
    if (!this.stopped) this.peers.send(peer, encodeMessage(msg))
  }

  private record(err: unknown): void {
    const e = err instanceof L2Error ? err : new L2Error('INTERNAL', String((err as Error)?.message ?? err), { cause: err })
    this.errors.push(e)
    if (this.errors.length > 1000) this.errors.shift()
  }

  on(event: 'payment', listener: (e: PaymentEvent) => void): () => void {
    if (event !== 'payment') throw new InvalidInputError('event', `unknown event ${String(event)}`)
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** A frame from an authenticated peer. */
  private onFrame(peer: Address, payload: Uint8Array): void {
    if (this.stopped) return
    let msg: WireMessage
    try {
      msg = decodeMessage(payload)
    } catch (err) {
      this.record(err)
      return
    }
    if (msg.type === 'open') {
      try {
        this.funding.onOpenRequest(peer, msg, this.address)
      } catch (err) {
        this.record(err)
        // Tell the opener, so it does not wait to learn it (it has deposited nothing yet).
        if (isRejection(err)) this.sendTo(peer, { type: 'reject', channelId: msg.params.channelId, version: 0n, code: err.code.slice(0, 64), digest: undefined, entry: undefined })
      }
      return
    }
    try {
      const id = msg.type === 'propose' || msg.type === 'state' ? msg.state.channelId : msg.channelId
      const field = msg.type === 'propose' || msg.type === 'state' ? 'state.channelId' : 'channelId'
      const [key, slot] = this.rt.slot(id, field)
      if (this.rt.peerOf(slot.machine) !== peer) throw new ChannelError('UNKNOWN_CHANNEL', field, 'channel is not with this peer')
      try {
        this.rt.deliver(key, msg)
      } catch (err) {
        // Tell an honest proposer its proposal is refused (naming the entry of a merged one), so it can retry or close.
        if (msg.type === 'propose' && isRejection(err) && msg.state.version === slot.machine.latest.state.version + 1n)
          this.sendTo(peer, {
            type: 'reject',
            channelId: id,
            version: msg.state.version,
            code: err.code.slice(0, 64),
            digest: digestOf(slot.machine.params, msg.state),
            entry: err instanceof EntryError ? err.entry : undefined,
          })
        throw err
      }
    } catch (err) {
      this.record(err)
    }
  }

  // ------------------------------------------------------------------ open

  /**
   * Opens a channel as A: both sign version 0 first, then A deposits and B
   * confirms. Resolves with the channel id once L1 has both deposits.
   */
  async open(p: OpenParameters): Promise<`0x${string}`> {
    const { peer, deposit, peerDeposit, fundingTimeout, penalty } = openTerms(p, this.address)
    if (this.stopped) throw new ChannelError('STOPPED', 'node', 'node stopped')
    if (!this.peers.isConnected(peer)) throw new ChannelError('UNKNOWN_CHANNEL', 'peer', 'not connected to this peer')
    const nonce = p.nonce ?? BigInt(this.now()) * 1000n + BigInt(newRef() % 1000)
    const domain = { chainId: this.l1.chainId, adjudicator: this.client.contract.address }
    const channelId = deriveChannelId(domain, this.address, peer, nonce)
    const key = channelIdHex(channelId)
    if (this.rt.channels.has(key)) throw new InvalidInputError('nonce', 'channel exists')
    this.funding.begin({
      channelId,
      domain,
      nonce,
      parties: [this.address, peer],
      publicKeys: [this.signer.publicKey, p.peerPublicKey],
      deposits: [deposit, peerDeposit],
      disputeWindow: p.disputeWindow,
      fundingTimeout,
      penalty,
    })
    // (The answer cannot arrive before this line: links deliver asynchronously.)
    await new Promise<void>((resolve, reject) => this.openWaiters.set(key, { resolve, reject }))
    return toHex(channelId)
  }

  private settleOpen(key: string, err?: Error): void {
    const w = this.openWaiters.get(key)
    this.openWaiters.delete(key)
    if (err === undefined) w?.resolve()
    else w?.reject(err)
  }

  // ------------------------------------------------------------------ updates

  /** Pays `amount` to the peer; resolves with the new version once countersigned. */
  pay(p: PayParameters): Promise<bigint> {
    try {
      const amount = toPositiveAmount('amount', p.amount)
      const me = this.rt.slot(p.channelId)[1].machine.me
      return this.rt.enqueue(p.channelId, 'pay', (latest) => applyPayment(latest, me, amount))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /**
   * Proposes an arbitrary next state (built from the latest one); the peer's
   * policy decides. The HTLC router adds and removes locked entries this way.
   */
  update(channelId: `0x${string}` | Uint8Array, build: (latest: ChannelState) => ChannelState): Promise<bigint> {
    try {
      return this.rt.enqueue(channelId, 'update', build)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** Adds `amount` to our deposit: both sign the new split, then the deposit goes on L1 with it. */
  topUp(p: PayParameters): Promise<bigint> {
    try {
      const value = toPositiveAmount('amount', p.amount)
      const me = this.rt.slot(p.channelId)[1].machine.me
      const build = (latest: ChannelState): ChannelState => {
        const b: [Amount, Amount] = [latest.balances[0], latest.balances[1]]
        b[me] = b[me] + value
        return { ...latest, version: latest.version + 1n, balances: b, isFinal: false }
      }
      return this.rt.enqueue(p.channelId, 'topUp', build, value)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  // ------------------------------------------------------------------ closing

  /** Signs a final state with the peer and closes on L1 at once. */
  async closeCooperative(p: ChannelRef): Promise<Receipt> {
    const [key] = this.rt.slot(p.channelId)
    return this.chain.close(key, await this.finalState(p))
  }

  /**
   * Signs a final state with the peer (no more updates) and returns it;
   * nothing goes on L1. `closeCooperative` submits it; a channel funded
   * elsewhere (`openFunded`) is settled with it there.
   */
  async finalState(p: ChannelRef): Promise<SignedState> {
    const signedFinal = (): SignedState | undefined => {
      const l = this.rt.slot(p.channelId)[1].machine.latest
      return l.state.isFinal && isFullySigned(l) ? l : undefined
    }
    // Already signed (e.g. before a restart): that one.
    const done = signedFinal()
    if (done !== undefined) return done
    try {
      await this.rt.enqueue(p.channelId, 'close', (latest) => ({ ...latest, version: latest.version + 1n, isFinal: true }))
    } catch (err) {
      // A final state signed meanwhile is as good: a second call's request, or the peer's final state won a crossing.
      const f = signedFinal()
      if (f !== undefined) return f
      throw err
    }
    const f = signedFinal()
    if (f === undefined) throw new ChannelError('STALE_VERSION', 'version', 'final state mismatch')
    return f
  }

  /**
   * Adopts a channel funded elsewhere — a virtual channel, whose money is
   * locked in two ledger channels — from version 0 signed by both: it is
   * persisted and open at once, and no L1 funding runs for it. The caller has
   * checked the terms and the funding; the adjudicator knows nothing of this
   * channel, so its disputes and closing are the caller's (not forceClose or
   * closeCooperative). Payments, updates, `finalState`, resync and restart
   * work as for any channel. Throws a typed error (nothing stored) when the
   * peer's signature on version 0 is invalid or the channel is known.
   */
  openFunded(params: ChannelParams, me: PartyIndex, peerSig: Uint8Array): `0x${string}` {
    if (this.stopped) throw new ChannelError('STOPPED', 'node', 'node stopped')
    if (params.parties[me] !== this.address) throw new InvalidInputError('params.parties', 'this node is not that party')
    const machine = countersignV0(this.ctx, createMachine(this.ctx, params, me), peerSig)
    return `0x${this.rt.install(machine, { type: 'funded', now: this.now() })}`
  }

  /** A channel funded elsewhere was paid out there (its ledger channels settled it): closed, nothing more to watch. */
  settled(p: ChannelRef): void {
    const [key] = this.rt.slot(p.channelId)
    this.chain.markClosed(key)
  }

  /** Registers our newest enforceable state (starts the dispute window): during a top-up, the newest matching the L1 deposits. */
  async forceClose(p: ChannelRef): Promise<Receipt> {
    const [, slot] = this.rt.slot(p.channelId)
    return this.client.register(await this.chain.enforceable(slot.machine))
  }

  /** Challenges a registration with our newest enforceable state. */
  async challenge(p: ChannelRef): Promise<Receipt> {
    const [, slot] = this.rt.slot(p.channelId)
    return this.client.challenge(await this.chain.enforceable(slot.machine))
  }

  async finalize(p: ChannelRef): Promise<Receipt> {
    const [key, slot] = this.rt.slot(p.channelId)
    return this.chain.finalize(key, slot.machine)
  }

  /** A's refund when B never confirmed (the node also does it by itself once the funding timeout passed). */
  async refund(p: ChannelRef): Promise<Receipt> {
    const [key, slot] = this.rt.slot(p.channelId)
    const r = await this.client.refund(slot.machine.params.channelId)
    this.settleOpen(key, new ChannelError('CHANNEL_CLOSED', 'channelId', 'refunded'))
    this.chain.markClosed(key)
    return r
  }

  // ------------------------------------------------------------------ status and lifecycle

  status(channelId: `0x${string}` | Uint8Array): ChannelStatus {
    const [key, slot] = this.rt.slot(channelId)
    const m = slot.machine
    return {
      channelId: `0x${key}`,
      phase: m.phase,
      me: m.me,
      peer: this.rt.peerOf(m),
      version: m.latest.state.version,
      balances: m.latest.state.balances,
      myBalance: m.latest.state.balances[m.me],
      locked: m.latest.state.locked,
      pendingVersion: m.pending?.state.version,
      total: stateTotal(m.latest.state),
    }
  }

  /** The newest state signed by both (what forceClose registers unless a top-up has not landed). */
  latest(channelId: `0x${string}` | Uint8Array): SignedState {
    return this.rt.slot(channelId)[1].machine.latest
  }

  /** The raw machine (tests, watchtower hand-off). */
  machine(channelId: `0x${string}` | Uint8Array): Machine {
    return this.rt.slot(channelId)[1].machine
  }

  onChain(channelId: `0x${string}` | Uint8Array): Promise<ChannelInfo | undefined> {
    return this.client.info(this.rt.slot(channelId)[1].machine.params.channelId)
  }

  channelIds(): `0x${string}`[] {
    return [...this.rt.channels.keys()].map((k) => `0x${k}` as const)
  }

  /** Retransmits or times out stale proposals and open requests; re-checks funding on L1. */
  tick(now: number = this.now()): void {
    if (this.stopped) return
    for (const key of this.rt.channels.keys()) this.rt.tryDispatch(key, { type: 'tick', now }, (err) => this.record(err))
    // L1 events we did not hear (offline, no block listener) and challenges still to land.
    this.cursor.pull()
  }

  /**
   * Every new L1 block (and tick): refutations still to land, and each
   * channel's L1 part of funding — A's refund once the funding timeout
   * passed is a matter of blocks, so it must not wait for a wall-clock timer
   * an embedding node may not run (the HTLC router runs none); an open
   * request the peer never answered is repeated and given up the same way.
   */
  private onBlock(): void {
    if (this.stopped) return
    this.chain.onBlock()
    for (const [key, slot] of this.rt.channels) {
      if (slot.machine.phase !== 'funding') continue
      if (isFullySigned(slot.machine.latest)) this.funding.fund(key).catch((err) => this.record(err))
      // Still waiting for the peer's signature on v0: repeat the request, or give up after maxAttempts (nothing deposited).
      else this.rt.tryDispatch(key, { type: 'tick', now: this.now() }, (err) => this.record(err))
    }
  }

  /** A node that cannot persist must not go on: it stops (and sends nothing more). */
  private fail(err: unknown): void {
    if (this.failure === undefined) this.failure = err
    this.stop()
  }

  /**
   * Stops timers and subscriptions, rejects what is waiting and drops every
   * connection (peers see a disconnect); the store is left open for the caller.
   */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.rt.stopped = true
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    this.cursor.stop()
    const err = new ChannelError('STOPPED', 'node', 'node stopped')
    this.rt.rejectAll(err)
    for (const w of this.openWaiters.values()) w.reject(err)
    this.openWaiters.clear()
    this.peers.suspend()
  }

  /**
   * Brings a stopped node back in this process (after its store failed and
   * works again): reloads every channel from the store and accepts
   * connections again; reconnecting links redial and resync.
   */
  restart(): void {
    if (!this.stopped) throw new ChannelError('BUSY', 'node', 'node is running')
    this.failure = undefined
    this.stopped = false
    this.rt.stopped = false
    this.start()
    this.peers.resume()
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

/** Why an open ended before the channel was funded, as the error open() rejects with. */
function openFailure(code: string): ChannelError {
  if (code === 'TIMEOUT') return new ChannelError('TIMEOUT', 'peer', 'the peer did not countersign version 0; nothing was deposited')
  if (code === 'CLOSED') return new ChannelError('CHANNEL_CLOSED', 'channelId', 'the channel closed before it was funded (refunded)')
  return new ChannelError('POLICY', 'peer', `peer refused the channel (${code}); nothing was deposited`)
}
