/**
 * Seeded topology generators. Same options and seed, same graph (byte for
 * byte: see ChannelGraph.digest), on every machine — everything random comes
 * from core's Rng.
 *
 *  - hubAndSpoke: seed 004's V1 — a few fully meshed hubs, every spoke opens
 *    channels to one or more hubs, so any two spokes pay through a hub.
 *  - barabasiAlbert: scale-free growth by preferential attachment (each new
 *    node opens m channels to existing nodes chosen in proportion to degree).
 *  - lnLikeGraph: a synthetic graph the size of Lightning's public graph
 *    (~16,000 nodes, ~60,000 channels): heavy-tailed (Pareto) node weights
 *    drive both a preferential spanning tree (so the graph is connected) and
 *    Chung–Lu extra channels (so degrees are power-law with a few huge hubs
 *    and many degree-1 nodes); log-normal capacities, larger between big
 *    nodes; fee policies drawn from a mixture that mimics the real graph
 *    (many 1000 msat / 1 ppm defaults, a long tail of ppm, CLTV deltas of
 *    40/80/144).
 */
import { InvalidInputError, Rng, WeightedTable, describe } from '@l2bench/core'
import { type ChannelGraph, ChannelGraphBuilder, type PolicyInput } from './graph.ts'

export const MSAT_PER_SAT = 1000n

export type CapacityDistribution =
  | { kind: 'fixed'; sat: number }
  | { kind: 'logNormal'; medianSat: number; sigma: number; minSat?: number; maxSat?: number }
  | { kind: 'pareto'; minSat: number; alpha: number; maxSat?: number }

/** 'realistic' draws per-node defaults and per-channel deviations; an object is used as-is for every direction. */
export type PolicyModel = 'realistic' | PolicyInput

/** Real-graph-like capacities: median 2M sat, heavy right tail (mean ≈ 6M sat), 20k sat .. 10 BTC. */
export const LN_CAPACITY: CapacityDistribution = { kind: 'logNormal', medianSat: 2_000_000, sigma: 1.5, minSat: 20_000, maxSat: 1_000_000_000 }

/** Draws one capacity in whole sat (an integer ≥ 1). */
export function sampleCapacitySat(rng: Rng, dist: CapacityDistribution): number {
  let v: number
  let lo = 1
  let hi = Number.MAX_SAFE_INTEGER / 1000
  switch (dist.kind) {
    case 'fixed':
      v = dist.sat
      break
    case 'logNormal':
      v = rng.logNormal(Math.log(dist.medianSat), dist.sigma)
      lo = dist.minSat ?? lo
      hi = dist.maxSat ?? hi
      break
    case 'pareto': {
      let u = 0
      while (u === 0) u = rng.next()
      v = dist.minSat * u ** (-1 / dist.alpha)
      lo = dist.minSat
      hi = dist.maxSat ?? hi
      break
    }
  }
  return Math.max(1, Math.round(Math.min(hi, Math.max(lo, v))))
}

function checkCapacityDistribution(field: string, d: CapacityDistribution): void {
  const bad = (msg: string) => new InvalidInputError(field, msg)
  if (typeof d !== 'object' || d === null) throw bad(`expected a capacity distribution, got ${describe(d)}`)
  const pos = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0
  if (d.kind === 'fixed') {
    if (!pos(d.sat)) throw bad('fixed capacity must be a positive number of sat')
  } else if (d.kind === 'logNormal') {
    if (!pos(d.medianSat) || !(d.sigma >= 0)) throw bad('logNormal needs medianSat > 0 and sigma ≥ 0')
  } else if (d.kind === 'pareto') {
    if (!pos(d.minSat) || !pos(d.alpha)) throw bad('pareto needs minSat > 0 and alpha > 0')
  } else throw bad(`unknown kind ${describe((d as { kind: unknown }).kind)}`)
}

