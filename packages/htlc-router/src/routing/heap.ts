/**
 * Indexed binary min-heap over integer ids 0..capacity-1 with float64 keys and
 * decrease-key — the priority queue of the pathfinder. All storage is
 * preallocated typed arrays sized once per graph, so a search allocates
 * nothing; `clear()` costs O(size), not O(capacity).
 */
export class IndexedMinHeap {
  private readonly ids: Int32Array
  private readonly keys: Float64Array
  /** Position of id in the heap, or -1. */
  private readonly pos: Int32Array
  private n = 0

  constructor(capacity: number) {
    this.ids = new Int32Array(capacity)
    this.keys = new Float64Array(capacity)
    this.pos = new Int32Array(capacity).fill(-1)
  }

  get size(): number {
    return this.n
  }

  has(id: number): boolean {
    return (this.pos[id] as number) >= 0
  }

  /** Inserts `id`, or lowers its key if it is already queued with a larger one. */
  pushOrDecrease(id: number, key: number): void {
    let i = this.pos[id] as number
    if (i < 0) {
      i = this.n++
      this.ids[i] = id
      this.keys[i] = key
      this.pos[id] = i
    } else {
      if (key >= (this.keys[i] as number)) return
      this.keys[i] = key
    }
    this.siftUp(i)
  }

  /** Removes and returns the id with the smallest key (-1 when empty). */
  pop(): number {
    if (this.n === 0) return -1
    const top = this.ids[0] as number
    this.pos[top] = -1
    const last = --this.n
    if (last > 0) {
      const id = this.ids[last] as number
      this.ids[0] = id
      this.keys[0] = this.keys[last] as number
      this.pos[id] = 0
      this.siftDown(0)
    }
    return top
  }

  clear(): void {
    for (let i = 0; i < this.n; i++) this.pos[this.ids[i] as number] = -1
    this.n = 0
  }

  private siftUp(i: number): void {
    const ids = this.ids
    const keys = this.keys
    const pos = this.pos
    const id = ids[i] as number
    const key = keys[i] as number
    while (i > 0) {
      const p = (i - 1) >> 1
      const pk = keys[p] as number
      if (pk <= key) break
      const pid = ids[p] as number
      ids[i] = pid
      keys[i] = pk
      pos[pid] = i
      i = p
    }
    ids[i] = id
    keys[i] = key
    pos[id] = i
  }

  private siftDown(i: number): void {
    const ids = this.ids
    const keys = this.keys
    const pos = this.pos
    const n = this.n
    const id = ids[i] as number
    const key = keys[i] as number
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      let c = l
      if (r < n && (keys[r] as number) < (keys[l] as number)) c = r
      const ck = keys[c] as number
      if (ck >= key) break
      const cid = ids[c] as number
      ids[i] = cid
      keys[i] = ck
      pos[cid] = i
      i = c
    }
    ids[i] = id
    keys[i] = key
    pos[id] = i
  }
}
