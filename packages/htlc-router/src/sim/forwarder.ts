/**
 * The forwarding-engine seam of the simulator.
 *
 * The simulator decides *what* happens (routes, hop checks, timing, retries);
 * a Forwarder holds the money and does it: per channel, add an HTLC (the
 * offering side's balance is locked), fulfil it with the preimage (the amount
 * moves to the other side) or fail it (the amount returns). One call per hop
 * per step, exactly the updates two channel peers would sign.
 *
 * `BalanceForwarder` is the abstract implementation: bigint balances per
 * direction, no signatures. A channel-backed implementation (HTLC updates
 * inside @l2bench/payment-channel states, for small in-process networks)
 * implements the same interface; methods may return promises for that reason.
 *
 * Contract for every implementation: a rejected addHtlc changes nothing; for
 * every channel, balance(a) + balance(b) + Σ pending HTLCs = capacity at all
 * times; a closed channel takes no new HTLCs but its pending ones still
 * resolve (on chain).
 */
import { InvalidInputError, Rng, bytesEqual, describe, sha256 } from '@l2bench/core'
import { HtlcError } from '../errors.ts'
import type { ChannelGraph } from '../graph/graph.ts'

export type Awaitable<T> = T | Promise<T>

export interface HtlcOffer {
  /** Unique per simulator run. */
  readonly id: number
  /** Directed edge: the HTLC goes from edgeFrom[edge] to edgeTo[edge]. */
  readonly edge: number
  readonly amountMsat: bigint
  /** Absolute block height after which the offerer can reclaim it. */
  readonly expiry: number
  /** SHA-256 of the preimage that fulfils it. */
  readonly paymentHash: Uint8Array
}

export type AddHtlcResult = { ok: true } | { ok: false; reason: 'insufficient_balance' | 'channel_closed' }

export interface Forwarder {
  readonly graph: ChannelGraph
  /** Lock the amount on the offering side. Rejected (and nothing changes) without enough balance or on a closed channel. */
  addHtlc(offer: HtlcOffer): Awaitable<AddHtlcResult>
  /** The receiving side revealed the preimage: the amount moves to it. */
  fulfillHtlc(id: number, preimage: Uint8Array): Awaitable<void>
  /** Failed or timed out: the amount returns to the offering side. */
  failHtlc(id: number): Awaitable<void>
  /** Force-close: no new HTLCs on this channel; pending ones still resolve (on chain). */
  closeChannel(channel: number): Awaitable<void>
  /** Spendable balance of the offering side of `edge`, excluding its pending HTLCs. */
  liquidity(edge: number): bigint
}

/** How the capacity of each channel is split between its two sides at the start. */
export type InitialLiquidity =
  | 'uniform'
  /**
   * Most balances near one end of the channel — the bimodal shape reported
   * for the real network, where many channels are depleted in one direction:
   * side a's share is U⁴ or 1 − U⁴ with equal odds.
   */
  | 'bimodal'
  | 'half'
  | 'funder'
  /** Returns side a's balance (0..capacity); side b gets the rest. */
  | ((channel: number, capacityMsat: bigint, rng: Rng) => bigint)

export interface BalanceForwarderOptions {
  seed?: number | string
  /** 'uniform' (default): side a gets U(0, capacity); 'bimodal': near one end; 'half': equal; 'funder': all on side a. */
  liquidity?: InitialLiquidity
}

interface Pending {
  edge: number
  amount: bigint
  hash: Uint8Array
}

/** Abstract balances: one bigint per direction of each channel. */
export class BalanceForwarder implements Forwarder {
  readonly graph: ChannelGraph
  private readonly balance: BigUint64Array
  private readonly pending = new Map<number, Pending>()
  private readonly closed: Uint8Array

