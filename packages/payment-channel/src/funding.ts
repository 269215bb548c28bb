/**
 * Funding: opening a channel, as `step` events of the runtime plus the L1
 * work each side does once its state is durable.
 *
 * Order (Perun §3.1: version 0 is signed by both before any money moves):
 *   A  open(): sign v0, persist, send `open` (parameters + her signature)
 *   B  checks the parameters against its acceptance limits, countersigns v0,
 *      persists, answers `openAck`; it deposits only once A's deposit is on
 *      L1 with exactly the signed terms
 *   A  verifies B's signature, persists v0 signed by both, then deposits
 *   B  confirms with its deposit; both see `Funded` and the channel is open
 *
 * So the peer can never freeze the opener's deposit: once A deposited she
 * holds v0 signed by both (register it, wait the window, get it back), and
 * if B never confirms she refunds after the funding timeout (the node does
 * it by itself on its next funding check). B signs v0 before seeing any L1
 * money, which costs it nothing: that signature is void unless L1 holds a
 * channel with exactly those terms, and B confirms only such a channel.
 *
 * The default acceptance limits are safe against a stranger (DEFAULT_ACCEPT_LIMITS):
 * B deposits nothing unless configured (`maxDeposit`), the dispute window must
 * lie within [minDisputeWindow, maxDisputeWindow], and a peer may keep only a
 * few channels waiting for its deposit (unfunded records expire).
 */
import { type Address, type Amount, InvalidInputError, bytesEqual, describe, toAmount } from '@l2bench/core'
import { RevertError } from '@l2bench/l1-mock'
import type { AdjudicatorClient } from './client.ts'
import { ChannelError } from './errors.ts'
import { isFullySigned } from './phase.ts'
import { type ChannelParams, type Machine, createMachine } from './protocol.ts'
import type { Runtime } from './runtime.ts'
import { channelIdHex, deriveChannelId } from './state.ts'
import { type WireMessage, paramsFromWire } from './wire.ts'

/** What a node agrees to when a peer opens a channel with it. */
export interface AcceptLimits {
  /** Most this node deposits into a channel someone else opens (default 0: only channels the opener funds alone). */
  maxDeposit: Amount
  /** Shortest dispute window accepted (blocks): the time this node has to refute a stale state (default 3). */
  minDisputeWindow: number
  /** Longest dispute window accepted (blocks): how long a force close may lock the funds (default 10,000). */
  maxDisputeWindow: number
  /** Longest funding timeout accepted (blocks; default 10,000). */
  maxFundingTimeout: number
  /** Channels a peer may keep waiting for its L1 deposit (default 8). */
  maxUnfundedPerPeer: number
  /** An unfunded channel this node accepted is forgotten after this long without A's deposit on L1 (ms, default 10 min). */
  unfundedTimeoutMs: number
}

export const DEFAULT_ACCEPT_LIMITS: Readonly<AcceptLimits> = {
  maxDeposit: 0n,
  minDisputeWindow: 3,
  maxDisputeWindow: 10_000,
  maxFundingTimeout: 10_000,
  maxUnfundedPerPeer: 8,
  unfundedTimeoutMs: 10 * 60_000,
}

/** The defaults with `given` on top, each checked (a typed error names the bad field). */
export function acceptLimits(given: Partial<AcceptLimits> = {}): AcceptLimits {
  const l = { ...DEFAULT_ACCEPT_LIMITS, ...given }
  toAmount('acceptLimits.maxDeposit', l.maxDeposit)
  for (const f of ['minDisputeWindow', 'maxDisputeWindow', 'maxFundingTimeout', 'maxUnfundedPerPeer', 'unfundedTimeoutMs'] as const)
    if (!Number.isSafeInteger(l[f]) || l[f] < 0) throw new InvalidInputError(`acceptLimits.${f}`, `expected a non-negative integer, got ${describe(l[f])}`)
  if (l.minDisputeWindow > l.maxDisputeWindow) throw new InvalidInputError('acceptLimits.minDisputeWindow', 'above maxDisputeWindow')
  return l
}

