/**
 * TCP transport (node:net). Frames are a 4-byte big-endian length followed by
 * the payload. A frame over the size limit, or a zero-length frame, is a
 * protocol violation: the connection is closed cleanly (the decoder never
 * buffers more than one limit's worth of bytes) and the server keeps serving.
 *
 * `tcpConnect` returns a Link that reconnects with capped exponential backoff
 * after any drop; each reconnection fires `onOpen`, on which the node resyncs
 * every channel with that peer.
 */
import net from 'node:net'
import { FrameError } from './errors.ts'
import { BaseLink } from './transport.ts'
import { MAX_FRAME } from './wire.ts'

/** Length-prefix framing for one byte stream. */
export class FrameDecoder {
  private chunks: Buffer[] = []
  private buffered = 0
  constructor(readonly maxFrame: number = MAX_FRAME) {}

  /** Feeds bytes; returns the complete frames. Throws FrameError on a bad length prefix. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    this.buffered += chunk.byteLength
    const frames: Uint8Array[] = []
    for (;;) {
      if (this.buffered < 4) break
      const head = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks)
      this.chunks = [head]
      const len = head.readUInt32BE(0)
      if (len === 0) throw new FrameError('length', 'empty frame')
      if (len > this.maxFrame) throw new FrameError('length', `frame of ${len} bytes exceeds limit ${this.maxFrame}`)
      if (this.buffered < 4 + len) break
      frames.push(new Uint8Array(head.subarray(4, 4 + len)))
      const rest = head.subarray(4 + len)
      this.chunks = rest.length > 0 ? [rest] : []
      this.buffered = rest.length
    }
    return frames
  }
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

  constructor(readonly maxFrame: number = MAX_FRAME) {
    super()
    this.decoder = new FrameDecoder(maxFrame)
  }

  get isOpen(): boolean {
    return this.socket !== undefined && !this.socket.destroyed && this.socket.readyState === 'open'
  }

  /** Binds a live socket (initial connect or reconnect). */
  attach(socket: net.Socket): void {
    this.socket = socket
    this.decoder = new FrameDecoder(this.maxFrame)
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => {
      let frames: Uint8Array[]
      try {
        frames = this.decoder.push(chunk)
      } catch (err) {
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

  close(): void {
    this.socket?.end()
    this.socket?.destroy()
  }
}

export interface TcpServer {
  readonly port: number
  close(): Promise<void>
}

/** Listens; every accepted connection becomes a SocketLink handed to `onLink`. */
export function tcpListen(options: { port?: number; host?: string; maxFrame?: number }, onLink: (link: SocketLink) => void): Promise<TcpServer> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    const link = new SocketLink(options.maxFrame)
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
    maxFrame: number = MAX_FRAME,
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

  /** Drops the current socket (it will reconnect): for tests of resync. */
  drop(): void {
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
