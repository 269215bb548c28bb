/**
 * The channel graph: nodes, channels with a capacity, and one forwarding policy
 * per direction (base fee, proportional fee in ppm, CLTV expiry delta, HTLC
 * minimum/maximum, disabled flag) — the fields of a BOLT 7 `channel_update`.
 *
 * Built once through `ChannelGraphBuilder`, then frozen into a compact form:
 * typed arrays indexed by channel or by directed edge, with incoming and
 * outgoing adjacency in CSR layout (one offsets array, one edges array). The
 * pathfinder walks these arrays without allocating; a 16k-node, 60k-channel
 * graph takes a few MB.
 *
 * Indexing: node i ∈ [0, nodeCount); channel c ∈ [0, channelCount) joins
 * nodes a(c) < or > b(c); directed edge e = 2c + d, d = 0 for a→b and 1 for
 * b→a. The policy of edge e is the one its `from` node announces for
 * forwarding over it. Money is msat: bigint at the API, float64 inside (every
 * capacity is checked to be below 2^53, where float64 integers are exact).
 */
import { AmountError, InvalidInputError, describe, sha256 } from '@l2bench/core'
import { CapacityError, TimelockError, UnknownChannelError, UnknownNodeError } from '../errors.ts'

/** Capacities (and so every amount a route can carry) stay below 2^53 msat ≈ 90,000 BTC. */
export const MAX_CAPACITY_MSAT = BigInt(Number.MAX_SAFE_INTEGER)
/** BOLT 7 encodes the base fee in a u32. */
export const MAX_BASE_FEE_MSAT = 0xffff_ffffn
/** Proportional fees above 1000% are nonsense; the bound also keeps fee math exact. */
export const MAX_FEE_RATE_PPM = 10_000_000
/** lnd refuses to announce a CLTV delta below 18 blocks (MinCLTVDelta): too little time to claim on chain. */
export const MIN_CLTV_EXPIRY_DELTA = 18
/** BOLT 7 encodes cltv_expiry_delta in a u16. */
export const MAX_CLTV_EXPIRY_DELTA = 0xffff

/** A forwarding policy as the API sees it. */
export interface ChannelPolicy {
  readonly baseFeeMsat: bigint
  readonly feeRatePpm: number
  readonly cltvExpiryDelta: number
  readonly htlcMinimumMsat: bigint
  readonly htlcMaximumMsat: bigint
  readonly disabled: boolean
}

/** Policy fields when adding a channel; omitted ones take the defaults below. */
export interface PolicyInput {
  baseFeeMsat?: bigint
  feeRatePpm?: number
  cltvExpiryDelta?: number
  htlcMinimumMsat?: bigint
  /** Defaults to the channel capacity. */
  htlcMaximumMsat?: bigint
  disabled?: boolean
}

export const DEFAULT_POLICY = {
  baseFeeMsat: 1000n,
  feeRatePpm: 1,
  cltvExpiryDelta: 40,
  htlcMinimumMsat: 1000n,
} as const

export interface ChannelInput {
  /** First endpoint (direction 0 forwards a → b). */
  a: number
  b: number
  capacityMsat: bigint
  /** Policy of a for forwarding a → b. */
  policyAB?: PolicyInput
  /** Policy of b for forwarding b → a. */
  policyBA?: PolicyInput
}

export interface GraphBuilderOptions {
  /** Smallest cltv_expiry_delta a policy may announce (default 18, as lnd). */
  minCltvExpiryDelta?: number
}

/** Collects nodes and channels, validating each one; `build()` freezes them. */
export class ChannelGraphBuilder {
  private readonly labels: (string | undefined)[] = []
  private readonly labelIndex = new Map<string, number>()
  private readonly chanA: number[] = []
  private readonly chanB: number[] = []
  private readonly capacity: number[] = []
  private readonly base: number[] = []
  private readonly ppm: number[] = []
  private readonly delta: number[] = []
  private readonly hmin: number[] = []
  private readonly hmax: number[] = []
  private readonly disabled: number[] = []
  private readonly minDelta: number