export interface FundingHooks {
  now(): number
  record(err: unknown): void
  /** The open failed with `err` (A's deposit reverted): reject the waiting open() with it. */
  openError(key: string, err: Error): void
  /** Extra decision on an incoming channel (ChannelNodeOptions.acceptChannel). */
  acceptChannel?: ((params: ChannelParams) => boolean) | undefined
}

export class Funding {
  /** Funding checks running, and whether another was asked for meanwhile (it runs right after). */
  private readonly busy = new Map<string, boolean>()
  /** When B accepted each channel still unfunded (in memory: after a restart the clock starts again). */
  private readonly acceptedAt = new Map<string, number>()

  constructor(
    private readonly rt: Runtime,
    private readonly client: AdjudicatorClient,
    readonly limits: AcceptLimits,
    private readonly hooks: FundingHooks,
  ) {}

  /** A: signs v0, persists, sends the request. Returns the channel key. */
  begin(params: ChannelParams): string {
    return this.rt.install(createMachine(this.rt.ctx, params, 0), { type: 'begin', now: this.hooks.now() })
  }

  /** B: a peer's open request. Throws a typed error (answered with a reject) when refused. */
  onOpenRequest(peer: Address, msg: Extract<WireMessage, { type: 'open' }>, me: Address): void {
    const w = msg.params
    if (w.b !== me) throw new InvalidInputError('params.b', 'channel is not for us')
    if (w.a !== peer) throw new InvalidInputError('params.a', 'opener is not the peer')
    if (w.chainId !== this.client.l1.chainId) throw new InvalidInputError('params.chainId', 'wrong chain')
    if (w.adjudicator !== this.client.contract.address) throw new InvalidInputError('params.adjudicator', 'unknown adjudicator')
    if (!bytesEqual(w.pkB, this.rt.ctx.signer.publicKey)) throw new InvalidInputError('params.pkB', 'not our public key')
    const channelId = deriveChannelId({ chainId: w.chainId, adjudicator: w.adjudicator }, w.a, w.b, w.nonce)
    if (!bytesEqual(channelId, w.channelId)) throw new InvalidInputError('params.channelId', 'channel id does not match its parameters')
    const key = channelIdHex(channelId)
    const known = this.rt.channels.get(key)
    if (known !== undefined) {
      // A repeated request (A lost our ack, or restarted): answer again, idempotently.
      if (known.machine.me !== 1 || this.rt.peerOf(known.machine) !== peer) throw new InvalidInputError('params.channelId', 'channel already known')
      this.rt.dispatch(key, { type: 'begin', peerSig: msg.sig, now: this.hooks.now() })
      return
    }
    const params = paramsFromWire(w)
    this.checkTerms(params)
    let unfunded = 0
    for (const s of this.rt.channels.values()) if (s.machine.me === 1 && s.machine.phase === 'funding' && this.rt.peerOf(s.machine) === peer) unfunded++
    if (unfunded >= this.limits.maxUnfundedPerPeer) throw new ChannelError('POLICY', 'peer', `${unfunded} channels of this peer still wait for its deposit`)
    this.rt.install(createMachine(this.rt.ctx, params, 1), { type: 'begin', peerSig: msg.sig, now: this.hooks.now() })
    this.acceptedAt.set(key, this.hooks.now())
  }

  /** The acceptance limits; throws ChannelError('POLICY') naming the field. */
  private checkTerms(p: ChannelParams): void {
    const l = this.limits
    if (p.deposits[1] > l.maxDeposit)
      throw new ChannelError('POLICY', 'params.deposits[1]', `the opener asks us to deposit ${p.deposits[1]}; we deposit at most ${l.maxDeposit}`)
    if (p.deposits[0] + p.deposits[1] === 0n) throw new ChannelError('POLICY', 'params.deposits', 'a channel needs some funds')
    if (p.disputeWindow < l.minDisputeWindow || p.disputeWindow > l.maxDisputeWindow)
      throw new ChannelError('POLICY', 'params.disputeWindow', `dispute window ${p.disputeWindow} outside [${l.minDisputeWindow}, ${l.maxDisputeWindow}]`)
    if (p.fundingTimeout < 1 || p.fundingTimeout > l.maxFundingTimeout)
      throw new ChannelError('POLICY', 'params.fundingTimeout', `funding timeout ${p.fundingTimeout} outside [1, ${l.maxFundingTimeout}]`)
    if (this.hooks.acceptChannel !== undefined && !this.hooks.acceptChannel(p)) throw new ChannelError('POLICY', 'params', 'channel refused by policy')
  }

