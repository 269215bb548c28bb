/**
 * SecureLink: a Link on which every frame is known to come from one peer.
 *
 * On every (re)connection of the underlying link both ends run a handshake:
 *
 *   hello  { chainId, protocol, ephemeral }       a fresh secp256k1 ECDH key per connection
 *   auth   { publicKey, sig }                     sig = Sign_static(H(tag ‖ chainId ‖ protocol ‖ my eph ‖ your eph))
 *
 * Each side signs the other side's fresh ephemeral key (the per-link
 * challenge) together with its own, so an auth is useless on any other
 * connection and cannot be reflected back. The peer's identity is the address
 * of the public key that signed. Both then derive two directional keys from
 * ECDH(ephemerals) (HKDF-SHA256 salted with the transcript): a relay in the
 * middle that forwards the handshake learns nothing it could use.
 *
 * After the handshake every frame is `3 ‖ counter (u64) ‖ payload ‖ tag`, with
 * tag = HMAC-SHA256(direction key, counter ‖ payload) cut to 16 bytes. A frame
 * whose tag does not verify, whose counter was seen or is older than the
 * replay window (1,024 frames, so a reordering network is tolerated), or that
 * arrives before the handshake completed, is dropped and reported to
 * `onError` — it never reaches the node. An empty payload is a keep-alive.
 *
 * Bounds: until the peer authenticated, the underlying link buffers at most
 * HANDSHAKE_MAX_FRAME bytes per frame (`setFrameLimit`); a handshake that does
 * not complete within `helloTimeoutMs` drops the connection; an authenticated
 * connection that is silent for `idleTimeoutMs` (keep-alives go out every
 * third of it) is dropped too (a reconnecting link dials again).
 */
import crypto from 'node:crypto'
import {
  type Address,
  DecodeError,
  InvalidInputError,
  L2Error,
  type Signer,
  bytesEqual,
  type Verifier,
  codec,
  decode,
  describe,
  encode,
  keccakTagged,
  nodeVerifier,
  publicKeyToAddress,
} from '@l2bench/core'
import { LinkError } from './errors.ts'
import { BaseLink, type Link } from './transport.ts'

export const HANDSHAKE_TAG = 'l2bench/link/handshake/v1'
const KEYS_TAG = 'l2bench/link/keys/v1'
/** Largest frame buffered before the peer authenticated (the handshake frames are ~40 and ~100 bytes). */
export const HANDSHAKE_MAX_FRAME = 256
/** What a data frame adds to its payload: type (1) + counter (8) + tag (16). */
export const LINK_OVERHEAD = 25
const TAG_BYTES = 16
const DATA = 3
const REPLAY_WINDOW = 1024

/** The two handshake frames (exported for tests that speak the handshake by hand). */
export const handshakeCodec = codec.messages({
  hello: [1, codec.struct({ chainId: codec.u64, protocol: codec.fixedBytes(32), ephemeral: codec.fixedBytes(33) })],
  auth: [2, codec.struct({ publicKey: codec.fixedBytes(33), sig: codec.fixedBytes(64) })],
})
type Handshake = codec.Infer<typeof handshakeCodec>

export interface SecureLinkOptions {
  /** Our static identity (the channel key): the peer learns our address from it. */
  signer: Signer
  verifier?: Verifier
  /** Both ends must be on this chain (bound into the signatures). */
  chainId: bigint
  /** Protocol name, e.g. 'l2bench/payment-channel': a handshake for one protocol is void for another. */
  protocol: string
  /** Largest payload (default 128 KiB + room); the underlying link's frame limit is this plus LINK_OVERHEAD once authenticated. */
  maxPayload?: number
  /** Drop a connection whose handshake has not completed after this long (ms, default 10,000). */
  helloTimeoutMs?: number
  /** Drop an authenticated connection silent for this long (ms, default 60,000); 0 disables. */
  idleTimeoutMs?: number
  /** Dropped frames and failed handshakes (typed errors). */
  onError?: (err: L2Error) => void
  /** When it returns false, connections are dropped as they open (a stopped node). */
  accepting?: () => boolean
}