  constructor(options: GraphBuilderOptions = {}) {
    const minDelta = options.minCltvExpiryDelta ?? MIN_CLTV_EXPIRY_DELTA
    if (!Number.isSafeInteger(minDelta) || minDelta < 1 || minDelta > MAX_CLTV_EXPIRY_DELTA)
      throw new InvalidInputError('minCltvExpiryDelta', `expected 1..${MAX_CLTV_EXPIRY_DELTA}, got ${describe(minDelta)}`)
    this.minDelta = minDelta
  }

  get nodeCount(): number {
    return this.labels.length
  }

  get channelCount(): number {
    return this.chanA.length
  }

  /** Adds one node and returns its index. Labels, when given, must be unique. */
  addNode(label?: string): number {
    if (label !== undefined) {
      if (typeof label !== 'string' || label.length === 0 || label.length > 256)
        throw new InvalidInputError('label', `expected a non-empty string, got ${describe(label)}`)
      if (this.labelIndex.has(label)) throw new InvalidInputError('label', `duplicate node label ${JSON.stringify(label)}`)
      this.labelIndex.set(label, this.labels.length)
    }
    this.labels.push(label)
    return this.labels.length - 1
  }

  /** Adds `count` unlabelled nodes; returns the index of the first. */
  addNodes(count: number): number {
    if (!Number.isSafeInteger(count) || count < 0) throw new InvalidInputError('count', `expected a count, got ${describe(count)}`)
    const first = this.labels.length
    for (let i = 0; i < count; i++) this.labels.push(undefined)
    return first
  }

  /** Adds a channel and returns its index. A rejected channel leaves the builder unchanged. */
  addChannel(input: ChannelInput): number {
    const n = this.labels.length
    checkNode('a', input.a, n)
    checkNode('b', input.b, n)
    if (input.a === input.b) throw new InvalidInputError('b', `a channel needs two distinct nodes, got ${input.a} twice`)
    const cap = input.capacityMsat
    if (typeof cap !== 'bigint') throw new AmountError('capacityMsat', `expected a bigint, got ${describe(cap)}`)
    if (cap <= 0n) throw new AmountError('capacityMsat', `capacity must be positive, got ${cap}`)
    if (cap > MAX_CAPACITY_MSAT) throw new CapacityError('capacityMsat', `capacity ${cap} exceeds ${MAX_CAPACITY_MSAT} msat`)
    // Validate both directions before pushing anything, so a rejection changes nothing.
    const ab = this.resolvePolicy('policyAB', input.policyAB, cap)
    const ba = this.resolvePolicy('policyBA', input.policyBA, cap)
    this.chanA.push(input.a)
    this.chanB.push(input.b)
    this.capacity.push(Number(cap))
    for (const p of [ab, ba]) {
      this.base.push(p.base)
      this.ppm.push(p.ppm)
      this.delta.push(p.delta)
      this.hmin.push(p.hmin)
      this.hmax.push(p.hmax)
      this.disabled.push(p.disabled ? 1 : 0)
    }
    return this.chanA.length - 1
  }

