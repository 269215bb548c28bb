/**
 * Progress for long work (circuit setup, proving, a design's payments, the
 * sweeps). A terminal gets one live status line at the bottom: a bar with
 * count, percent, rate-based ETA, redrawn in place at most 10 times a second,
 * with ordinary messages scrolling above it. A pipe or a CI log gets plain
 * lines instead: the start of each counted task that lasts over a second,
 * every tenth of the way (at most one line a second), and its end — never
 * escape codes, never the same line twice in a row.
 */

export interface ProgressTask {
  /** Work done so far (0..total). */
  update(done: number): void
  /** The task is over; `note` is appended to its final line. */
  end(note?: string): void
}

export interface Progress {
  /** A one-off message. */
  line(text: string): void
  /** Starts a counted piece of work. */
  task(label: string, total: number): ProgressTask
}

/** Accepts either a Progress or a plain line sink (tests, library users). */
export function toProgress(p: Progress | ((line: string) => void) | undefined): Progress {
  if (p === undefined) return { line: () => {}, task: () => ({ update: () => {}, end: () => {} }) }
  if (typeof p !== 'function') return p
  return plainProgress({ write: (s) => p(s.replace(/\n$/, '')) })
}

/** `[prefix] ` before every line and task label. */
export function prefixed(p: Progress, prefix: string): Progress {
  return { line: (t) => p.line(`${prefix}${t}`), task: (label, total) => p.task(`${prefix}${label}`, total) }
}

export interface ProgressStream {
  write(s: string): unknown
  isTTY?: boolean | undefined
  columns?: number | undefined
}

export interface ProgressOptions {
  /** Clock in ms (tests). */
  now?: () => number
}

/** An elapsed time: "350 ms", "12.3 s", "3.4 min". */
export function fmtElapsed(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  return fmtEta(ms)
}

