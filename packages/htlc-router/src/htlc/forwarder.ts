/**
 * ChannelForwarder: the simulator's Forwarder seam (sim/forwarder.ts) over
 * real channels — every graph node an HtlcNode, every graph channel a
 * payment channel funded on one MockL1 with the HtlcAdjudicator, every
 * addHtlc / fulfillHtlc / failHtlc a countersigned channel update (real
 * signatures) checked by the receiving side's HTLC policy.
 *
 * The simulator keeps deciding routes, hop checks and timing; this class only
 * moves the money, exactly where BalanceForwarder moves abstract balances, so
 * the two give the same results on the same graph and workload (a test
 * checks it). Heights: pass `startHeight: forwarder.startHeight` to the
 * simulator and call `bindClock(() => sim.heightAt(sim.now))`, so the L1 is
 * advanced to the simulated height before each operation and HTLC expiries
 * mean the same block on both sides.
 *
 * A force-closed channel (closeChannel) is registered and finalized on L1;
 * its pending HTLCs then resolve on chain: fulfil = claim with the preimage,
 * fail = refund by the offerer after the expiry (the L1 is advanced to it).
 *
 * For small networks (tens of nodes): each channel costs two L1 transactions
 * to open and every HTLC step two signatures and two verifications.
 */
import { InvalidInputError, bytesEqual, describe, sha256 } from '@l2bench/core'
import { HtlcError } from '../errors.ts'
import type { ChannelGraph } from '../graph/graph.ts'
import type { AddHtlcResult, Forwarder, HtlcOffer } from '../sim/forwarder.ts'
import { HtlcNetwork } from './network.ts'
import type { HtlcNode } from './node.ts'

export interface ChannelForwarderOptions {
  /** Side a's share of each channel: 'half' (default), 'funder' (all on side a) or a function. */
  liquidity?: 'half' | 'funder' | ((channel: number, capacity: bigint) => bigint)
  disputeWindow?: number
  seed?: string
}

interface Pending {
  edge: number
  lockId: Uint8Array
  hash: Uint8Array
  expiry: number
}

export class ChannelForwarder implements Forwarder {
  readonly graph: ChannelGraph
  /** L1 height once every channel is open: the simulator's startHeight. */
  readonly startHeight: number
  private readonly pending = new Map<number, Pending>()
  private readonly closed: Uint8Array
  private clock: (() => number) | undefined

  private constructor(
    graph: ChannelGraph,
    readonly network: HtlcNetwork,
  ) {
    this.graph = graph
    this.closed = new Uint8Array(graph.channelCount)
    this.startHeight = network.l1.head().height
  }

  static async create(graph: ChannelGraph, options: ChannelForwarderOptions = {}): Promise<ChannelForwarder> {
    const split = options.liquidity ?? 'half'
    const channels = []
    for (let c = 0; c < graph.channelCount; c++) {
      const cap = graph.capacityMsat(c)
      const a = split === 'half' ? cap / 2n : split === 'funder' ? cap : split(c, cap)
      if (typeof a !== 'bigint' || a < 0n || a > cap)
        throw new InvalidInputError('liquidity', `channel ${c}: side a balance must be a bigint in 0..${cap}, got ${describe(a)}`)
      channels.push({ a: graph.chanA[c] as number, b: graph.chanB[c] as number, depositA: a, depositB: cap - a })
    }
    const network = await HtlcNetwork.create({
      nodes: graph.nodeCount,
      channels,
      disputeWindow: options.disputeWindow ?? 6,
      seed: options.seed ?? 'channel-forwarder',
      nodeOptions: () => ({ watchChain: false }),
    })
    return new ChannelForwarder(graph, network)
  }

  /** Simulated height source; the L1 is advanced to it before each operation. */
  bindClock(height: () => number): void {
    this.clock = height
  }

  private async sync(): Promise<void> {
    if (this.clock === undefined) return
    const h = this.clock()
    if (h > this.network.l1.head().height) await this.network.l1.advanceTo(h)
  }