interface Session {
  ecdh: crypto.ECDH
  ephemeral: Uint8Array
  peerEphemeral?: Uint8Array
  peer?: Address
  peerPublicKey?: Uint8Array
  sendKey?: Buffer
  recvKey?: Buffer
  sent: number
  highest: number
  seen: Set<number>
  lastHeard: number
  /** Our receive key, armed once the peer's auth verifies. */
  pendingRecv?: Buffer
}

export class SecureLink extends BaseLink {
  private session: Session | undefined
  private helloTimer: NodeJS.Timeout | undefined
  private idleTimer: NodeJS.Timeout | undefined
  private readonly protocolHash: Uint8Array
  private readonly verifier: Verifier
  private readonly maxPayload: number

  constructor(
    readonly raw: Link,
    readonly options: SecureLinkOptions,
  ) {
    super()
    this.verifier = options.verifier ?? nodeVerifier
    this.protocolHash = keccakTagged(HANDSHAKE_TAG, new TextEncoder().encode(options.protocol))
    this.maxPayload = options.maxPayload ?? 128 * 1024 + 1024
    checkLinkOptions(options)
    raw.onOpen(() => this.start())
    raw.onClose(() => this.end())
    raw.onFrame((f) => this.receive(f))
  }

  /** The authenticated peer of the current connection (undefined until the handshake completed). */
  get peer(): Address | undefined {
    return this.session?.peer
  }

  get peerPublicKey(): Uint8Array | undefined {
    return this.session?.peerPublicKey
  }

  get isOpen(): boolean {
    return this.raw.isOpen && this.session?.recvKey !== undefined
  }

  /** Sends one payload on the authenticated connection; dropped (like on a down link) otherwise. */
  send(payload: Uint8Array): void {
    const s = this.session
    if (s?.sendKey === undefined || !this.raw.isOpen) return
    if (payload.length > this.maxPayload) throw new LinkError('FRAME', 'payload', `payload of ${payload.length} bytes exceeds ${this.maxPayload}`)
    this.raw.send(seal(s.sendKey, s.sent++, payload))
  }

  close(): void {
    this.raw.close()
  }

  /** Drops the current connection (a reconnecting link dials again; others close). */
  drop(): void {
    if (this.raw.drop !== undefined) this.raw.drop()
    else this.raw.close()
  }

  // ------------------------------------------------------------ handshake

  private start(): void {
    this.end()
    if (this.options.accepting !== undefined && !this.options.accepting()) {
      queueMicrotask(() => this.drop())
      return
    }
    const ecdh = crypto.createECDH('secp256k1')
    ecdh.generateKeys()
    const ephemeral = new Uint8Array(ecdh.getPublicKey(null, 'compressed'))
    this.session = { ecdh, ephemeral, sent: 0, highest: -1, seen: new Set(), lastHeard: Date.now() }
    this.raw.setFrameLimit?.(HANDSHAKE_MAX_FRAME)
    this.raw.send(encode(handshakeCodec, { type: 'hello', chainId: this.options.chainId, protocol: this.protocolHash, ephemeral }))
    this.helloTimer = setTimeout(() => {
      this.fail(new LinkError('TIMEOUT', 'hello', `no authenticated hello within ${this.helloTimeout} ms`))
      this.drop()
    }, this.helloTimeout)
    this.helloTimer.unref()
  }

  private get helloTimeout(): number {
    return this.options.helloTimeoutMs ?? 10_000
  }

  /** The digest `signer` signs: its own ephemeral first, then the one it answers. */
  private transcript(signerEph: Uint8Array, otherEph: Uint8Array): Uint8Array {
    return keccakTagged(HANDSHAKE_TAG, encode(codec.u64, this.options.chainId), this.protocolHash, signerEph, otherEph)
  }

