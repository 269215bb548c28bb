/**
 * Discrete-event queue: events ordered by time, ties broken by insertion
 * order, so a simulation with the same inputs replays identically.
 */
export interface Timed {
  time: number
}

export class EventQueue<T extends Timed> {
  private items: { ev: T; seq: number }[] = []
  private seq = 0

  get size(): number {
    return this.items.length
  }

  push(ev: T): void {
    const items = this.items
    const node = { ev, seq: this.seq++ }
    let i = items.length
    items.push(node)
    while (i > 0) {
      const p = (i - 1) >> 1
      const parent = items[p] as { ev: T; seq: number }
      if (!less(node, parent)) break
      items[i] = parent
      i = p
    }
    items[i] = node
  }

  pop(): T | undefined {
    const items = this.items
    const top = items[0]
    if (top === undefined) return undefined
    const last = items.pop() as { ev: T; seq: number }
    if (items.length > 0) {
      let i = 0
      const n = items.length
      for (;;) {
        const l = 2 * i + 1
        if (l >= n) break
        const r = l + 1
        let c = l
        if (r < n && less(items[r] as { ev: T; seq: number }, items[l] as { ev: T; seq: number })) c = r
        const child = items[c] as { ev: T; seq: number }
        if (!less(child, last)) break
        items[i] = child
        i = c
      }
      items[i] = last
    }
    return top.ev
  }
}

function less(a: { ev: Timed; seq: number }, b: { ev: Timed; seq: number }): boolean {
  return a.ev.time < b.ev.time || (a.ev.time === b.ev.time && a.seq < b.seq)
}
