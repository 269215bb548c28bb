/**
 * Workload generation: scenario + seed → the exact list of payments every
 * design receives. Everything is drawn from core's Rng with one fork per
 * concern (pairs, choice, amounts, arrivals, faults, topology), so changing
 * e.g. the amount distribution does not reshuffle who pays whom, and the same
 * seed gives the same payments on every machine.
 */
import { Rng } from '@l2bench/core'
import type { Scenario } from './scenario.ts'

export type FaultKind = 'stale-state' | 'offline-hop' | 'withheld-preimage'

export interface Payment {
  /** 0-based position in the workload. */
  id: number
  /** User indices. */
  from: number
  to: number
  amount: bigint
  /** Index into `Workload.pairs`. */
  pair: number
  /** Simulated arrival time, ms after the payment phase starts. */
  atMs: number
  /** A scripted adversarial event attached to this payment. */
  fault?: FaultKind
}

/** How much each side of a pair (or each user towards a hub) must hold so no payment fails for lack of balance. */
export interface Need {
  /** Peak cumulative net outflow of the first party (pairs: lower index; users: the user). */
  a: bigint
  /** Peak cumulative net outflow of the second party (pairs: higher index; users: the hub towards the user). */
  b: bigint
}

export interface Workload {
  scenario: Scenario
  seed: number
  users: number
  /** Distinct unordered pairs [low, high] that pay each other. */
  pairs: [number, number][]
  payments: Payment[]
  /** Arrival time of the last payment. */
  durationMs: number
  /** Per pair: each side's peak net outflow (for perfect-foresight channel deposits). */
  pairNeeds: Need[]
  /** Per user: peak net outflow towards a hub (a) and the hub's peak outflow towards the user (b). */
  userNeeds: Need[]
  /** Channel graph over users for multi-hop designs (scale-free topology only). */
  graph?: { edges: [number, number][] }
  totalVolume: bigint
}

export function generateWorkload(scenario: Scenario): Workload {
  const root = new Rng(scenario.seed)
  const pairRng = root.fork('pairs')
  const choiceRng = root.fork('choice')
  const amountRng = root.fork('amounts')
  const arrivalRng = root.fork('arrivals')
  const faultRng = root.fork('faults')
  const topoRng = root.fork('topology')

  const pairs = choosePairs(scenario.users, scenario.pairs.count, pairRng)
  // Zipf ranks follow a shuffled order so the hottest pair is not always (0, 1).
  const weights = pairs.map((_, k) => (scenario.pairs.distribution.kind === 'zipf' ? 1 / (k + 1) ** scenario.pairs.distribution.s : 1))
  const sampler = cumulativeSampler(weights)

  const payments: Payment[] = []
  let t = 0
  let volume = 0n
  for (let id = 0; id < scenario.payments; id++) {
    const pair = sampler(choiceRng.next())
    const [lo, hi] = pairs[pair]!
    const forward = scenario.pairs.direction === 'forward' || choiceRng.bool()
    const amount = drawAmount(scenario, amountRng)
    t += arrivalRng.exponential(scenario.arrival.ratePerSecond) * 1000
    payments.push({ id, from: forward ? lo : hi, to: forward ? hi : lo, amount, pair, atMs: t })
    volume += amount
  }

  assignFaults(scenario, payments, faultRng)

  const workload: Workload = {
    scenario,
    seed: scenario.seed,
    users: scenario.users,
    pairs,
    payments,
    durationMs: t,
    pairNeeds: pairNeeds(pairs.length, payments),
    userNeeds: userNeeds(scenario.users, payments),
    totalVolume: volume,
  }
  if (scenario.topology.kind === 'scale-free') workload.graph = { edges: scaleFreeGraph(scenario.users, scenario.topology.m, topoRng) }
  return workload
}

/** Distinct unordered pairs, in random order. */
export function choosePairs(users: number, count: number | 'all', rng: Rng): [number, number][] {
  const max = (users * (users - 1)) / 2
  const n = count === 'all' ? max : Math.min(count, max)
  const out: [number, number][] = []
  if (n * 2 >= max) {
    for (let a = 0; a < users; a++) for (let b = a + 1; b < users; b++) out.push([a, b])
    rng.shuffle(out)
    return out.slice(0, n)
  }
  const seen = new Set<number>()
  while (out.length < n) {
    const a = rng.int(users)
    const b = rng.int(users)
    if (a === b) continue
    const lo = Math.min(a, b)
    const hi = Math.max(a, b)
    const key = lo * users + hi
    if (seen.has(key)) continue
    seen.add(key)
    out.push([lo, hi])
  }
  return out
}