  private onHello(s: Session, msg: Extract<Handshake, { type: 'hello' }>): void {
    if (s.peerEphemeral !== undefined) throw new LinkError('HANDSHAKE', 'hello', 'second hello on one connection')
    if (msg.chainId !== this.options.chainId) throw new LinkError('HANDSHAKE', 'chainId', `peer is on chain ${msg.chainId}`)
    if (!bytesEqual(msg.protocol, this.protocolHash)) throw new LinkError('HANDSHAKE', 'protocol', 'peer speaks another protocol')
    if (bytesEqual(msg.ephemeral, s.ephemeral)) throw new LinkError('HANDSHAKE', 'ephemeral', 'our own hello reflected back')
    let shared: Buffer
    try {
      shared = s.ecdh.computeSecret(msg.ephemeral)
    } catch (cause) {
      throw new LinkError('HANDSHAKE', 'ephemeral', 'not a secp256k1 point', { cause })
    }
    s.peerEphemeral = msg.ephemeral
    // Directional keys: salted with both ephemerals in a fixed order, so both ends derive the same pair.
    const [lo, hi] = Buffer.compare(s.ephemeral, msg.ephemeral) < 0 ? [s.ephemeral, msg.ephemeral] : [msg.ephemeral, s.ephemeral]
    const okm = Buffer.from(crypto.hkdfSync('sha256', shared, Buffer.concat([lo, hi]), KEYS_TAG, 64))
    const iAmLo = lo === s.ephemeral
    s.sendKey = iAmLo ? okm.subarray(0, 32) : okm.subarray(32)
    const recvKey = iAmLo ? okm.subarray(32) : okm.subarray(0, 32)
    const sig = this.options.signer.sign(this.transcript(s.ephemeral, msg.ephemeral))
    this.raw.send(encode(handshakeCodec, { type: 'auth', publicKey: this.options.signer.publicKey, sig }))
    s.pendingRecv = recvKey
  }

  private onAuth(s: Session, msg: Extract<Handshake, { type: 'auth' }>): void {
    if (s.peerEphemeral === undefined || s.pendingRecv === undefined) throw new LinkError('HANDSHAKE', 'auth', 'auth before hello')
    if (s.recvKey !== undefined) throw new LinkError('HANDSHAKE', 'auth', 'second auth on one connection')
    if (!this.verifier.verify(msg.sig, this.transcript(s.peerEphemeral, s.ephemeral), msg.publicKey))
      throw new LinkError('AUTH', 'sig', 'handshake signature invalid for this connection')
    const peer = publicKeyToAddress(msg.publicKey)
    if (peer === this.options.signer.address) throw new LinkError('AUTH', 'publicKey', 'peer claims our own identity')
    s.peer = peer
    s.peerPublicKey = msg.publicKey
    s.recvKey = s.pendingRecv
    s.lastHeard = Date.now()
    if (this.helloTimer !== undefined) clearTimeout(this.helloTimer)
    this.helloTimer = undefined
    this.raw.setFrameLimit?.(this.maxPayload + LINK_OVERHEAD)
    this.armIdle(s)
    this.emitOpen()
  }

  private armIdle(s: Session): void {
    const idle = this.options.idleTimeoutMs ?? 60_000
    if (idle <= 0) return
    this.idleTimer = setInterval(
      () => {
        if (this.session !== s) return
        if (Date.now() - s.lastHeard > idle) {
          this.fail(new LinkError('TIMEOUT', 'link', `peer silent for ${idle} ms`))
          this.drop()
        } else if (s.sendKey !== undefined) this.raw.send(seal(s.sendKey, s.sent++, new Uint8Array()))
      },
      Math.max(10, Math.floor(idle / 3)),
    )
    this.idleTimer.unref()
  }

  private end(): void {
    if (this.helloTimer !== undefined) clearTimeout(this.helloTimer)
    if (this.idleTimer !== undefined) clearInterval(this.idleTimer)
    this.helloTimer = undefined
    this.idleTimer = undefined
    const wasOpen = this.session?.recvKey !== undefined
    this.session = undefined
    if (wasOpen) this.emitClose()
  }