  private resolvePolicy(field: string, p: PolicyInput | undefined, capacity: bigint) {
    const base = p?.baseFeeMsat ?? DEFAULT_POLICY.baseFeeMsat
    const ppm = p?.feeRatePpm ?? DEFAULT_POLICY.feeRatePpm
    const delta = p?.cltvExpiryDelta ?? DEFAULT_POLICY.cltvExpiryDelta
    const hmin = p?.htlcMinimumMsat ?? DEFAULT_POLICY.htlcMinimumMsat
    const hmax = p?.htlcMaximumMsat ?? capacity
    if (typeof base !== 'bigint' || base < 0n || base > MAX_BASE_FEE_MSAT)
      throw new InvalidInputError(`${field}.baseFeeMsat`, `expected a bigint in 0..${MAX_BASE_FEE_MSAT}, got ${describe(base)}`)
    if (!Number.isSafeInteger(ppm) || ppm < 0 || ppm > MAX_FEE_RATE_PPM)
      throw new InvalidInputError(`${field}.feeRatePpm`, `expected an integer in 0..${MAX_FEE_RATE_PPM}, got ${describe(ppm)}`)
    if (!Number.isSafeInteger(delta) || delta > MAX_CLTV_EXPIRY_DELTA)
      throw new InvalidInputError(`${field}.cltvExpiryDelta`, `expected an integer ≤ ${MAX_CLTV_EXPIRY_DELTA}, got ${describe(delta)}`)
    if (delta < this.minDelta)
      throw new TimelockError(
        `${field}.cltvExpiryDelta`,
        `delta ${delta} is below the minimum ${this.minDelta} blocks: the hop could not claim its incoming HTLC on chain in time`,
      )
    if (typeof hmin !== 'bigint' || hmin < 0n)
      throw new InvalidInputError(`${field}.htlcMinimumMsat`, `expected a non-negative bigint, got ${describe(hmin)}`)
    if (typeof hmax !== 'bigint' || hmax < 1n || hmax > capacity)
      throw new InvalidInputError(`${field}.htlcMaximumMsat`, `expected a bigint in 1..capacity (${capacity}), got ${describe(hmax)}`)
    if (hmin > hmax) throw new InvalidInputError(`${field}.htlcMinimumMsat`, `minimum ${hmin} above maximum ${hmax}`)
    const disabled = p?.disabled ?? false
    if (typeof disabled !== 'boolean') throw new InvalidInputError(`${field}.disabled`, `expected a boolean, got ${describe(disabled)}`)
    return { base: Number(base), ppm, delta, hmin: Number(hmin), hmax: Number(hmax), disabled }
  }

  /** Freezes the graph into its compact form. The builder may be reused afterwards. */
  build(): ChannelGraph {
    const n = this.labels.length
    const m = this.chanA.length
    const edgeFrom = new Int32Array(2 * m)
    const edgeTo = new Int32Array(2 * m)
    const outStart = new Int32Array(n + 1)
    const inStart = new Int32Array(n + 1)
    for (let c = 0; c < m; c++) {
      const a = this.chanA[c] as number
      const b = this.chanB[c] as number
      edgeFrom[2 * c] = a
      edgeTo[2 * c] = b
      edgeFrom[2 * c + 1] = b
      edgeTo[2 * c + 1] = a
      outStart[a + 1] = (outStart[a + 1] as number) + 1
      outStart[b + 1] = (outStart[b + 1] as number) + 1
      inStart[a + 1] = (inStart[a + 1] as number) + 1
      inStart[b + 1] = (inStart[b + 1] as number) + 1
    }
    for (let i = 0; i < n; i++) {
      outStart[i + 1] = (outStart[i + 1] as number) + (outStart[i] as number)
      inStart[i + 1] = (inStart[i + 1] as number) + (inStart[i] as number)
    }
    const outEdges = new Int32Array(2 * m)
    const inEdges = new Int32Array(2 * m)
    const outFill = outStart.slice(0, n)
    const inFill = inStart.slice(0, n)
    for (let e = 0; e < 2 * m; e++) {
      const f = edgeFrom[e] as number
      const t = edgeTo[e] as number
      const oi = outFill[f] as number
      outEdges[oi] = e
      outFill[f] = oi + 1
      const ii = inFill[t] as number
      inEdges[ii] = e
      inFill[t] = ii + 1
    }
    return new ChannelGraph({
      labels: this.labels.slice(),
      chanA: Int32Array.from(this.chanA),
      chanB: Int32Array.from(this.chanB),
      capacity: Float64Array.from(this.capacity),
      edgeFrom,
      edgeTo,
      baseFee: Float64Array.from(this.base),
      feeRate: Float64Array.from(this.ppm),
      cltvDelta: Uint16Array.from(this.delta),
      htlcMin: Float64Array.from(this.hmin),
      htlcMax: Float64Array.from(this.hmax),
      disabled: Uint8Array.from(this.disabled),
      outStart,
      outEdges,
      inStart,
      inEdges,
    })
  }
}