/** A node operator's default policy, drawn once per node. */
interface NodeDefaults {
  base: bigint
  ppm: number
  delta: number
  hmin: bigint
}

const CLTV_DELTAS = [40, 80, 144, 34, 72, 18] as const
const CLTV_WEIGHTS = [0.3, 0.2, 0.3, 0.1, 0.07, 0.03]

function sampleNodeDefaults(rng: Rng): NodeDefaults {
  const r = rng.next()
  // Base fee: the 1000 msat default, zero-base ("#zerobasefee"), or something else.
  const base = r < 0.5 ? 1000n : r < 0.85 ? 0n : BigInt(rng.int(5001))
  const q = rng.next()
  // Proportional fee: untouched defaults (1 ppm), zero, or a long-tailed market rate.
  const ppm = q < 0.18 ? 1 : q < 0.25 ? 0 : Math.min(10_000, Math.max(1, Math.round(rng.logNormal(Math.log(150), 1.3))))
  const delta = CLTV_DELTAS[rng.weighted(CLTV_WEIGHTS)] as number
  const h = rng.next()
  const hmin = h < 0.6 ? 1000n : h < 0.95 ? 1n : 10_000n
  return { base, ppm, delta, hmin }
}

function realisticPolicy(rng: Rng, node: NodeDefaults, capacitySat: number, disabledFraction: number): PolicyInput {
  const d = rng.next() < 0.7 ? node : sampleNodeDefaults(rng)
  const capMsat = BigInt(capacitySat) * MSAT_PER_SAT
  const hmax = rng.next() < 0.5 ? capMsat : (capMsat * 99n) / 100n
  return {
    baseFeeMsat: d.base,
    feeRatePpm: d.ppm,
    cltvExpiryDelta: d.delta,
    htlcMinimumMsat: d.hmin > hmax ? 1n : d.hmin,
    htlcMaximumMsat: hmax < 1n ? 1n : hmax,
    disabled: rng.next() < disabledFraction,
  }
}

/** Adds channels to a builder with policies from a model; keeps generators short. */
class ChannelMaker {
  private readonly nodeDefaults: NodeDefaults[]
  constructor(
    private readonly builder: ChannelGraphBuilder,
    private readonly rng: Rng,
    private readonly policy: PolicyModel,
    private readonly disabledFraction: number,
    nodeCount: number,
  ) {
    const pr = rng.fork('node-policies')
    this.nodeDefaults = policy === 'realistic' ? Array.from({ length: nodeCount }, () => sampleNodeDefaults(pr)) : []
  }

  add(a: number, b: number, capacitySat: number): number {
    const capacityMsat = BigInt(capacitySat) * MSAT_PER_SAT
    if (this.policy === 'realistic') {
      const policyAB = realisticPolicy(this.rng, this.nodeDefaults[a] as NodeDefaults, capacitySat, this.disabledFraction)
      const policyBA = realisticPolicy(this.rng, this.nodeDefaults[b] as NodeDefaults, capacitySat, this.disabledFraction)
      return this.builder.addChannel({ a, b, capacityMsat, policyAB, policyBA })
    }
    return this.builder.addChannel({ a, b, capacityMsat, policyAB: this.policy, policyBA: this.policy })
  }
}

function checkCount(field: string, v: unknown, min: number, max = 10_000_000): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    throw new InvalidInputError(field, `expected an integer in ${min}..${max}, got ${describe(v)}`)
}

function checkFraction(field: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new InvalidInputError(field, `expected 0..1, got ${describe(v)}`)
}

export interface HubAndSpokeOptions {
  seed: number | string
  /** Hubs, fully meshed among themselves (default 1). */
  hubs?: number
  spokes: number
  /** Distinct hubs each spoke opens a channel to (default 1). */
  hubsPerSpoke?: number
  hubCapacity?: CapacityDistribution
  spokeCapacity?: CapacityDistribution
  policy?: PolicyModel
  disabledFraction?: number
}

