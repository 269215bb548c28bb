/**
 * TCP transport (node:net). Frames are a 4-byte big-endian length followed by
 * the payload. A frame over the size limit, or a zero-length frame, is a
 * protocol violation: the connection is closed cleanly (the decoder never
 * buffers more than one limit's worth of bytes) and the server keeps serving.
 *
 * A server bounds what strangers can make it hold: at most `maxConnections`
 * sockets (more are refused at once), and one `bufferBudget` of bytes in
 * partial frames shared by all of them (a connection that would exceed it is
 * closed). The node's SecureLink lowers a connection's frame limit to a few
 * hundred bytes until its peer authenticated, and drops it if that takes
 * longer than the hello timeout, so an unauthenticated socket holds almost
 * nothing for long.
 *
 * `tcpConnect` returns a Link that reconnects with capped exponential backoff
 * after any drop; each reconnection fires `onOpen`, on which the node resyncs
 * every channel with that peer.
 */
import net from 'node:net'
import { FrameError } from './errors.ts'
import { BaseLink } from './transport.ts'
import { LINK_OVERHEAD } from './secure-link.ts'
import { MAX_FRAME } from './wire.ts'

/**
 * Length-prefix framing for one byte stream, in linear time: chunks are kept
 * as they arrive and each byte is copied once, into the frame it belongs to
 * (concatenating the buffer on every chunk made a large frame fed byte by
 * byte cost O(n²)).
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = []
  /** Index of the first live chunk and the read offset inside it. */
  private head = 0
  private offset = 0
  private buffered = 0
  /** Length of the frame being assembled (-1: its 4-byte prefix is not complete yet). */
  private need = -1
  /** Bytes copied out of the chunks so far: at most the bytes pushed (each is copied once). */
  copied = 0
  constructor(public maxFrame: number = MAX_FRAME) {}

  /** Bytes held (a partial frame and its prefix). */
  get bufferedBytes(): number {
    return this.buffered
  }

  /** Feeds bytes; returns the complete frames. Throws FrameError on a bad length prefix. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (chunk.byteLength > 0) {
      this.chunks.push(chunk)
      this.buffered += chunk.byteLength
    }
    const frames: Uint8Array[] = []
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 4) break
        const prefix = this.take(4)
        const len = new DataView(prefix.buffer).getUint32(0)
        if (len === 0) throw new FrameError('length', 'empty frame')
        if (len > this.maxFrame) throw new FrameError('length', `frame of ${len} bytes exceeds limit ${this.maxFrame}`)
        this.need = len
      }
      if (this.buffered < this.need) break
      frames.push(this.take(this.need))
      this.need = -1
    }
    return frames
  }

  /** Copies the next `n` buffered bytes out (n ≤ buffered). */
  private take(n: number): Uint8Array {
    const out = new Uint8Array(n)
    let filled = 0
    while (filled < n) {
      const c = this.chunks[this.head] as Uint8Array
      const k = Math.min(c.byteLength - this.offset, n - filled)
      out.set(c.subarray(this.offset, this.offset + k), filled)
      filled += k
      this.offset += k
      if (this.offset === c.byteLength) {
        this.head++
        this.offset = 0
      }
    }
    // Forget consumed chunks now and then (amortised O(1) per chunk).
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head)
      this.head = 0
    }
    this.buffered -= n
    this.copied += n
    return out
  }
}

/** Bytes all connections of one server may hold in partial frames together. */
export class ByteBudget {
  used = 0
  constructor(readonly limit: number) {}
}

export function encodeFrame(payload: Uint8Array, maxFrame: number = MAX_FRAME): Buffer {
  if (payload.length === 0 || payload.length > maxFrame) throw new FrameError('length', `cannot frame ${payload.length} bytes`)
  const out = Buffer.allocUnsafe(4 + payload.length)
  out.writeUInt32BE(payload.length, 0)
  out.set(payload, 4)
  return out
}

/** A Link over one accepted or connected socket. */
export class SocketLink extends BaseLink {
  private socket: net.Socket | undefined
  private decoder: FrameDecoder
  /** Frame errors seen (the connection was closed for each). */
  readonly frameErrors: FrameError[] = []
  private limit: number

  constructor(
    readonly maxFrame: number = MAX_FRAME + LINK_OVERHEAD,
    private readonly budget?: ByteBudget,
  ) {
    super()
    this.limit = maxFrame
    this.decoder = new FrameDecoder(maxFrame)
  }

  /** Lowers (or restores, up to `maxFrame`) the size of frames accepted from now on. */
  setFrameLimit(bytes: number): void {
    this.limit = Math.min(bytes, this.maxFrame)
    this.decoder.maxFrame = this.limit
  }