interface GraphArrays {
  labels: (string | undefined)[]
  chanA: Int32Array
  chanB: Int32Array
  capacity: Float64Array
  edgeFrom: Int32Array
  edgeTo: Int32Array
  baseFee: Float64Array
  feeRate: Float64Array
  cltvDelta: Uint16Array
  htlcMin: Float64Array
  htlcMax: Float64Array
  disabled: Uint8Array
  outStart: Int32Array
  outEdges: Int32Array
  inStart: Int32Array
  inEdges: Int32Array
}

/**
 * The frozen graph. The typed arrays are public for hot loops (pathfinder,
 * simulator); treat them as read-only. Everything else goes through methods
 * that validate their arguments.
 */
export class ChannelGraph {
  readonly nodeCount: number
  readonly channelCount: number
  readonly edgeCount: number
  /** Per channel: endpoints and capacity (msat). */
  readonly chanA: Int32Array
  readonly chanB: Int32Array
  readonly capacity: Float64Array
  /** Per directed edge e = 2c + d. */
  readonly edgeFrom: Int32Array
  readonly edgeTo: Int32Array
  readonly baseFee: Float64Array
  readonly feeRate: Float64Array
  readonly cltvDelta: Uint16Array
  readonly htlcMin: Float64Array
  readonly htlcMax: Float64Array
  readonly disabled: Uint8Array
  /** CSR adjacency: edges leaving node v are outEdges[outStart[v] .. outStart[v+1]). */
  readonly outStart: Int32Array
  readonly outEdges: Int32Array
  /** CSR adjacency: edges entering node v are inEdges[inStart[v] .. inStart[v+1]). */
  readonly inStart: Int32Array
  readonly inEdges: Int32Array
  private readonly labels: (string | undefined)[]
  private labelIndex: Map<string, number> | undefined

  constructor(arrays: GraphArrays) {
    this.labels = arrays.labels
    this.nodeCount = arrays.labels.length
    this.channelCount = arrays.chanA.length
    this.edgeCount = 2 * this.channelCount
    this.chanA = arrays.chanA
    this.chanB = arrays.chanB
    this.capacity = arrays.capacity
    this.edgeFrom = arrays.edgeFrom
    this.edgeTo = arrays.edgeTo
    this.baseFee = arrays.baseFee
    this.feeRate = arrays.feeRate
    this.cltvDelta = arrays.cltvDelta
    this.htlcMin = arrays.htlcMin
    this.htlcMax = arrays.htlcMax
    this.disabled = arrays.disabled
    this.outStart = arrays.outStart
    this.outEdges = arrays.outEdges
    this.inStart = arrays.inStart
    this.inEdges = arrays.inEdges
  }

  /** Throws UnknownNodeError naming `field` unless `node` is a node index of this graph. */
  assertNode(field: string, node: unknown): asserts node is number {
    checkNode(field, node, this.nodeCount)
  }

  assertChannel(field: string, channel: unknown): asserts channel is number {
    if (typeof channel !== 'number' || !Number.isSafeInteger(channel) || channel < 0 || channel >= this.channelCount)
      throw new UnknownChannelError(field, `no channel ${describe(channel)} (graph has ${this.channelCount})`)
  }

  assertEdge(field: string, edge: unknown): asserts edge is number {
    if (typeof edge !== 'number' || !Number.isSafeInteger(edge) || edge < 0 || edge >= this.edgeCount)
      throw new UnknownChannelError(field, `no directed edge ${describe(edge)} (graph has ${this.edgeCount})`)
  }