  constructor(graph: ChannelGraph, options: BalanceForwarderOptions = {}) {
    this.graph = graph
    this.balance = new BigUint64Array(graph.edgeCount)
    this.closed = new Uint8Array(graph.channelCount)
    const rng = new Rng(`liquidity:${options.seed ?? 1}`)
    const init = options.liquidity ?? 'uniform'
    for (let c = 0; c < graph.channelCount; c++) {
      const cap = BigInt(graph.capacity[c] as number)
      let a: bigint
      if (init === 'uniform') a = rng.bigint(cap + 1n)
      else if (init === 'bimodal') {
        const f = rng.next() ** 4
        a = BigInt(Math.floor(Number(cap) * (rng.bool() ? f : 1 - f)))
      }
      else if (init === 'half') a = cap / 2n
      else if (init === 'funder') a = cap
      else if (typeof init === 'function') {
        a = init(c, cap, rng)
        if (typeof a !== 'bigint' || a < 0n || a > cap)
          throw new InvalidInputError('liquidity', `channel ${c}: side a balance must be a bigint in 0..${cap}, got ${describe(a)}`)
      } else throw new InvalidInputError('liquidity', `expected 'uniform', 'bimodal', 'half', 'funder' or a function, got ${describe(init)}`)
      this.balance[2 * c] = a
      this.balance[2 * c + 1] = cap - a
    }
  }

  addHtlc(offer: HtlcOffer): AddHtlcResult {
    this.graph.assertEdge('offer.edge', offer.edge)
    if (!Number.isSafeInteger(offer.id) || this.pending.has(offer.id)) throw new HtlcError('offer.id', `HTLC id ${describe(offer.id)} is invalid or in use`)
    if (typeof offer.amountMsat !== 'bigint' || offer.amountMsat <= 0n)
      throw new InvalidInputError('offer.amountMsat', `expected a positive bigint, got ${describe(offer.amountMsat)}`)
    if (!(offer.paymentHash instanceof Uint8Array) || offer.paymentHash.length !== 32)
      throw new InvalidInputError('offer.paymentHash', 'expected 32 bytes')
    if (this.closed[offer.edge >> 1] === 1) return { ok: false, reason: 'channel_closed' }
    const have = this.balance[offer.edge] as bigint
    if (have < offer.amountMsat) return { ok: false, reason: 'insufficient_balance' }
    this.balance[offer.edge] = have - offer.amountMsat
    this.pending.set(offer.id, { edge: offer.edge, amount: offer.amountMsat, hash: offer.paymentHash })
    return { ok: true }
  }

  fulfillHtlc(id: number, preimage: Uint8Array): void {
    const p = this.take(id)
    if (!(preimage instanceof Uint8Array) || !bytesEqual(sha256(preimage), p.hash)) {
      this.pending.set(id, p)
      throw new HtlcError('preimage', `preimage does not hash to HTLC ${id}'s payment hash`)
    }
    const back = p.edge ^ 1
    this.balance[back] = (this.balance[back] as bigint) + p.amount
  }

  failHtlc(id: number): void {
    const p = this.take(id)
    this.balance[p.edge] = (this.balance[p.edge] as bigint) + p.amount
  }

  closeChannel(channel: number): void {
    this.graph.assertChannel('channel', channel)
    this.closed[channel] = 1
  }

  liquidity(edge: number): bigint {
    this.graph.assertEdge('edge', edge)
    return this.balance[edge] as bigint
  }

  isClosed(channel: number): boolean {
    this.graph.assertChannel('channel', channel)
    return this.closed[channel] === 1
  }

  /** Number of unresolved HTLCs. */
  get pendingCount(): number {
    return this.pending.size
  }

  /** Sum locked in unresolved HTLCs on `channel`. */
  pendingMsat(channel: number): bigint {
    let s = 0n
    for (const p of this.pending.values()) if (p.edge >> 1 === channel) s += p.amount
    return s
  }

  /** Everything the forwarder holds: all balances plus all pending HTLCs (constant by construction). */
  totalMsat(): bigint {
    let s = 0n
    for (const b of this.balance) s += b
    for (const p of this.pending.values()) s += p.amount
    return s
  }

  /** Spendable balance of `node` across its channels (pending HTLCs it offered excluded). */
  nodeBalanceMsat(node: number): bigint {
    let s = 0n
    for (const e of this.graph.outgoing(node)) s += this.balance[e] as bigint
    return s
  }

  private take(id: number): Pending {
    const p = this.pending.get(id)
    if (p === undefined) throw new HtlcError('id', `no pending HTLC ${describe(id)}`)
    this.pending.delete(id)
    return p
  }
}
