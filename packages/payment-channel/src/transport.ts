/**
 * Transports carry opaque frames between two nodes. A `Link` is one logical
 * connection to one peer; it may drop and come back (TCP reconnect), and
 * tells the node each time it (re)opens so the node can resync.
 *
 * The in-memory pair delivers asynchronously (never re-entrantly) and can
 * inject delay, loss and reordering from a seeded RNG, for tests of the
 * protocol under a hostile network.
 */
import { Rng } from '@l2bench/core'

export interface Link {
  /** Queues one frame; silently dropped when the link is down (the protocol resyncs). */
  send(frame: Uint8Array): void
  onFrame(cb: (frame: Uint8Array) => void): void
  /** Called on every (re)connection. */
  onOpen(cb: () => void): void
  onClose(cb: (reason?: Error) => void): void
  readonly isOpen: boolean
  close(): void
  /** Drops the current connection only: a reconnecting link dials again (close() ends it for good). */
  drop?(): void
  /** Largest frame the link buffers from now on (a transport that reassembles frames enforces it). */
  setFrameLimit?(bytes: number): void
}

/** Shared listener plumbing for Link implementations. */
export abstract class BaseLink implements Link {
  protected frameCbs: ((f: Uint8Array) => void)[] = []
  protected openCbs: (() => void)[] = []
  protected closeCbs: ((reason?: Error) => void)[] = []
  abstract readonly isOpen: boolean
  abstract send(frame: Uint8Array): void
  abstract close(): void
  onFrame(cb: (frame: Uint8Array) => void): void {
    this.frameCbs.push(cb)
  }
  onOpen(cb: () => void): void {
    this.openCbs.push(cb)
  }
  onClose(cb: (reason?: Error) => void): void {
    this.closeCbs.push(cb)
  }
  protected emitFrame(f: Uint8Array): void {
    for (const cb of this.frameCbs) cb(f)
  }
  protected emitOpen(): void {
    for (const cb of this.openCbs) cb()
  }
  protected emitClose(reason?: Error): void {
    for (const cb of this.closeCbs) cb(reason)
  }
}

export interface MemoryLinkOptions {
  /** Base delivery delay in ms (0: next microtask). */
  delayMs?: number
  /** Probability a frame is lost. */
  lossRate?: number
  /** Probability a frame is delayed by an extra random amount (so it may overtake others). */
  reorderRate?: number
  /** Extra delay bound for reordered frames (ms). */
  reorderMs?: number
  seed?: number
}

class MemoryLink extends BaseLink {
  peer: MemoryLink | undefined
  private up = true
  /** Frames sent while "disconnected" are lost, like a dead TCP socket. */
  connected = true
  private readonly rng: Rng
  sent = 0
  dropped = 0

  constructor(private options: MemoryLinkOptions, seed: number) {
    super()
    this.rng = new Rng(seed)
  }
  get isOpen(): boolean {
    return this.up && this.connected
  }
  /** An in-memory link is born connected: a listener added now still hears the open. */
  override onOpen(cb: () => void): void {
    super.onOpen(cb)
    if (this.isOpen) queueMicrotask(cb)
  }
  send(frame: Uint8Array): void {
    const peer = this.peer
    if (!this.isOpen || peer === undefined) return
    this.sent++
    const o = this.options
    if (o.lossRate !== undefined && o.lossRate > 0 && this.rng.next() < o.lossRate) {
      this.dropped++
      return
    }
    let delay = o.delayMs ?? 0
    if (o.reorderRate !== undefined && o.reorderRate > 0 && this.rng.next() < o.reorderRate)
      delay += 1 + this.rng.int(Math.max(1, o.reorderMs ?? 5))
    const copy = frame.slice()
    if (delay === 0) queueMicrotask(() => peer.deliver(copy))
    else setTimeout(() => peer.deliver(copy), delay)
  }
  /** Changes the injected faults from now on (e.g. a clean open, then a lossy link). */
  setFaults(options: MemoryLinkOptions): void {
    this.options = options
  }
  deliver(frame: Uint8Array): void {
    if (this.isOpen) this.emitFrame(frame)
  }
  drop(): void {
    this.disconnect()
  }
  /** Simulates a connection loss (both ends see a close). */
  disconnect(): void {
    if (!this.connected) return
    this.connected = false
    this.emitClose()
    const p = this.peer
    if (p?.connected) {
      p.connected = false
      p.emitClose()
    }
  }
  /** Simulates the reconnection (both ends see an open). */
  reconnect(): void {
    if (!this.up) return
    const p = this.peer
    this.connected = true
    if (p !== undefined) p.connected = true
    this.emitOpen()
    p?.emitOpen()
  }
  close(): void {
    if (!this.up) return
    this.up = false
    this.emitClose()
    const p = this.peer
    if (p?.up) p.close()
  }
}

export type { MemoryLink }

/** Two connected in-memory links (a's frames arrive at b and vice versa). */
export function memoryLinkPair(options: MemoryLinkOptions = {}): [MemoryLink, MemoryLink] {
  const seed = options.seed ?? 1
  const a = new MemoryLink(options, seed * 2 + 1)
  const b = new MemoryLink(options, seed * 2 + 2)
  a.peer = b
  b.peer = a
  return [a, b]
}
