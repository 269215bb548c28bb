/**
 * Watchtower: watches the adjudicator for channels its clients handed it
 * states of, and challenges a stale registration inside the dispute window.
 *
 * It holds only fully signed states (never keys), after checking both
 * signatures against the public keys stored on L1 at open, so a client (or
 * anyone) cannot make it spend gas on garbage. It pays for its challenges
 * from its own funded wallet (Lightning §2.1: the service can only broadcast
 * what the client gave it).
 *
 * The newest version is not always enforceable: a top-up state is valid on
 * L1 only once its deposit landed (the adjudicator checks Σ state =
 * deposits). So the tower keeps, per channel, the newest state for each total
 * it was handed (at most MAX_TOTALS of them; totals below the deposits on L1
 * can never be valid again and are dropped) and challenges with the newest
 * state whose total matches the deposits on L1 at that moment.
 *
 * Events come from an EventCursor: a registration made while the tower was
 * offline is caught up from the log, and a challenge that did not land
 * (dropped, delayed, sent while offline) is sent again on every block until
 * it does or the window closes.
 */
import { type Address, InvalidInputError, SignatureError, type Verifier, assertBytes, describe, nodeVerifier } from '@l2bench/core'
import type { L1, L1Event, Receipt, Wallet } from '@l2bench/l1-mock'
import type { Adjudicator, ChannelInfo } from './adjudicator.ts'
import { AdjudicatorClient } from './client.ts'
import { ChannelError } from './errors.ts'
import { onChainTotal } from './chain.ts'
import { EventCursor } from './cursor.ts'
import { type SignedState, channelIdHex, checkState, stateDigest, stateTotal } from './state.ts'

/** Distinct totals (deposit levels) kept per channel: the current one and top-ups not landed yet. */
export const MAX_TOTALS = 4

export interface WatchtowerOptions {
  wallet: Wallet
  adjudicator: Adjudicator
  verifier?: Verifier
}

export class Watchtower {
  readonly client: AdjudicatorClient
  readonly address: Address
  private readonly verifier: Verifier
  /** Per channel: total → the newest state with that total. */
  private readonly states = new Map<string, Map<bigint, SignedState>>()
  private readonly keys = new Map<string, ChannelInfo>()
  private readonly inFlight = new Set<string>()
  /** Registrations of watched channels whose window is open: refuted again on every block until they are. */
  private readonly disputes = new Map<string, { version: bigint; deadline: number }>()
  private readonly cursor: EventCursor
  /** Receipts of challenges sent (tests and reports read them). */
  readonly challenges: Receipt[] = []
  readonly errors: Error[] = []

  constructor(options: WatchtowerOptions) {
    this.client = new AdjudicatorClient(options.wallet, options.adjudicator)
    this.address = options.wallet.address
    this.verifier = options.verifier ?? nodeVerifier
    this.cursor = new EventCursor(this.l1, {
      filter: { address: options.adjudicator.address },
      owner: this.address,
      onEvent: (e) => this.onEvent(e),
      onBlock: (height) => this.onBlock(height),
      onError: (err) => this.errors.push(err as Error),
    })
    // Registrations made before a state is handed over are found by `watch` itself.
    this.cursor.start(this.l1.head().height + 1)
  }

  get l1(): L1 {
    return this.client.l1
  }

  /** Number of channels watched. */
  get size(): number {
    return this.states.size
  }

  /** The newest state held for a channel (whatever its total). */
  held(channelId: Uint8Array): SignedState | undefined {
    let best: SignedState | undefined
    for (const s of this.states.get(channelIdHex(channelId))?.values() ?? []) if (best === undefined || s.state.version > best.state.version) best = s
    return best
  }

  /** The newest state held whose total is `total` (what L1 enforces while its deposits are `total`). */
  heldFor(channelId: Uint8Array, total: bigint): SignedState | undefined {
    return this.states.get(channelIdHex(channelId))?.get(total)
  }

