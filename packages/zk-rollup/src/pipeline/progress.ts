/**
 * Progress reporting shared by every pipeline stage: one callback type, and a
 * helper that turns "done/total" into rate-limited events so a 2^16 run does
 * not flood the terminal.
 */

export type Stage = 'compile' | 'ptau' | 'setup'

export interface ProgressEvent {
  stage: Stage
  /** Human-readable step, e.g. "tauG1 (section 2)". */
  message: string
  /** Work done so far in this step, when countable. */
  done?: number
  /** Total work in this step, when countable. */
  total?: number
}

export type ProgressFn = (event: ProgressEvent) => void

/** A no-op sink, so stages can call `progress(...)` unconditionally. */
export const silent: ProgressFn = () => {}

/** Wraps a sink so that countable events are emitted at most every `ms` milliseconds (first and last always). */
export function throttle(fn: ProgressFn, ms = 1000): ProgressFn {
  let last = 0
  let lastMessage = ''
  return (event) => {
    const now = Date.now()
    const countable = event.done !== undefined && event.total !== undefined
    const boundary = !countable || event.done === 0 || event.done === event.total || event.message !== lastMessage
    if (boundary || now - last >= ms) {
      last = now
      lastMessage = event.message
      fn(event)
    }
  }
}