  // ------------------------------------------------------------ frames

  private receive(frame: Uint8Array): void {
    const s = this.session
    if (s === undefined) return
    try {
      if (frame[0] === DATA) {
        if (s.recvKey === undefined) throw new LinkError('AUTH', 'frame', 'data before the peer authenticated')
        const payload = this.open(s, s.recvKey, frame)
        s.lastHeard = Date.now()
        if (payload.length > 0) this.emitFrame(payload)
        return
      }
      let msg: Handshake
      try {
        msg = decode(handshakeCodec, frame, { maxSize: HANDSHAKE_MAX_FRAME })
      } catch (err) {
        throw err instanceof DecodeError ? err : new DecodeError('frame', String(err))
      }
      if (msg.type === 'hello') this.onHello(s, msg)
      else this.onAuth(s, msg)
    } catch (err) {
      this.fail(err)
      // A broken handshake ends the connection; a bad data frame is only dropped.
      if (s.recvKey === undefined) this.drop()
    }
  }

  /** Verifies tag and counter; returns the payload. */
  private open(s: Session, key: Buffer, frame: Uint8Array): Uint8Array {
    if (frame.length < LINK_OVERHEAD) throw new LinkError('FRAME', 'frame', `data frame of ${frame.length} bytes`)
    const body = frame.subarray(1, frame.length - TAG_BYTES)
    const tag = frame.subarray(frame.length - TAG_BYTES)
    const expect = crypto.createHmac('sha256', key).update(body).digest().subarray(0, TAG_BYTES)
    if (!crypto.timingSafeEqual(expect, tag)) throw new LinkError('MAC', 'tag', 'frame not authenticated by the peer of this connection')
    const counter = Number(Buffer.from(body.buffer, body.byteOffset, 8).readBigUInt64BE(0))
    if (counter <= s.highest - REPLAY_WINDOW || s.seen.has(counter)) throw new LinkError('REPLAY', 'counter', `frame ${counter} replayed or too old`)
    s.seen.add(counter)
    if (counter > s.highest) {
      if (counter - s.highest >= REPLAY_WINDOW) s.seen = new Set([counter])
      else for (let c = s.highest - REPLAY_WINDOW + 1; c <= counter - REPLAY_WINDOW; c++) s.seen.delete(c)
      s.highest = counter
    }
    return body.subarray(8)
  }

  private fail(err: unknown): void {
    const e = err instanceof L2Error ? err : new LinkError('HANDSHAKE', 'frame', String((err as Error)?.message ?? err), { cause: err })
    this.options.onError?.(e)
  }
}

/** Timeouts and sizes must be integers (idle 0 = off); a typed error names the option. */
export function checkLinkOptions(o: Pick<SecureLinkOptions, 'helloTimeoutMs' | 'idleTimeoutMs' | 'maxPayload'>): void {
  for (const f of ['helloTimeoutMs', 'idleTimeoutMs', 'maxPayload'] as const) {
    const v = o[f]
    if (v !== undefined && (!Number.isSafeInteger(v) || v < (f === 'idleTimeoutMs' ? 0 : 1)))
      throw new InvalidInputError(f, `expected a ${f === 'idleTimeoutMs' ? 'non-negative' : 'positive'} integer, got ${describe(v)}`)
  }
}

/** `3 ‖ counter ‖ payload ‖ HMAC(key, counter ‖ payload)[0, 16)`. */
function seal(key: Buffer, counter: number, payload: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(LINK_OVERHEAD + payload.length)
  out[0] = DATA
  out.writeBigUInt64BE(BigInt(counter), 1)
  out.set(payload, 9)
  const tag = crypto.createHmac('sha256', key).update(out.subarray(1, 9 + payload.length)).digest()
  out.set(tag.subarray(0, TAG_BYTES), 9 + payload.length)
  return out
}
