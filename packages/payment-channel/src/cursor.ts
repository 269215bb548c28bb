/**
 * EventCursor: every event of one contract exactly once, in block order, and
 * a hook once per new block — whether or not the live subscription heard it.
 *
 * The L1 seam says an account that was offline heard nothing and must catch
 * up with `events`; a process that restarted heard nothing either. A node
 * (or watchtower) that only listened live missed a registration made while it
 * was offline and never refuted it, even when it came back inside the window.
 * So a new block and the owner's own tick schedule a pull, which reads the
 * log from the first height not handed over yet (from 0 after a (re)start);
 * events heard live are buffered and merged in (a backend whose log is
 * remote may deliver them before its `head` shows their block). Each event
 * is handed over once, in (height, logIndex) order.
 *
 * `onBlock` runs after the events of each pull that saw a new head: the
 * place for work that must be retried until it lands on L1 (a challenge that
 * was dropped, delayed or sent while offline).
 */
import type { Address } from '@l2bench/core'
import type { EventFilter, Head, L1, L1Event, Unsubscribe } from '@l2bench/l1-mock'

export interface EventCursorOptions {
  filter: EventFilter
  /** The account whose process listens (its subscription is silent while it is offline). */
  owner: Address
  onEvent(e: L1Event): void
  /** Once per new head, after that head's events. */
  onBlock(height: number): void
  onError(err: unknown): void
}

/** An L1 that also tells about new blocks (MockL1 and the EVM backend do). */
type BlockSource = L1 & { onBlock?: (cb: (h: Head) => void) => Unsubscribe }

export class EventCursor {
  /** First height whose events were not handed over yet. */
  private next = 0
  private lastHead = -1
  private scheduled = false
  /** Events heard live, not handed over yet. */
  private heard: L1Event[] = []
  private unsubscribe: Unsubscribe[] = []

  constructor(
    private readonly l1: L1,
    private readonly options: EventCursorOptions,
  ) {}

  /**
   * Listens live and on every block; the first pull reads the log from
   * `fromHeight` (0: the whole log, what happened while we were down; a
   * listener with nothing to catch up on passes the next height).
   */
  start(fromHeight = 0): void {
    this.stop()
    this.next = fromHeight
    this.lastHead = -1
    this.heard = []
    const l1 = this.l1 as BlockSource
    const live = (e: L1Event) => {
      this.heard.push(e)
      this.schedule()
    }
    this.unsubscribe.push(this.l1.subscribe(this.options.filter, live, { owner: this.options.owner }))
    if (typeof l1.onBlock === 'function') this.unsubscribe.push(l1.onBlock(() => this.schedule()))
    this.schedule()
  }

  stop(): void {
    for (const u of this.unsubscribe) u()
    this.unsubscribe = []
  }

  /** A pull after the current synchronous work (the mock delivers inside the sending call). */
  schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    queueMicrotask(() => {
      this.scheduled = false
      this.pull()
    })
  }

  /** Hands over the events not seen yet, then runs `onBlock` if the head moved. */
  pull(): void {
    if (this.unsubscribe.length === 0) return
    const head = this.l1.head().height
    if (head < this.next && head === this.lastHead && this.heard.length === 0) return
    let logged: L1Event[]
    try {
      logged = head < this.next ? [] : this.l1.events(this.options.filter, this.next)
    } catch (err) {
      this.options.onError(err)
      logged = []
    }
    const seen = new Set<string>()
    const events: L1Event[] = []
    for (const e of [...logged, ...this.heard]) {
      const id = `${e.txHash}:${e.logIndex}`
      if (e.height < this.next || seen.has(id)) continue
      seen.add(id)
      events.push(e)
    }
    this.heard = []
    events.sort((a, b) => a.height - b.height || a.logIndex - b.logIndex)
    let top = head
    for (const e of events) {
      if (e.height > top) top = e.height
      try {
        this.options.onEvent(e)
      } catch (err) {
        this.options.onError(err)
      }
    }
    this.next = top + 1
    if (head === this.lastHead) return
    this.lastHead = head
    try {
      this.options.onBlock(head)
    } catch (err) {
      this.options.onError(err)
    }
  }
}