/** O(log n) weighted choice from a uniform u in [0, 1). */
export function cumulativeSampler(weights: readonly number[]): (u: number) => number {
  const cum = new Float64Array(weights.length)
  let total = 0
  for (let i = 0; i < weights.length; i++) {
    total += weights[i]!
    cum[i] = total
  }
  return (u) => {
    const x = u * total
    let lo = 0
    let hi = cum.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cum[mid]! > x) hi = mid
      else lo = mid + 1
    }
    return lo
  }
}

function drawAmount(s: Scenario, rng: Rng): bigint {
  const a = s.amounts
  switch (a.kind) {
    case 'fixed':
      return a.value
    case 'uniform':
      return a.min + rng.bigint(a.max - a.min + 1n)
    case 'lognormal': {
      const x = Number(a.median) * Math.exp(a.sigma * rng.normal())
      const v = BigInt(Math.max(1, Math.round(x)))
      return v
    }
  }
}

function assignFaults(s: Scenario, payments: Payment[], rng: Rng): void {
  const kinds: [FaultKind, number][] = [
    ['stale-state', s.faults.staleState],
    ['offline-hop', s.faults.offlineHop],
    ['withheld-preimage', s.faults.withheldPreimage],
  ]
  const total = kinds.reduce((n, [, k]) => n + k, 0)
  if (total === 0) return
  const order = rng.shuffle(payments.map((p) => p.id))
  let i = 0
  for (const [kind, count] of kinds) {
    for (let k = 0; k < count && i < order.length; k++) {
      const p = payments[order[i++]!]!
      p.fault = kind
    }
  }
}

/** Peak prefix net outflow of each side of each pair. */
function pairNeeds(nPairs: number, payments: readonly Payment[]): Need[] {
  const net = new Array<bigint>(nPairs).fill(0n) // low side's cumulative net outflow
  const needs: Need[] = Array.from({ length: nPairs }, () => ({ a: 0n, b: 0n }))
  for (const p of payments) {
    const lowPays = p.from < p.to
    const v = (net[p.pair] as bigint) + (lowPays ? p.amount : -p.amount)
    net[p.pair] = v
    const need = needs[p.pair]!
    if (v > need.a) need.a = v
    if (-v > need.b) need.b = -v
  }
  return needs
}

/** Per user towards a hub: the user's peak net outflow and the hub's peak net outflow to the user. */
function userNeeds(users: number, payments: readonly Payment[]): Need[] {
  const net = new Array<bigint>(users).fill(0n)
  const needs: Need[] = Array.from({ length: users }, () => ({ a: 0n, b: 0n }))
  const bump = (u: number, d: bigint) => {
    const v = (net[u] as bigint) + d
    net[u] = v
    const need = needs[u]!
    if (v > need.a) need.a = v
    if (-v > need.b) need.b = -v
  }
  for (const p of payments) {
    bump(p.from, p.amount)
    bump(p.to, -p.amount)
  }
  return needs
}

/**
 * Barabási–Albert preferential attachment: a clique of m+1 nodes, then each new
 * node opens m channels to distinct existing nodes chosen in proportion to
 * degree. Gives the heavy-tailed degree distribution of the Lightning graph.
 */
export function scaleFreeGraph(nodes: number, m: number, rng: Rng): [number, number][] {
  const edges: [number, number][] = []
  const endpoints: number[] = [] // each node appears once per incident edge
  const seed = Math.min(nodes, m + 1)
  for (let a = 0; a < seed; a++)
    for (let b = a + 1; b < seed; b++) {
      edges.push([a, b])
      endpoints.push(a, b)
    }
  for (let v = seed; v < nodes; v++) {
    const targets = new Set<number>()
    const want = Math.min(m, v)
    while (targets.size < want) targets.add(endpoints.length === 0 ? rng.int(v) : endpoints[rng.int(endpoints.length)]!)
    for (const t of targets) {
      edges.push([t, v])
      endpoints.push(t, v)
    }
  }
  return edges
}

/** Per-side deposit for a need: need × headroom, rounded up (0 stays 0). */
export function depositFor(need: bigint, headroom: number): bigint {
  if (need === 0n) return 0n
  const scaled = (need * BigInt(Math.round(headroom * 1000)) + 999n) / 1000n
  return scaled
}
