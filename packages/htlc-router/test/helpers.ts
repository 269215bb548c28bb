/** Small hand-built graphs shared by the tests. */
import { Rng } from '@l2bench/core'
import { type ChannelGraph, ChannelGraphBuilder, type PolicyInput } from '../src/index.ts'

export const SAT = 1000n

export interface Named {
  graph: ChannelGraph
  /** Node index by label. */
  n: Record<string, number>
  /** Channel index by "A-B" label. */
  ch: Record<string, number>
}

/**
 * Builds a graph from channel specs "A-B" (a = A, b = B; "A-B#2" for a
 * parallel channel). Every node label used appears as a node, in order of
 * first use.
 */
export function named(channels: { id: string; capacitySat: bigint; ab?: PolicyInput; ba?: PolicyInput }[]): Named {
  const b = new ChannelGraphBuilder()
  const n: Record<string, number> = {}
  const ch: Record<string, number> = {}
  const node = (label: string): number => {
    let i = n[label]
    if (i === undefined) {
      i = b.addNode(label)
      n[label] = i
    }
    return i
  }
  for (const c of channels) {
    const [x, y] = (c.id.split('#')[0] as string).split('-') as [string, string]
    const input: Parameters<ChannelGraphBuilder['addChannel']>[0] = { a: node(x), b: node(y), capacityMsat: c.capacitySat * SAT }
    if (c.ab !== undefined) input.policyAB = c.ab
    if (c.ba !== undefined) input.policyBA = c.ba
    ch[c.id] = b.addChannel(input)
  }
  return { graph: b.build(), n, ch }
}

/** A random small multigraph for brute-force comparisons (htlc minimum 1 msat, so fee-minimal labels dominate). */
export function randomSmallGraph(seed: number, nodes: number, channels: number): ChannelGraph {
  const rng = new Rng(seed)
  const b = new ChannelGraphBuilder()
  b.addNodes(nodes)
  for (let i = 0; i < channels; i++) {
    const a = rng.int(nodes)
    let c = rng.int(nodes - 1)
    if (c >= a) c++
    const policy = (): PolicyInput => ({
      baseFeeMsat: BigInt(rng.int(3) === 0 ? 0 : rng.int(3000)),
      feeRatePpm: rng.int(4) === 0 ? 0 : rng.int(20_000),
      cltvExpiryDelta: 18 + rng.int(60),
      htlcMinimumMsat: 1n,
      disabled: rng.int(12) === 0,
    })
    b.addChannel({ a, b: c, capacityMsat: BigInt(1 + rng.int(200)) * 10_000n, policyAB: policy(), policyBA: policy() })
  }
  return b.build()
}

/** Nodes reachable from `start` (channels as undirected). */
export function reachable(graph: ChannelGraph, start: number): Set<number> {
  const seen = new Set<number>([start])
  const stack = [start]
  while (stack.length > 0) {
    const v = stack.pop() as number
    for (const e of graph.outgoing(v)) {
      const u = graph.edgeTo[e] as number
      if (!seen.has(u)) {
        seen.add(u)
        stack.push(u)
      }
    }
  }
  return seen
}