/** Nodes are labelled `hub0..` and `spoke0..`; hubs come first. */
export function hubAndSpoke(options: HubAndSpokeOptions): ChannelGraph {
  const hubs = options.hubs ?? 1
  checkCount('hubs', hubs, 1, 10_000)
  checkCount('spokes', options.spokes, 0)
  const perSpoke = options.hubsPerSpoke ?? 1
  checkCount('hubsPerSpoke', perSpoke, 1, hubs)
  const hubCap = options.hubCapacity ?? { kind: 'fixed', sat: 100_000_000 }
  const spokeCap = options.spokeCapacity ?? { kind: 'fixed', sat: 5_000_000 }
  checkCapacityDistribution('hubCapacity', hubCap)
  checkCapacityDistribution('spokeCapacity', spokeCap)
  const disabled = options.disabledFraction ?? 0
  checkFraction('disabledFraction', disabled)
  const rng = new Rng(`hub-and-spoke:${options.seed}`)
  const b = new ChannelGraphBuilder()
  for (let i = 0; i < hubs; i++) b.addNode(`hub${i}`)
  for (let i = 0; i < options.spokes; i++) b.addNode(`spoke${i}`)
  const maker = new ChannelMaker(b, rng.fork('channels'), options.policy ?? 'realistic', disabled, b.nodeCount)
  const capRng = rng.fork('capacity')
  for (let i = 0; i < hubs; i++) for (let j = i + 1; j < hubs; j++) maker.add(i, j, sampleCapacitySat(capRng, hubCap))
  const pick = rng.fork('spokes')
  const hubIds = Array.from({ length: hubs }, (_, i) => i)
  for (let s = 0; s < options.spokes; s++) {
    const chosen = pick.shuffle(hubIds.slice()).slice(0, perSpoke)
    for (const h of chosen) maker.add(hubs + s, h, sampleCapacitySat(capRng, spokeCap))
  }
  return b.build()
}

export interface BarabasiAlbertOptions {
  seed: number | string
  nodes: number
  /** Channels each new node opens (default 2). */
  m?: number
  capacity?: CapacityDistribution
  policy?: PolicyModel
  disabledFraction?: number
}

/**
 * Barabási–Albert: start from a clique of m + 1 nodes, then each new node opens
 * m channels to distinct existing nodes drawn in proportion to their degree
 * (uniform draws from the list of channel endpoints). Yields
 * m(m+1)/2 + (nodes − m − 1)·m channels, connected.
 */
export function barabasiAlbert(options: BarabasiAlbertOptions): ChannelGraph {
  const m = options.m ?? 2
  checkCount('m', m, 1, 1000)
  checkCount('nodes', options.nodes, m + 1)
  const cap = options.capacity ?? LN_CAPACITY
  checkCapacityDistribution('capacity', cap)
  const disabled = options.disabledFraction ?? 0
  checkFraction('disabledFraction', disabled)
  const rng = new Rng(`barabasi-albert:${options.seed}`)
  const b = new ChannelGraphBuilder()
  b.addNodes(options.nodes)
  const maker = new ChannelMaker(b, rng.fork('channels'), options.policy ?? 'realistic', disabled, options.nodes)
  const capRng = rng.fork('capacity')
  const topo = rng.fork('topology')
  const endpoints: number[] = []
  for (let i = 0; i <= m; i++)
    for (let j = i + 1; j <= m; j++) {
      maker.add(i, j, sampleCapacitySat(capRng, cap))
      endpoints.push(i, j)
    }
  const chosen = new Set<number>()
  for (let v = m + 1; v < options.nodes; v++) {
    chosen.clear()
    while (chosen.size < m) chosen.add(endpoints[topo.int(endpoints.length)] as number)
    for (const u of chosen) {
      maker.add(v, u, sampleCapacitySat(capRng, cap))
      endpoints.push(v, u)
    }
  }
  return b.build()
}

