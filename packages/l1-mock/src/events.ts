/**
 * The event side of an L1, shared by every backend: the log of mined events,
 * subscriptions (silenced while their owner is offline) and block listeners.
 */
import { type Address, InvalidInputError, toAddress } from '@l2bench/core'
import type { EventFilter, Head, L1Event, SubscribeOptions, Unsubscribe } from './types.ts'

interface Subscription {
  filter: EventFilter
  onEvent: (e: L1Event) => void
  owner: Address | undefined
}

export function matchesFilter(filter: EventFilter, e: L1Event): boolean {
  return (filter.address === undefined || filter.address === e.address) && (filter.name === undefined || filter.name === e.name)
}

export class EventBus {
  /** Every event mined, in order. */
  readonly log: L1Event[] = []
  private readonly subscriptions = new Set<Subscription>()
  private readonly blockListeners = new Set<(head: Head) => void>()

  constructor(private readonly isOffline: (account: Address) => boolean) {}

  /** The log is in block order: the first event at `fromHeight` or above is found by bisection (a caught-up reader pays for what is new). */
  events(filter: EventFilter = {}, fromHeight = 0): L1Event[] {
    let lo = 0
    let hi = this.log.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.log[mid] as L1Event).height < fromHeight) lo = mid + 1
      else hi = mid
    }
    const out: L1Event[] = []
    for (let i = lo; i < this.log.length; i++) if (matchesFilter(filter, this.log[i] as L1Event)) out.push(this.log[i] as L1Event)
    return out
  }

  subscribe(filter: EventFilter, onEvent: (e: L1Event) => void, options: SubscribeOptions = {}): Unsubscribe {
    if (typeof onEvent !== 'function') throw new InvalidInputError('onEvent', 'expected a function')
    const sub: Subscription = { filter, onEvent, owner: options.owner === undefined ? undefined : toAddress('owner', options.owner) }
    this.subscriptions.add(sub)
    return () => this.subscriptions.delete(sub)
  }

  onBlock(listener: (head: Head) => void): Unsubscribe {
    this.blockListeners.add(listener)
    return () => this.blockListeners.delete(listener)
  }

  get hasBlockListeners(): boolean {
    return this.blockListeners.size > 0
  }

  /** Logs a block's events and delivers them to subscribers (offline owners hear nothing). */
  deliver(blockEvents: readonly L1Event[]): void {
    this.log.push(...blockEvents)
    for (const e of blockEvents)
      for (const s of [...this.subscriptions]) {
        if (!matchesFilter(s.filter, e)) continue
        if (s.owner !== undefined && this.isOffline(s.owner)) continue
        s.onEvent(e)
      }
  }

  /** Tells block listeners a block was mined (after its events were delivered). */
  blockMined(head: Head): void {
    for (const l of [...this.blockListeners]) l(head)
  }
}
