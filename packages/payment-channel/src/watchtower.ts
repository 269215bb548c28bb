/**
 * Watchtower: watches the adjudicator for channels its clients handed it
 * states of, and challenges a stale registration inside the dispute window.
 *
 * It holds only fully signed states (never keys): the newest per channel,
 * after checking both signatures against the public keys stored on L1 at
 * open, so a client (or anyone) cannot make it spend gas on garbage. It pays
 * for its challenges from its own funded wallet (Lightning §2.1: the service
 * can only broadcast what the client gave it).
 */
import { type Address, SignatureError, type Verifier, nodeVerifier } from '@l2bench/core'
import type { L1, L1Event, Receipt, Unsubscribe, Wallet } from '@l2bench/l1-mock'
import type { Adjudicator, ChannelInfo } from './adjudicator.ts'
import { AdjudicatorClient } from './client.ts'
import { ChannelError } from './errors.ts'
import { type SignedState, channelIdHex, checkState, stateDigest, stateTotal } from './state.ts'

export interface WatchtowerOptions {
  wallet: Wallet
  adjudicator: Adjudicator
  verifier?: Verifier
}

export class Watchtower {
  readonly client: AdjudicatorClient
  readonly address: Address
  private readonly verifier: Verifier
  private readonly states = new Map<string, SignedState>()
  private readonly keys = new Map<string, ChannelInfo>()
  private readonly inFlight = new Set<string>()
  private readonly unsubscribe: Unsubscribe
  /** Receipts of challenges sent (tests and reports read them). */
  readonly challenges: Receipt[] = []
  readonly errors: Error[] = []

  constructor(options: WatchtowerOptions) {
    this.client = new AdjudicatorClient(options.wallet, options.adjudicator)
    this.address = options.wallet.address
    this.verifier = options.verifier ?? nodeVerifier
    this.unsubscribe = this.l1.subscribe({ address: options.adjudicator.address }, (e) => this.onEvent(e), { owner: this.address })
  }

  get l1(): L1 {
    return this.client.l1
  }

  /** Number of channels watched. */
  get size(): number {
    return this.states.size
  }

  held(channelId: Uint8Array): SignedState | undefined {
    return this.states.get(channelIdHex(channelId))
  }

  /**
   * Takes a fully signed state; keeps it if newer than the one held. Throws
   * SignatureError / ChannelError for states it cannot use.
   */
  async watch(signed: SignedState): Promise<void> {
    const key = channelIdHex(signed.state.channelId)
    const held = this.states.get(key)
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
    const again = this.states.get(key)
    if (again === undefined || again.state.version < signed.state.version) this.states.set(key, { ...signed, digest })
    // A registration we missed (it happened before we held this state): act on it now.
    const now = await this.client.info(signed.state.channelId)
    const d = now?.dispute
    if (now?.phase === 'disputed' && d !== undefined) this.react(key, d.version, d.deadline)
  }

  /** Synchronous hand-off for ChannelNode's `onSignedState` (errors are kept in `errors`). */
  readonly handOff = (signed: SignedState): void => {
    this.watch(signed).catch((err) => this.errors.push(err as Error))
  }

  private onEvent(e: L1Event): void {
    if (e.name !== 'Registered' && e.name !== 'Challenged') return
    const id = e.data.channelId
    if (!(id instanceof Uint8Array)) return
    this.react(channelIdHex(id), e.data.version as bigint, e.data.deadline as number)
  }

  /** Challenges when we hold a newer state than the registered one and the window is open. */
  private react(key: string, version: bigint, deadline: number): void {
    const held = this.states.get(key)
    if (held === undefined || held.state.version <= version || this.l1.head().height >= deadline) return
    if (this.inFlight.has(key)) return
    this.inFlight.add(key)
    this.client
      .challenge(held)
      .then((r) => this.challenges.push(r))
      .catch((err) => this.errors.push(err as Error))
      .finally(() => this.inFlight.delete(key))
  }

  stop(): void {
    this.unsubscribe()
  }
}
