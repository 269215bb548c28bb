/** Wall-clock source, injectable so tests and simulations can drive time. */
export interface Clock {
  /** Milliseconds. */
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

/** High-resolution monotonic milliseconds (for latency measurement). */
export function monotonicMs(): number {
  return performance.now()
}

export class ManualClock implements Clock {
  constructor(private t = 0) {}
  now(): number {
    return this.t
  }
  advance(ms: number): void {
    this.t += ms
  }
}
