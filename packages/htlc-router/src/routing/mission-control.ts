/**
 * Mission control: what a sender has learnt from its own payment attempts,
 * forgotten again with a half-life (lnd's mission control, LDK's decaying
 * liquidity offsets).
 *
 * Per directed edge it keeps bounds on the sender-side liquidity, [lo, hi]:
 * a temporary_channel_failure at x sets hi = x − 1; an HTLC of x that a hop
 * forwarded onward sets lo = x; a settled payment of x shifts both down by x
 * (the money left that side). Bounds relax back toward the prior [0, capacity]
 * by halving their distance from it once per elapsed half-life H:
 * hi(t) = c − (c − hi₀)·2^(−⌊age/H⌋), lo(t) = lo₀·2^(−⌊age/H⌋).
 * Per node it keeps the time of the last failure that blamed the node itself
 * (offline peer, HTLC held until it timed out); its penalty factor is
 * 1 − 2^(−age/H).
 *
 * Storage is sparse (a Map per kind): one sender learns about tens of edges,
 * not the whole graph, so the simulator can keep one MissionControl per
 * sender. The pathfinder copies the decayed bounds of the known edges into its
 * dense scratch arrays before a search.
 */
import { InvalidInputError, describe } from '@l2bench/core'
import type { ChannelGraph } from '../graph/graph.ts'
import { liquidityProbability } from './probability.ts'

export interface MissionControlOptions {
  /** Half-life of everything learnt (default one hour, as lnd's penalty half-life). */
  halfLifeMs?: number
}

interface EdgeRecord {
  lo: number
  hi: number
  time: number
}

export const DEFAULT_HALF_LIFE_MS = 3_600_000

export class MissionControl {
  readonly graph: ChannelGraph
  readonly halfLifeMs: number
  private readonly edges = new Map<number, EdgeRecord>()
  private readonly nodes = new Map<number, number>()

  constructor(graph: ChannelGraph, options: MissionControlOptions = {}) {
    const h = options.halfLifeMs ?? DEFAULT_HALF_LIFE_MS
    if (typeof h !== 'number' || !(h > 0) || !Number.isFinite(h))
      throw new InvalidInputError('halfLifeMs', `expected a positive number, got ${describe(h)}`)
    this.graph = graph
    this.halfLifeMs = h
  }

  /** Number of edges and nodes with a record. */
  get size(): { edges: number; nodes: number } {
    return { edges: this.edges.size, nodes: this.nodes.size }
  }

  clear(): void {
    this.edges.clear()
    this.nodes.clear()
  }

  /** Decayed liquidity bounds of `edge` at `now` (msat, as numbers). */
  bounds(edge: number, now: number): { lo: number; hi: number } {
    this.graph.assertEdge('edge', edge)
    const cap = this.graph.capacity[edge >> 1] as number
    const r = this.edges.get(edge)
    if (r === undefined) return { lo: 0, hi: cap }
    return this.decayed(r, cap, now)
  }

  /** Estimated probability that `edge` carries `amountMsat` (plus `inFlightMsat` already on it) at `now`. */
  successProbability(edge: number, amountMsat: bigint, now: number, inFlightMsat = 0n): number {
    const { lo, hi } = this.bounds(edge, now)
    const p = liquidityProbability(Number(amountMsat + inFlightMsat), lo, hi)
    return p * this.nodeFactor(this.graph.edgeTo[edge] as number, now)
  }

  /** 1 for a node never blamed; 0 right after a failure blamed it; back toward 1 with the half-life. */
  nodeFactor(node: number, now: number): number {
    const t = this.nodes.get(node)
    if (t === undefined) return 1
    return 1 - 2 ** (-Math.max(0, now - t) / this.halfLifeMs)
  }

  /** The edge could not forward `amountMsat`: its liquidity is below it. */
  recordFailure(edge: number, amountMsat: bigint, now: number): void {
    const { cap, cur } = this.current(edge, now)
    const x = Number(amountMsat)
    const hi = Math.max(-1, Math.min(cur.hi, x - 1))
    // A success bound above the new ceiling is stale (balances moved since): drop it.
    const lo = Math.min(cur.lo, Math.max(0, hi))
    this.edges.set(edge, { lo, hi: Math.min(hi, cap), time: now })
  }

  /** The edge forwarded `amountMsat` onward (the HTLC was added), so its liquidity is at least that. */
  recordSuccess(edge: number, amountMsat: bigint, now: number): void {
    const { cap, cur } = this.current(edge, now)
    const x = Math.min(Number(amountMsat), cap)
    const lo = Math.max(cur.lo, x)
    const hi = Math.max(cur.hi, lo)
    this.edges.set(edge, { lo, hi, time: now })
  }

  /** `amountMsat` was paid over the edge and settled: the sender side holds that much less now. */
  recordSettled(edge: number, amountMsat: bigint, now: number): void {
    const { cur } = this.current(edge, now)
    const x = Number(amountMsat)
    const hi = Math.max(0, cur.hi - x)
    const lo = Math.min(Math.max(0, cur.lo - x), hi)
    this.edges.set(edge, { lo, hi, time: now })
  }

  /** A failure blamed `node` itself (offline, or it held an HTLC until it timed out). */
  recordNodeFailure(node: number, now: number): void {
    this.graph.assertNode('node', node)
    this.nodes.set(node, now)
  }

  /** Visits every edge record, decayed to `now` (used by the pathfinder to load its scratch arrays). */
  forEachEdge(now: number, visit: (edge: number, lo: number, hi: number) => void): void {
    for (const [edge, r] of this.edges) {
      const cap = this.graph.capacity[edge >> 1] as number
      const { lo, hi } = this.decayed(r, cap, now)
      visit(edge, lo, hi)
    }
  }

  /** Visits every node blamed for a failure, with its penalty factor at `now`. */
  forEachNode(now: number, visit: (node: number, factor: number) => void): void {
    for (const node of this.nodes.keys()) visit(node, this.nodeFactor(node, now))
  }

  private current(edge: number, now: number): { cap: number; cur: { lo: number; hi: number } } {
    this.graph.assertEdge('edge', edge)
    if (typeof now !== 'number' || !Number.isFinite(now)) throw new InvalidInputError('now', `expected a time, got ${describe(now)}`)
    const cap = this.graph.capacity[edge >> 1] as number
    const r = this.edges.get(edge)
    return { cap, cur: r === undefined ? { lo: 0, hi: cap } : this.decayed(r, cap, now) }
  }

  private decayed(r: EdgeRecord, cap: number, now: number): { lo: number; hi: number } {
    // Whole half-lives only (as LDK shifts its offsets): within the first
    // half-life a failure is remembered in full, so the same amount is not
    // retried over the same edge a moment later.
    const halvings = Math.floor(Math.max(0, now - r.time) / this.halfLifeMs)
    if (halvings === 0) return { lo: r.lo, hi: r.hi }
    const k = 2 ** -halvings
    // Flooring keeps the bounds integers and errs on the cautious side: hi never
    // rises above its decayed value, so a failure at x keeps excluding x until
    // the decay has genuinely moved the ceiling past it.
    return { lo: Math.floor(r.lo * k), hi: Math.floor(cap - (cap - r.hi) * k) }
  }
}