  /** Directed edge of `channel` in `direction` (0: a → b, 1: b → a). */
  edge(channel: number, direction: 0 | 1): number {
    this.assertChannel('channel', channel)
    return 2 * channel + direction
  }

  /** Node label, or `#index` for unlabelled nodes. */
  label(node: number): string {
    this.assertNode('node', node)
    return this.labels[node] ?? `#${node}`
  }

  /** Index of the node with this label. */
  node(label: string): number {
    if (this.labelIndex === undefined) {
      this.labelIndex = new Map()
      this.labels.forEach((l, i) => {
        if (l !== undefined) this.labelIndex?.set(l, i)
      })
    }
    const i = this.labelIndex.get(label)
    if (i === undefined) throw new UnknownNodeError('label', `no node labelled ${describe(label)}`)
    return i
  }

  capacityMsat(channel: number): bigint {
    this.assertChannel('channel', channel)
    return BigInt(this.capacity[channel] as number)
  }

  /** The policy of directed edge `edge`, as bigint/number fields. */
  policy(edge: number): ChannelPolicy {
    this.assertEdge('edge', edge)
    return {
      baseFeeMsat: BigInt(this.baseFee[edge] as number),
      feeRatePpm: this.feeRate[edge] as number,
      cltvExpiryDelta: this.cltvDelta[edge] as number,
      htlcMinimumMsat: BigInt(this.htlcMin[edge] as number),
      htlcMaximumMsat: BigInt(this.htlcMax[edge] as number),
      disabled: this.disabled[edge] === 1,
    }
  }

  /** Directed edges leaving `node` (a view; do not modify). */
  outgoing(node: number): Int32Array {
    this.assertNode('node', node)
    return this.outEdges.subarray(this.outStart[node], this.outStart[node + 1])
  }

  /** Directed edges entering `node` (a view; do not modify). */
  incoming(node: number): Int32Array {
    this.assertNode('node', node)
    return this.inEdges.subarray(this.inStart[node], this.inStart[node + 1])
  }

  degree(node: number): number {
    this.assertNode('node', node)
    return (this.outStart[node + 1] as number) - (this.outStart[node] as number)
  }

  /** Sum of the capacities of `node`'s channels (msat). */
  nodeCapacityMsat(node: number): bigint {
    let total = 0n
    for (const e of this.outgoing(node)) total += BigInt(this.capacity[e >> 1] as number)
    return total
  }

  /** Directed edges from `from` to `to` (parallel channels give several). */
  edgesBetween(from: number, to: number): number[] {
    this.assertNode('from', from)
    this.assertNode('to', to)
    const out: number[] = []
    for (let k = this.outStart[from] as number; k < (this.outStart[from + 1] as number); k++) {
      const e = this.outEdges[k] as number
      if (this.edgeTo[e] === to) out.push(e)
    }
    return out
  }

  /** SHA-256 over every array: equal digests mean equal graphs (used to check generator determinism). */
  digest(): Uint8Array {
    const parts: ArrayBufferView[] = [
      this.chanA,
      this.chanB,
      this.capacity,
      this.baseFee,
      this.feeRate,
      this.cltvDelta,
      this.htlcMin,
      this.htlcMax,
      this.disabled,
    ]
    let size = 8
    for (const p of parts) size += p.byteLength
    const buf = new Uint8Array(size)
    new DataView(buf.buffer).setUint32(0, this.nodeCount)
    new DataView(buf.buffer).setUint32(4, this.channelCount)
    let off = 8
    for (const p of parts) {
      buf.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), off)
      off += p.byteLength
    }
    return sha256(buf)
  }
}

function checkNode(field: string, node: unknown, nodeCount: number): asserts node is number {
  if (typeof node !== 'number' || !Number.isSafeInteger(node) || node < 0 || node >= nodeCount)
    throw new UnknownNodeError(field, `no node ${describe(node)} (graph has ${nodeCount})`)
}