/** "12 s", "3.4 min", "1.2 h". */
export function fmtEta(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?'
  if (ms < 60_000) return `${Math.max(1, Math.round(ms / 1000))} s`
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`
  return `${(ms / 3_600_000).toFixed(1)} h`
}

interface TaskState {
  label: string
  total: number
  done: number
  started: number
}

function status(t: TaskState, now: number, eta = true): string {
  const total = Math.max(0, t.total)
  const done = Math.min(Math.max(0, t.done), total)
  const pct = total === 0 ? 100 : Math.floor((done / total) * 100)
  const elapsed = now - t.started
  const left = eta && done > 0 && done < total && elapsed >= 500 ? ` · ETA ${fmtEta((elapsed / done) * (total - done))}` : ''
  return `${done}/${total} (${pct} %)${left}`
}

function bar(t: TaskState, width: number): string {
  const f = t.total <= 0 ? 1 : Math.min(1, Math.max(0, t.done / t.total))
  const full = Math.round(f * width)
  return `${'█'.repeat(full)}${'░'.repeat(width - full)}`
}

/**
 * Plain lines (not a TTY): start, every 10 % (≥ 1 s apart), end. The start
 * line waits a second: a task that is over sooner prints only its end line if
 * it has a note (a design's payments), and nothing otherwise — a circuit
 * setup's dozens of millisecond steps would bury the log. A task still running
 * after a second prints its start then (on a timer with the real clock, or at
 * its next update or end), so a long step is never silent.
 */
export function plainProgress(out: ProgressStream, options: ProgressOptions = {}): Progress {
  const now = options.now ?? (() => performance.now())
  let last = ''
  const emit = (s: string) => {
    if (s === last) return
    last = s
    out.write(`${s}\n`)
  }
  return {
    line: emit,
    task(label, total) {
      const t: TaskState = { label, total, done: 0, started: now() }
      const startLine = `${label} ${status(t, t.started)}`
      let started = false
      const showStart = () => {
        if (started) return
        started = true
        if (timer !== undefined) clearTimeout(timer)
        emit(startLine)
      }
      // Only with the real clock: a test's clock does not move with the timer.
      const timer = options.now === undefined ? setTimeout(showStart, 1000) : undefined
      timer?.unref?.()
      let shownStep = 0
      let shownAt = t.started
      return {
        update(done) {
          t.done = done
          const step = t.total <= 0 ? 10 : Math.floor((Math.min(done, t.total) / t.total) * 10)
          const at = now()
          if (!started && at - t.started >= 1000) showStart()
          if (step > shownStep && step < 10 && at - shownAt >= 1000) {
            shownStep = step
            shownAt = at
            emit(`${label} ${status(t, at)}`)
          }
        },
        end(note) {
          const at = now()
          if (timer !== undefined) clearTimeout(timer)
          if (!started && at - t.started >= 1000) showStart()
          if (!started && note === undefined) return
          emit(`${label} ${status(t, at, false)} done in ${fmtElapsed(at - t.started)}${note ? ` — ${note}` : ''}`)
        },
      }
    },
  }
}

/** A live status line on a terminal. */
export function ttyProgress(out: ProgressStream, options: ProgressOptions = {}): Progress {
  const now = options.now ?? (() => performance.now())
  const active: TaskState[] = []
  let drawn = false
  let drawnAt = Number.NEGATIVE_INFINITY
  const clear = () => {
    if (drawn) out.write('\r\x1b[2K')
    drawn = false
  }
  const draw = (force: boolean) => {
    const at = now()
    if (!force && at - drawnAt < 100) return
    drawnAt = at
    clear()
    if (active.length === 0) return
    const cols = Math.max(40, (out.columns ?? 100) - 1)
    const top = active[active.length - 1]!
    const outer = active.slice(0, -1).map((t) => `${t.label} ${Math.min(t.done, t.total)}/${t.total}`)
    let s = `${[...outer, top.label].join(' › ')} ${bar(top, 20)} ${status(top, at)}`
    if (s.length > cols) s = `${s.slice(0, cols - 1)}…`
    out.write(s)
    drawn = true
  }
  return {
    line(text) {
      clear()
      out.write(`${text}\n`)
      draw(true)
    },
    task(label, total) {
      const t: TaskState = { label, total, done: 0, started: now() }
      active.push(t)
      draw(true)
      return {
        update(done) {
          t.done = done
          draw(false)
        },
        end(note) {
          const i = active.indexOf(t)
          if (i < 0) return
          active.splice(i, 1)
          const at = now()
          t.done = Math.max(t.done, 0)
          clear()
          out.write(`${label} ${status(t, at, false)} done in ${fmtElapsed(at - t.started)}${note ? ` — ${note}` : ''}\n`)
          draw(true)
        },
      }
    },
  }
}

/** The right renderer for a stream: a live bar on a terminal, plain lines otherwise. */
export function streamProgress(out: ProgressStream, options: ProgressOptions = {}): Progress {
  return out.isTTY === true ? ttyProgress(out, options) : plainProgress(out, options)
}

/** An event of a staged pipeline (the zk-rollup circuit build): counted when it has done/total. */
export interface StageEvent {
  stage?: string
  message: string
  done?: number
  total?: number
}

/**
 * Turns a stream of pipeline events into tasks and lines: consecutive counted
 * events with the same stage and message update one task (a bar, not the same
 * line again and again); anything else is a line.
 */
export function stageEvents(p: Progress, prefix = ''): ((e: StageEvent) => void) & { close(): void } {
  let current: { key: string; task: ProgressTask } | undefined
  const close = () => {
    current?.task.end()
    current = undefined
  }
  const fn = (e: StageEvent) => {
    const label = `${prefix}${e.stage === undefined ? '' : `${e.stage}: `}${e.message}`
    if (e.done !== undefined && e.total !== undefined && e.total > 0) {
      if (current?.key !== label) {
        close()
        current = { key: label, task: p.task(label, e.total) }
      }
      current.task.update(e.done)
      if (e.done >= e.total) close()
      return
    }
    close()
    p.line(label.length > 200 ? `${label.slice(0, 199)}…` : label)
  }
  return Object.assign(fn, { close })
}
