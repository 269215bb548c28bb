/**
 * Maximum matching in a general graph (Edmonds' blossom algorithm): the
 * largest set of channels no two of which share a party. With each party on
 * its own machine doing one channel update at a time, that many pairs can
 * update at once. Exact up to `exactLimit` vertices (O(V³) worst case);
 * above it a greedy maximal matching, at least half the maximum, is returned
 * and marked as such.
 */

export interface Matching {
  size: number
  /** False when the greedy fallback was used (a lower bound, ≥ half the maximum). */
  exact: boolean
  vertices: number
  edges: number
}

export function maximumMatching(edges: readonly (readonly [number, number])[], exactLimit = 3000): Matching {
  // Compact vertex ids (only parties that have a channel), deduplicated edges.
  const id = new Map<number, number>()
  const seen = new Set<string>()
  const adj: number[][] = []
  const vid = (x: number) => {
    let i = id.get(x)
    if (i === undefined) {
      i = adj.length
      id.set(x, i)
      adj.push([])
    }
    return i
  }
  let m = 0
  for (const [x, y] of edges) {
    if (x === y) continue
    const key = x < y ? `${x}:${y}` : `${y}:${x}`
    if (seen.has(key)) continue
    seen.add(key)
    const a = vid(x)
    const b = vid(y)
    adj[a]!.push(b)
    adj[b]!.push(a)
    m++
  }
  const n = adj.length
  const match = new Int32Array(n).fill(-1)
  for (let v = 0; v < n; v++)
    if (match[v] === -1)
      for (const u of adj[v]!)
        if (match[u] === -1) {
          match[u] = v
          match[v] = u
          break
        }
  const count = () => {
    let c = 0
    for (let v = 0; v < n; v++) if (match[v]! > v) c++
    return c
  }
  if (n > exactLimit) return { size: count(), exact: false, vertices: n, edges: m }

  const p = new Int32Array(n)
  const base = new Int32Array(n)
  const used = new Uint8Array(n)
  const blossom = new Uint8Array(n)
  const q = new Int32Array(n)
  const lca = (a0: number, b0: number): number => {
    const mark = new Uint8Array(n)
    let a = a0
    for (;;) {
      a = base[a]!
      mark[a] = 1
      if (match[a] === -1) break
      a = p[match[a]!]!
    }
    let b = b0
    for (;;) {
      b = base[b]!
      if (mark[b] === 1) return b
      b = p[match[b]!]!
    }
  }
  const markPath = (v0: number, b: number, child0: number) => {
    let v = v0
    let child = child0
    while (base[v] !== b) {
      blossom[base[v]!] = 1
      blossom[base[match[v]!]!] = 1
      p[v] = child
      child = match[v]!
      v = p[match[v]!]!
    }
  }
  const findPath = (root: number): number => {
    used.fill(0)
    p.fill(-1)
    for (let i = 0; i < n; i++) base[i] = i
    used[root] = 1
    let head = 0
    let tail = 0
    q[tail++] = root
    while (head < tail) {
      const v = q[head++]!
      for (const to of adj[v]!) {
        if (base[v] === base[to] || match[v] === to) continue
        if (to === root || (match[to] !== -1 && p[match[to]!] !== -1)) {
          const cur = lca(v, to)
          blossom.fill(0)
          markPath(v, cur, to)
          markPath(to, cur, v)
          for (let i = 0; i < n; i++)
            if (blossom[base[i]!] === 1) {
              base[i] = cur
              if (used[i] === 0) {
                used[i] = 1
                q[tail++] = i
              }
            }
        } else if (p[to] === -1) {
          p[to] = v
          if (match[to] === -1) return to
          const w = match[to]!
          used[w] = 1
          q[tail++] = w
        }
      }
    }
    return -1
  }
  for (let v = 0; v < n; v++) {
    if (match[v] !== -1) continue
    let u = findPath(v)
    while (u !== -1) {
      const pv = p[u]!
      const ppv = match[pv]!
      match[u] = pv
      match[pv] = u
      u = ppv
    }
  }
  return { size: count(), exact: true, vertices: n, edges: m }
}