  /** Bytes this connection holds in a partial frame. */
  get bufferedBytes(): number {
    return this.decoder.bufferedBytes
  }

  get isOpen(): boolean {
    return this.socket !== undefined && !this.socket.destroyed && this.socket.readyState === 'open'
  }

  /** Binds a live socket (initial connect or reconnect). */
  attach(socket: net.Socket): void {
    this.socket = socket
    const decoder = new FrameDecoder(this.limit)
    this.decoder = decoder
    socket.setNoDelay(true)
    const budget = this.budget
    // What this connection holds, as counted in the shared budget.
    let held = 0
    const account = () => {
      if (budget === undefined) return
      budget.used += decoder.bufferedBytes - held
      held = decoder.bufferedBytes
    }
    socket.on('data', (chunk: Buffer) => {
      let frames: Uint8Array[]
      try {
        frames = decoder.push(chunk)
        account()
        if (budget !== undefined && budget.used > budget.limit && held > 0)
          throw new FrameError('buffer', `partial frames of all connections exceed the budget of ${budget.limit} bytes`)
      } catch (err) {
        account()
        this.frameErrors.push(err as FrameError)
        socket.destroy()
        return
      }
      for (const f of frames) this.emitFrame(f)
    })
    socket.on('error', () => {
      // 'close' follows; the reason is not needed by the protocol.
    })
    socket.on('close', () => {
      if (budget !== undefined) budget.used -= held
      held = 0
      if (this.socket === socket) this.socket = undefined
      this.emitClose()
    })
  }

  markOpen(): void {
    this.emitOpen()
  }

  send(frame: Uint8Array): void {
    if (!this.isOpen) return
    this.socket!.write(encodeFrame(frame, this.maxFrame))
  }

  /** Drops this socket (a server-side link does not reconnect: same as close). */
  drop(): void {
    this.close()
  }

  close(): void {
    this.socket?.end()
    this.socket?.destroy()
  }
}

export interface TcpServer {
  readonly port: number
  /** Open connections now. */
  readonly connections: number
  /** Connections refused because `maxConnections` were open. */
  readonly refused: number
  /** Bytes held in partial frames by all connections. */
  readonly buffered: number
  close(): Promise<void>
}

export interface TcpListenOptions {
  port?: number
  host?: string
  maxFrame?: number
  /** Most simultaneous connections (default 256); more are closed at once. */
  maxConnections?: number
  /** Bytes all connections may hold in partial frames together (default 32 MiB). */
  bufferBudget?: number
}

/** Listens; every accepted connection becomes a SocketLink handed to `onLink`. */
export function tcpListen(options: TcpListenOptions, onLink: (link: SocketLink) => void): Promise<TcpServer> {
  const sockets = new Set<net.Socket>()
  const maxConnections = options.maxConnections ?? 256
  const budget = new ByteBudget(options.bufferBudget ?? 32 * 1024 * 1024)
  let refused = 0
  const server = net.createServer((socket) => {
    if (sockets.size >= maxConnections) {
      refused++
      socket.destroy()
      return
    }
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    const link = new SocketLink(options.maxFrame, budget)
    link.attach(socket)
    onLink(link)
    link.markOpen()
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      const addr = server.address() as net.AddressInfo
      resolve({
        port: addr.port,
        get connections() {
          return sockets.size
        },
        get refused() {
          return refused
        },
        get buffered() {
          return budget.used
        },
        close: () =>
          new Promise<void>((res) => {
            for (const s of sockets) s.destroy()
            server.close(() => res())
          }),
      })
    })
  })
}

/** A client link that reconnects after drops (backoff 50 ms doubling to 2 s). */
export class ReconnectingLink extends SocketLink {
  private stopped = false
  private backoff = 50
  private timer: NodeJS.Timeout | undefined
  reconnects = 0

  constructor(
    readonly host: string,
    readonly port: number,
    maxFrame: number = MAX_FRAME + LINK_OVERHEAD,
  ) {
    super(maxFrame)
    this.onClose(() => this.schedule())
    this.dial()
  }

  private dial(): void {
    if (this.stopped) return
    const socket = net.connect({ host: this.host, port: this.port })
    socket.once('connect', () => {
      this.backoff = 50
      this.markOpen()
    })
    this.attach(socket)
  }

  private schedule(): void {
    if (this.stopped || this.timer !== undefined) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.reconnects++
      this.dial()
    }, this.backoff)
    this.backoff = Math.min(this.backoff * 2, 2_000)
  }

  /** Drops the current socket (it will reconnect). */
  override drop(): void {
    super.close()
  }

  override close(): void {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    super.close()
  }
}

export function tcpConnect(host: string, port: number, maxFrame?: number): ReconnectingLink {
  return new ReconnectingLink(host, port, maxFrame)
}