  private node(i: number): HtlcNode {
    return this.network.nodes[i] as HtlcNode
  }

  private channelId(edge: number): Uint8Array {
    return this.network.channelIds[edge >> 1] as Uint8Array
  }

  async addHtlc(offer: HtlcOffer): Promise<AddHtlcResult> {
    this.graph.assertEdge('offer.edge', offer.edge)
    if (!Number.isSafeInteger(offer.id) || this.pending.has(offer.id)) throw new HtlcError('offer.id', `HTLC id ${describe(offer.id)} is invalid or in use`)
    if (typeof offer.amountMsat !== 'bigint' || offer.amountMsat <= 0n)
      throw new InvalidInputError('offer.amountMsat', `expected a positive bigint, got ${describe(offer.amountMsat)}`)
    if (!(offer.paymentHash instanceof Uint8Array) || offer.paymentHash.length !== 32) throw new InvalidInputError('offer.paymentHash', 'expected 32 bytes')
    if (this.closed[offer.edge >> 1] === 1) return { ok: false, reason: 'channel_closed' }
    await this.sync()
    const from = this.node(this.graph.edgeFrom[offer.edge] as number)
    const r = await from.offerHtlc(this.channelId(offer.edge), { amount: offer.amountMsat, hash: offer.paymentHash, expiry: BigInt(offer.expiry) })
    if (!r.ok) return { ok: false, reason: r.code === 'permanent_channel_failure' ? 'channel_closed' : 'insufficient_balance' }
    this.pending.set(offer.id, { edge: offer.edge, lockId: r.lockId, hash: offer.paymentHash, expiry: offer.expiry })
    return { ok: true }
  }

  async fulfillHtlc(id: number, preimage: Uint8Array): Promise<void> {
    const p = this.get(id)
    if (!(preimage instanceof Uint8Array) || !bytesEqual(sha256(preimage), p.hash)) throw new HtlcError('preimage', `preimage does not hash to HTLC ${id}'s payment hash`)
    await this.sync()
    await this.node(this.graph.edgeTo[p.edge] as number).settleHtlc(this.channelId(p.edge), p.lockId, preimage)
    this.pending.delete(id)
  }

  async failHtlc(id: number): Promise<void> {
    const p = this.get(id)
    await this.sync()
    if (this.closed[p.edge >> 1] === 1) {
      // On chain: the offerer's refund needs the expiry reached.
      if (this.network.l1.head().height < p.expiry) await this.network.l1.advanceTo(p.expiry)
      await this.node(this.graph.edgeFrom[p.edge] as number).refundOnChain(this.channelId(p.edge), p.lockId)
    } else await this.node(this.graph.edgeTo[p.edge] as number).failHtlc(this.channelId(p.edge), p.lockId)
    this.pending.delete(id)
  }

  async closeChannel(channel: number): Promise<void> {
    this.graph.assertChannel('channel', channel)
    if (this.closed[channel] === 1) return
    this.closed[channel] = 1
    await this.sync()
    const a = this.node(this.graph.chanA[channel] as number)
    const id = this.network.channelIds[channel] as Uint8Array
    await a.channel.forceClose({ channelId: id })
    const info = await a.channel.onChain(id)
    const deadline = info?.dispute?.deadline ?? this.network.l1.head().height
    await this.network.l1.advanceTo(deadline + 1)
    await a.channel.finalize({ channelId: id })
  }

  liquidity(edge: number): bigint {
    this.graph.assertEdge('edge', edge)
    if (this.closed[edge >> 1] === 1) return 0n
    return this.node(this.graph.edgeFrom[edge] as number).balance(this.channelId(edge))
  }

  /** Number of unresolved HTLCs. */
  get pendingCount(): number {
    return this.pending.size
  }

  stop(): void {
    this.network.stop()
  }

  private get(id: number): Pending {
    const p = this.pending.get(id)
    if (p === undefined) throw new HtlcError('id', `no pending HTLC ${describe(id)}`)
    return p
  }
}