export interface LnLikeOptions {
  seed: number | string
  /** Default 16,000. */
  nodes?: number
  /** Default 60,000 (at least nodes − 1: the spanning tree comes first). */
  channels?: number
  /** Tail index of the node-weight Pareto (default 1.3; smaller = bigger hubs). */
  weightAlpha?: number
  capacity?: CapacityDistribution
  /** Capacity multiplier min(wA, wB)^k between big nodes (default k = 0.3). */
  hubCapacityExponent?: number
  policy?: PolicyModel
  /** Share of directions announced as disabled (default 0.03). */
  disabledFraction?: number
}

/** See the module header. Connected, no parallel channels, exactly `channels` channels. */
export function lnLikeGraph(options: LnLikeOptions): ChannelGraph {
  const n = options.nodes ?? 16_000
  checkCount('nodes', n, 2)
  const m = options.channels ?? 60_000
  checkCount('channels', m, n - 1)
  if (m > (n * (n - 1)) / 4)
    throw new InvalidInputError('channels', `${m} channels is too dense for ${n} nodes (at most n(n−1)/4 = ${Math.floor((n * (n - 1)) / 4)})`)
  const alpha = options.weightAlpha ?? 1.3
  if (typeof alpha !== 'number' || !(alpha > 0.5 && alpha < 10)) throw new InvalidInputError('weightAlpha', `expected 0.5 < alpha < 10, got ${describe(alpha)}`)
  const cap = options.capacity ?? LN_CAPACITY
  checkCapacityDistribution('capacity', cap)
  const hubExp = options.hubCapacityExponent ?? 0.3
  if (typeof hubExp !== 'number' || !(hubExp >= 0 && hubExp <= 2)) throw new InvalidInputError('hubCapacityExponent', `expected 0..2, got ${describe(hubExp)}`)
  const disabled = options.disabledFraction ?? 0.03
  checkFraction('disabledFraction', disabled)

  const rng = new Rng(`ln-like:${options.seed}`)
  const wr = rng.fork('weights')
  // Pareto(1, alpha) weights, capped so no node's expected degree exceeds the node count.
  const wCap = n / 4
  const w = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let u = 0
    while (u === 0) u = wr.next()
    w[i] = Math.min(wCap, u ** (-1 / alpha))
  }
  const table = new WeightedTable(w)
  /** Index i in [0, limit) with probability w[i] / Σ w[0..limit). */
  const sample = (r: Rng, limit: number): number => table.draw(r, limit)

  const b = new ChannelGraphBuilder()
  b.addNodes(n)
  const maker = new ChannelMaker(b, rng.fork('channels'), options.policy ?? 'realistic', disabled, n)
  const capRng = rng.fork('capacity')
  const topo = rng.fork('topology')
  const pairs = new Set<number>()
  const add = (a: number, c: number): void => {
    pairs.add(a < c ? a * n + c : c * n + a)
    const factor = Math.min(w[a] as number, w[c] as number) ** hubExp
    const sat = sampleCapacitySat(capRng, cap) * factor
    const max = cap.kind === 'fixed' ? sat : (cap.maxSat ?? sat)
    maker.add(a, c, Math.max(1, Math.round(Math.min(sat, max))))
  }
  // Spanning tree by weighted attachment: connected, and big nodes collect many channels.
  for (let v = 1; v < n; v++) add(v, sample(topo, v))
  // Chung–Lu: both endpoints in proportion to weight, no loops, no parallel channels.
  let tries = 0
  const maxTries = 50 * m + 1000
  while (b.channelCount < m) {
    if (++tries > maxTries) throw new InvalidInputError('channels', `could not place ${m} distinct channels among ${n} nodes`)
    const a = sample(topo, n)
    const c = sample(topo, n)
    if (a === c) continue
    if (pairs.has(a < c ? a * n + c : c * n + a)) continue
    add(a, c)
  }
  return b.build()
}
