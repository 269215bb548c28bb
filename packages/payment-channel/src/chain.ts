/**
 * Chain: the node's side of the adjudicator — what it learns from L1 events
 * and which state it may enforce there.
 *
 *   Opened      → B's funding check (confirm if the terms are the signed ones)
 *   Funded      → `funded` (the channel is open)
 *   Registered, Challenged → `disputed`; refute a stale registration with the
 *                 newest enforceable state (unless autoChallenge is off), and
 *                 again on every block until it landed or the window closed
 *                 (a challenge dropped, delayed or sent while offline is retried)
 *   ToppedUp    → compare deposits (ensureDeposit)
 *   Concluded, Refunded → `closed`
 *
 * Top-ups: the contract raises the deposits only together with a state
 * signed by both that holds the new total. Until that deposit lands, the
 * newest state L1 accepts is the one before the top-up (`topUpFallback`);
 * `enforceable` picks between the two by reading the deposits, and
 * `ensureDeposit` is the one place that compares them with a top-up in
 * flight: it notices a landed deposit, or makes it when it is ours.
 *
 * Events come from an EventCursor (cursor.ts): each exactly once, in order,
 * including those emitted while this node was offline or down.
 */
import type { L1Event, Receipt } from '@l2bench/l1-mock'
import type { ChannelInfo } from './adjudicator.ts'
import type { AdjudicatorClient } from './client.ts'
import { ChannelError } from './errors.ts'
import { isFullySigned } from './phase.ts'
import type { Machine } from './protocol.ts'
import type { Runtime } from './runtime.ts'
import { type SignedState, channelIdHex } from './state.ts'

export interface ChainHooks {
  now(): number
  record(err: unknown): void
  stopped(): boolean
  autoChallenge(): boolean
  /** B's funding check (Funding.fund). */
  fund(key: string): void
}

/** Σ deposits the adjudicator holds for a channel. */
export function onChainTotal(info: ChannelInfo | undefined): bigint {
  return info === undefined ? 0n : info.deposits[0] + info.deposits[1]
}

export class Chain {
  private readonly depositing = new Set<string>()
  /** Channels registered on L1 that may still need refuting: checked on every block until the window closes. */
  private readonly disputes = new Set<string>()
  /** A refutation (read, then challenge) under way. */
  private readonly refuting = new Set<string>()

  constructor(
    private readonly rt: Runtime,
    readonly client: AdjudicatorClient,
    private readonly hooks: ChainHooks,
  ) {}

  /** One adjudicator event, in order (the EventCursor runs it after the transaction that emitted it returned). */
  readonly onEvent = (e: L1Event): void => {
    this.handle(e)
  }

  /** Every new block: refute again where our challenge has not landed (dropped, delayed, sent while offline). */
  readonly onBlock = (): void => {
    for (const key of this.disputes) this.refute(key)
  }

  private handle(e: L1Event): void {
    if (this.hooks.stopped()) return
    const id = e.data.channelId
    if (!(id instanceof Uint8Array)) return
    const key = channelIdHex(id)
    const slot = this.rt.channels.get(key)
    if (slot === undefined) return
    const now = this.hooks.now()
    try {
      switch (e.name) {
        case 'Opened':
          this.hooks.fund(key)
          return
        case 'Funded':
          this.rt.dispatch(key, { type: 'funded', now })
          return
        case 'Registered':
        case 'Challenged': {
          this.rt.dispatch(key, { type: 'disputed', now })
          if (slot.machine.phase === 'closed' || !this.hooks.autoChallenge()) return
          this.disputes.add(key)
          this.refute(key)
          return
        }
        case 'Concluded':
        case 'Refunded':
          this.markClosed(key)
          return
        case 'ToppedUp':
          this.ensureDeposit(key).catch((err) => this.hooks.record(err))
          return
      }
    } catch (err) {
      this.hooks.record(err)
    }
  }

  /**
   * Challenges a registration older than our newest enforceable state while
   * a transaction sent now can still land (height < deadline); forgets the
   * dispute once it is refuted, over, or not ours to refute.
   */
  private refute(key: string): void {
    if (this.refuting.has(key) || this.hooks.stopped()) return
    const m = this.rt.channels.get(key)?.machine
    if (m === undefined || m.phase === 'closed' || !isFullySigned(m.latest)) {
      this.disputes.delete(key)
      return
    }
    this.refuting.add(key)
    this.refuteOnce(key, m)
      .catch((err) => this.hooks.record(err))
      .finally(() => this.refuting.delete(key))
  }

  private async refuteOnce(key: string, m: Machine): Promise<void> {
    const info = await this.client.info(m.params.channelId)
    const d = info?.dispute
    if (info?.phase !== 'disputed' || d === undefined || this.client.l1.head().height >= d.deadline) {
      this.disputes.delete(key)
      return
    }
    if (d.version >= m.latest.state.version) return
    const s = await this.enforceable(m)
    if (s.state.version > d.version) await this.client.challenge(s)
  }

  /** With a top-up in flight: notice that its deposit landed, or make it if it is ours. */
  async ensureDeposit(key: string): Promise<void> {
    const m = this.rt.channels.get(key)?.machine
    if (m === undefined || m.awaitingDeposit === undefined) return
    const info = await this.client.info(m.params.channelId)
    if (info === undefined) return
    const onChain = onChainTotal(info)
    if (onChain >= m.awaitingDeposit) return this.rt.dispatch(key, { type: 'deposited', total: onChain, now: this.hooks.now() })
    if (m.topUpParty !== m.me || info.phase !== 'open' || this.depositing.has(key) || this.hooks.stopped()) return
    this.depositing.add(key)
    try {
      // The deposit goes with the state that accounts for it (the contract checks Σ = deposits + value).
      await this.client.topUp(m.latest, m.awaitingDeposit - onChain)
    } finally {
      this.depositing.delete(key)
    }
  }

  /** The newest state the adjudicator accepts now (a top-up's states only once its deposit landed). */
  async enforceable(m: Machine): Promise<SignedState> {
    if (!isFullySigned(m.latest)) throw new ChannelError('CHANNEL_CLOSED', 'channelId', 'no fully signed state yet')
    if (m.awaitingDeposit === undefined || m.topUpFallback === undefined) return m.latest
    const info = await this.client.info(m.params.channelId)
    return onChainTotal(info) >= m.awaitingDeposit ? m.latest : m.topUpFallback
  }

  markClosed(key: string): void {
    const slot = this.rt.channels.get(key)
    if (slot === undefined || slot.machine.phase === 'closed') return
    this.rt.dispatch(key, { type: 'closed', now: this.hooks.now() })
  }

  /** Submits a final state signed by both (pays at once). */
  async close(key: string, signed: SignedState): Promise<Receipt> {
    const receipt = await this.client.close(signed)
    this.markClosed(key)
    return receipt
  }

  async finalize(key: string, m: Machine): Promise<Receipt> {
    const r = await this.client.finalize(m.params.channelId)
    this.markClosed(key)
    return r
  }
}