  /**
   * Takes a fully signed state; keeps it if newer than the one held for its
   * total. Throws SignatureError / ChannelError for states it cannot use.
   */
  async watch(signed: SignedState): Promise<void> {
    if (typeof signed !== 'object' || signed === null || typeof signed.state !== 'object' || signed.state === null)
      throw new InvalidInputError('signed', `expected a signed state, got ${describe(signed)}`)
    assertBytes('state.channelId', signed.state.channelId, 32)
    const key = channelIdHex(signed.state.channelId)
    const total = stateTotal(signed.state)
    const held = this.states.get(key)?.get(total)
    if (held !== undefined && held.state.version >= signed.state.version) return
    let info = this.keys.get(key)
    if (info === undefined) {
      info = await this.client.info(signed.state.channelId)
      if (info === undefined) throw new ChannelError('UNKNOWN_CHANNEL', 'state.channelId', 'channel not on L1')
      this.keys.set(key, info)
    }
    checkState('state', signed.state, stateTotal(signed.state))
    const digest = stateDigest({ chainId: this.l1.chainId, adjudicator: this.client.contract.address }, signed.state)
    for (const i of [0, 1] as const)
      if (!this.verifier.verify(signed.sigs[i], digest, info.publicKeys[i] as Uint8Array))
        throw new SignatureError(i === 0 ? 'sigA' : 'sigB', 'state not signed by both parties')
    const byTotal = this.states.get(key) ?? new Map<bigint, SignedState>()
    const again = byTotal.get(total)
    if (again === undefined || again.state.version < signed.state.version) byTotal.set(total, { ...signed, digest })
    this.states.set(key, byTotal)
    // A registration we missed (it happened before we held this state): act on it now.
    const now = await this.client.info(signed.state.channelId)
    this.prune(byTotal, onChainTotal(now))
    const d = now?.dispute
    if (now?.phase === 'disputed' && d !== undefined) {
      this.disputes.set(key, { version: d.version, deadline: d.deadline })
      this.react(key, d.version, d.deadline)
    }
  }

  /** Deposits only grow: states below them are void for good. Past MAX_TOTALS the lowest totals go. */
  private prune(byTotal: Map<bigint, SignedState>, deposits: bigint): void {
    for (const t of [...byTotal.keys()]) if (t < deposits) byTotal.delete(t)
    const totals = [...byTotal.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    while (totals.length > MAX_TOTALS) byTotal.delete(totals.shift() as bigint)
  }

  /** Synchronous hand-off for ChannelNode's `onSignedState` (errors are kept in `errors`). */
  readonly handOff = (signed: SignedState): void => {
    this.watch(signed).catch((err) => this.errors.push(err as Error))
  }

  private onEvent(e: L1Event): void {
    if (e.name !== 'Registered' && e.name !== 'Challenged') return
    const id = e.data.channelId
    if (!(id instanceof Uint8Array)) return
    const key = channelIdHex(id)
    if (!this.states.has(key)) return
    const d = { version: e.data.version as bigint, deadline: e.data.deadline as number }
    this.disputes.set(key, d)
    this.react(key, d.version, d.deadline)
  }

  /** Every block: refute again what is still refutable (a challenge of ours lands as a Challenged event, which raises the version). */
  private onBlock(height: number): void {
    for (const [key, d] of this.disputes) {
      if (height >= d.deadline) this.disputes.delete(key)
      else this.react(key, d.version, d.deadline)
    }
  }

  /** Challenges when we hold a newer state that L1 accepts (its total = the deposits) and the window is open. */
  private react(key: string, version: bigint, deadline: number): void {
    const byTotal = this.states.get(key)
    if (byTotal === undefined || this.inFlight.has(key) || this.l1.head().height >= deadline) return
    const any = [...byTotal.values()][0]
    if (any === undefined) return
    this.inFlight.add(key)
    this.client
      .info(any.state.channelId)
      .then((info) => {
        const deposits = onChainTotal(info)
        this.prune(byTotal, deposits)
        const held = byTotal.get(deposits)
        if (held === undefined || held.state.version <= version) return
        return this.client.challenge(held).then((r) => {
          this.challenges.push(r)
        })
      })
      .catch((err) => this.errors.push(err as Error))
      .finally(() => this.inFlight.delete(key))
  }

  stop(): void {
    this.cursor.stop()
  }
}