  /**
   * Does this party's L1 part of the funding, idempotently (on the `fund`
   * effect, on resync, on a funding tick, on the Opened event): A deposits if
   * L1 has nothing yet, or refunds once the funding timeout passed; B confirms
   * once A's deposit is there with the signed terms; either side marks the
   * channel open when L1 says so.
   */
  async fund(key: string): Promise<void> {
    if (this.busy.has(key)) {
      this.busy.set(key, true)
      return
    }
    for (;;) {
      const slot = this.rt.channels.get(key)
      if (slot === undefined || slot.machine.phase !== 'funding' || !isFullySigned(slot.machine.latest) || this.rt.stopped) return
      this.busy.set(key, false)
      let again = false
      try {
        await this.fundOnce(key, slot.machine)
      } finally {
        again = this.busy.get(key) === true
        this.busy.delete(key)
      }
      if (!again) return
    }
  }

  private async fundOnce(key: string, m: Machine): Promise<void> {
    const p = m.params
    const info = await this.client.info(p.channelId)
    const height = this.client.l1.head().height
    if (info !== undefined) this.acceptedAt.delete(key)
    if (info?.phase === 'open') return this.rt.dispatch(key, { type: 'funded', now: this.hooks.now() })
    if (info?.phase === 'closed' || info?.phase === 'disputed') return this.rt.dispatch(key, { type: 'closed', now: this.hooks.now() })
    if (m.me === 0) {
      if (info === undefined) {
        try {
          await this.client.open({
            b: p.parties[1],
            pkA: p.publicKeys[0],
            pkB: p.publicKeys[1],
            nonce: p.nonce,
            depositA: p.deposits[0],
            depositB: p.deposits[1],
            disputeWindow: p.disputeWindow,
            fundingTimeout: p.fundingTimeout,
            penalty: p.penalty,
          })
        } catch (err) {
          // Nothing moved on L1: the channel ends here (B forgets its half after a while).
          this.hooks.openError(key, err as Error)
          this.rt.tryDispatch(key, { type: 'closed', now: this.hooks.now() }, this.hooks.record)
        }
        return
      }
      // B has not confirmed: after the timeout A takes her deposit back (Refunded closes the channel).
      if (height > info.fundingDeadline) await this.client.refund(p.channelId)
      return
    }
    if (info === undefined) {
      const since = this.acceptedAt.get(key) ?? this.acceptedAt.set(key, this.hooks.now()).get(key)!
      if (this.hooks.now() - since > this.limits.unfundedTimeoutMs) {
        this.acceptedAt.delete(key)
        this.rt.dispatch(key, { type: 'closed', now: this.hooks.now() })
      }
      return
    }
    // A's deposit is on L1: confirm only the very terms we signed.
    const same =
      info.parties[0] === p.parties[0] &&
      info.parties[1] === p.parties[1] &&
      bytesEqual(info.publicKeys[0], p.publicKeys[0]) &&
      bytesEqual(info.publicKeys[1], p.publicKeys[1]) &&
      info.deposits[0] === p.deposits[0] &&
      info.declaredDepositB === p.deposits[1] &&
      info.disputeWindow === p.disputeWindow &&
      info.penalty === p.penalty
    if (!same) {
      this.rt.dispatch(key, { type: 'closed', now: this.hooks.now() })
      throw new ChannelError('L1', 'params', 'the channel on L1 has other terms than the version 0 we signed; not confirming')
    }
    if (height > info.fundingDeadline) return
    try {
      await this.client.confirm(p.channelId, p.deposits[1])
    } catch (err) {
      // A revert (say we cannot pay the deposit) would only burn gas again on every check: give the channel up
      // (A refunds after the timeout). A transaction the L1 did not admit (offline, censored) is retried.
      if (err instanceof RevertError) this.rt.dispatch(key, { type: 'closed', now: this.hooks.now() })
      throw err
    }
  }
}
