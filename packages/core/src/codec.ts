/**
 * The one canonical binary encoding for protocol messages.
 *
 * Why a small explicit codec rather than CBOR or MessagePack: every message in
 * this project has a fixed schema, and a schema-driven codec gives exactly one
 * encoding per value by construction (fixed field order, fixed-width or
 * minimal-length integers, no optional map keys), so `encode(decode(b))` equals
 * `b` and a signature over an encoding is unambiguous. Decoding is strict: it
 * rejects truncation, trailing bytes (extra fields), non-minimal integers,
 * out-of-range values, lengths over their declared maximum and inputs over a
 * size limit, with a DecodeError that names the field. cbor-x / msgpackr would
 * need a canonicalisation layer on encode and the same validation layer on
 * decode, since they return untyped objects.
 */
import { MAX_AMOUNT } from './amount.ts'
import { type Address, addressFromBytes, addressToBytes } from './address.ts'
import { DecodeError, InvalidInputError, describe } from './errors.ts'

export interface Codec<T> {
  readonly kind: string
  write(w: Writer, value: T, field: string): void
  read(r: Reader, field: string): T
}

export type Infer<C> = C extends Codec<infer T> ? T : never

/** Default limit on the size of one decoded message (1 MiB). */
export const DEFAULT_MAX_MESSAGE_SIZE = 1 << 20

export class Writer {
  private buf = new Uint8Array(256)
  private view = new DataView(this.buf.buffer)
  pos = 0

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
    this.view = new DataView(next.buffer)
  }
  u8(v: number): void {
    this.ensure(1)
    this.buf[this.pos++] = v
  }
  u16(v: number): void {
    this.ensure(2)
    this.view.setUint16(this.pos, v)
    this.pos += 2
  }
  u32(v: number): void {
    this.ensure(4)
    this.view.setUint32(this.pos, v)
    this.pos += 4
  }
  u64(v: bigint): void {
    this.ensure(8)
    this.view.setBigUint64(this.pos, v)
    this.pos += 8
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos)
  }
}

export class Reader {
  private readonly view: DataView
  pos = 0
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }
  private need(n: number, field: string): void {
    if (this.pos + n > this.buf.length)
      throw new DecodeError(field, `truncated: need ${n} bytes at offset ${this.pos}, have ${this.buf.length - this.pos}`)
  }
  u8(field: string): number {
    this.need(1, field)
    return this.buf[this.pos++] as number
  }
  u16(field: string): number {
    this.need(2, field)
    const v = this.view.getUint16(this.pos)
    this.pos += 2
    return v
  }
  u32(field: string): number {
    this.need(4, field)
    const v = this.view.getUint32(this.pos)
    this.pos += 4
    return v
  }
  u64(field: string): bigint {
    this.need(8, field)
    const v = this.view.getBigUint64(this.pos)
    this.pos += 8
    return v
  }
  bytes(n: number, field: string): Uint8Array {
    this.need(n, field)
    const b = this.buf.slice(this.pos, this.pos + n)
    this.pos += n
    return b
  }
  get remaining(): number {
    return this.buf.length - this.pos
  }
}

function intCodec(kind: string, bytes: 1 | 2 | 4): Codec<number> {
  const max = 2 ** (8 * bytes) - 1
  return {
    kind,
    write(w, v, field) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max)
        throw new InvalidInputError(field, `expected ${kind} (0..${max}), got ${describe(v)}`)
      if (bytes === 1) w.u8(v)
      else if (bytes === 2) w.u16(v)
      else w.u32(v)
    },
    read(r, field) {
      return bytes === 1 ? r.u8(field) : bytes === 2 ? r.u16(field) : r.u32(field)
    },
  }
}

export const u8 = intCodec('u8', 1)
export const u16 = intCodec('u16', 2)
export const u32 = intCodec('u32', 4)

export const u64: Codec<bigint> = {
  kind: 'u64',
  write(w, v, field) {
    if (typeof v !== 'bigint' || v < 0n || v >= 1n << 64n) throw new InvalidInputError(field, `expected u64 bigint, got ${describe(v)}`)
    w.u64(v)
  },
  read: (r, field) => r.u64(field),
}

/**
 * Unsigned bigint of at most `maxBytes` bytes, encoded as a length byte and the
 * minimal big-endian bytes (0 is a single 0x00 length). Non-minimal encodings
 * (a leading zero byte) are rejected, so the encoding stays canonical.
 */
export function uint(maxBytes = 32, max: bigint = (1n << BigInt(8 * maxBytes)) - 1n): Codec<bigint> {
  return {
    kind: `uint${maxBytes * 8}`,
    write(w, v, field) {
      if (typeof v !== 'bigint' || v < 0n || v > max) throw new InvalidInputError(field, `expected bigint in 0..${max}, got ${describe(v)}`)
      if (v === 0n) return w.u8(0)
      let hex = v.toString(16)
      if (hex.length % 2) hex = `0${hex}`
      const n = hex.length / 2
      w.u8(n)
      for (let i = 0; i < n; i++) w.u8(Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16))
    },
    read(r, field) {
      const n = r.u8(field)
      if (n === 0) return 0n
      if (n > maxBytes) throw new DecodeError(field, `integer of ${n} bytes exceeds ${maxBytes}`)
      const b = r.bytes(n, field)
      if (b[0] === 0) throw new DecodeError(field, 'non-minimal integer encoding')
      let v = 0n
      for (const x of b) v = (v << 8n) | BigInt(x)
      if (v > max) throw new DecodeError(field, `integer ${v} exceeds ${max}`)
      return v
    },
  }
}

/** An amount: a uint bounded by MAX_AMOUNT. */
export const amount: Codec<bigint> = { ...uint(16, MAX_AMOUNT), kind: 'amount' }

export const bool: Codec<boolean> = {
  kind: 'bool',
  write(w, v, field) {
    if (typeof v !== 'boolean') throw new InvalidInputError(field, `expected boolean, got ${describe(v)}`)
    w.u8(v ? 1 : 0)
  },
  read(r, field) {
    const b = r.u8(field)
    if (b > 1) throw new DecodeError(field, `boolean byte must be 0 or 1, got ${b}`)
    return b === 1
  },
}

export function fixedBytes(length: number): Codec<Uint8Array> {
  return {
    kind: `bytes${length}`,
    write(w, v, field) {
      if (!(v instanceof Uint8Array) || v.length !== length)
        throw new InvalidInputError(field, `expected ${length} bytes, got ${describe(v)}`)
      w.bytes(v)
    },
    read: (r, field) => r.bytes(length, field),
  }
}

export function bytes(maxLength: number): Codec<Uint8Array> {
  return {
    kind: 'bytes',
    write(w, v, field) {
      if (!(v instanceof Uint8Array) || v.length > maxLength)
        throw new InvalidInputError(field, `expected at most ${maxLength} bytes, got ${describe(v)}`)
      w.u32(v.length)
      w.bytes(v)
    },
    read(r, field) {
      const n = r.u32(field)
      if (n > maxLength) throw new DecodeError(field, `length ${n} exceeds ${maxLength}`)
      return r.bytes(n, field)
    },
  }
}

// fatal: malformed UTF-8 is an error, not U+FFFD. ignoreBOM: a leading EF BB BF is
// kept as U+FEFF (the default strips it, so two encodings would decode alike).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const utf8Enc = new TextEncoder()
/** String.prototype.isWellFormed, which the ES2022 lib does not declare. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

export function string(maxBytes: number): Codec<string> {
  return {
    kind: 'string',
    write(w, v, field) {
      if (typeof v !== 'string') throw new InvalidInputError(field, `expected string, got ${describe(v)}`)
      // A lone surrogate would be written as U+FFFD and read back as another string.
      if (LONE_SURROGATE.test(v)) throw new InvalidInputError(field, 'string has a lone surrogate (not encodable as UTF-8)')
      const b = utf8Enc.encode(v)
      if (b.length > maxBytes) throw new InvalidInputError(field, `longer than ${maxBytes} bytes`)
      w.u32(b.length)
      w.bytes(b)
    },
    read(r, field) {
      const n = r.u32(field)
      if (n > maxBytes) throw new DecodeError(field, `length ${n} exceeds ${maxBytes}`)
      try {
        return utf8.decode(r.bytes(n, field))
      } catch (cause) {
        throw new DecodeError(field, 'invalid UTF-8', { cause })
      }
    },
  }
}

export const address: Codec<Address> = {
  kind: 'address',
  write(w, v, field) {
    w.bytes(addressToBytes(field, v))
  },
  read: (r, field) => addressFromBytes(r.bytes(20, field)),
}

export function list<T>(item: Codec<T>, maxItems: number): Codec<T[]> {
  return {
    kind: `list<${item.kind}>`,
    write(w, v, field) {
      if (!Array.isArray(v) || v.length > maxItems)
        throw new InvalidInputError(field, `expected an array of at most ${maxItems} items, got ${describe(v)}`)
      w.u32(v.length)
      for (let i = 0; i < v.length; i++) item.write(w, v[i] as T, `${field}[${i}]`)
    },
    read(r, field) {
      const n = r.u32(field)
      if (n > maxItems) throw new DecodeError(field, `${n} items exceed ${maxItems}`)
      const out: T[] = []
      for (let i = 0; i < n; i++) out.push(item.read(r, `${field}[${i}]`))
      return out
    },
  }
}

export function optional<T>(item: Codec<T>): Codec<T | undefined> {
  return {
    kind: `optional<${item.kind}>`,
    write(w, v, field) {
      if (v === undefined) return w.u8(0)
      w.u8(1)
      item.write(w, v, field)
    },
    read(r, field) {
      const flag = r.u8(field)
      if (flag > 1) throw new DecodeError(field, `option flag must be 0 or 1, got ${flag}`)
      return flag === 1 ? item.read(r, field) : undefined
    },
  }
}

export function enumeration<const T extends string>(values: readonly T[]): Codec<T> {
  return {
    kind: `enum(${values.join('|')})`,
    write(w, v, field) {
      const i = values.indexOf(v)
      if (i < 0) throw new InvalidInputError(field, `expected one of ${values.join(', ')}, got ${describe(v)}`)
      w.u8(i)
    },
    read(r, field) {
      const i = r.u8(field)
      const v = values[i]
      if (v === undefined) throw new DecodeError(field, `enum index ${i} out of range`)
      return v
    },
  }
}

type Fields = Record<string, Codec<unknown>>
export type StructOf<F extends Fields> = { [K in keyof F]: Infer<F[K]> }

export function struct<F extends Fields>(fields: F): Codec<StructOf<F>> {
  const entries = Object.entries(fields)
  return {
    kind: 'struct',
    write(w, v, field) {
      if (typeof v !== 'object' || v === null) throw new InvalidInputError(field, `expected an object, got ${describe(v)}`)
      const obj = v as Record<string, unknown>
      for (const [k, c] of entries) c.write(w, obj[k], field ? `${field}.${k}` : k)
    },
    read(r, field) {
      const out: Record<string, unknown> = {}
      for (const [k, c] of entries) out[k] = c.read(r, field ? `${field}.${k}` : k)
      return out as StructOf<F>
    },
  }
}

type MessageDefs = Record<string, readonly [number, Codec<object>]>
export type MessageOf<D extends MessageDefs> = {
  [K in keyof D]: { type: K } & Infer<D[K][1]>
}[keyof D]

/**
 * A set of tagged message types sharing one wire: a tag byte then the struct.
 * `decode` dispatches on the tag and rejects unknown tags.
 */
export function messages<const D extends MessageDefs>(defs: D): Codec<MessageOf<D>> & { readonly types: (keyof D)[] } {
  const byTag = new Map<number, [string, Codec<object>]>()
  for (const [name, [tag, c]] of Object.entries(defs)) {
    if (byTag.has(tag)) throw new InvalidInputError('messages', `duplicate tag ${tag}`)
    byTag.set(tag, [name, c])
  }
  return {
    kind: 'messages',
    types: Object.keys(defs) as (keyof D)[],
    write(w, v, field) {
      const def = typeof v === 'object' && v !== null ? defs[(v as { type: string }).type] : undefined
      if (def === undefined) throw new InvalidInputError(`${field}type`, `unknown message type ${describe((v as { type?: unknown })?.type)}`)
      w.u8(def[0])
      def[1].write(w, v, field)
    },
    read(r, field) {
      const tag = r.u8(`${field}type`)
      const def = byTag.get(tag)
      if (def === undefined) throw new DecodeError(`${field}type`, `unknown message tag ${tag}`)
      return { type: def[0], ...def[1].read(r, field) } as MessageOf<D>
    },
  }
}

export function encode<T>(codec: Codec<T>, value: T): Uint8Array {
  const w = new Writer()
  codec.write(w, value, '')
  return w.finish()
}

export interface DecodeOptions {
  /** Reject inputs larger than this many bytes before parsing (default 1 MiB). */
  maxSize?: number
}

export function decode<T>(codec: Codec<T>, input: Uint8Array, options: DecodeOptions = {}): T {
  const maxSize = options.maxSize ?? DEFAULT_MAX_MESSAGE_SIZE
  if (!(input instanceof Uint8Array)) throw new DecodeError('input', `expected Uint8Array, got ${describe(input)}`)
  if (input.length > maxSize) throw new DecodeError('input', `message of ${input.length} bytes exceeds limit ${maxSize}`)
  const r = new Reader(input)
  const value = codec.read(r, '')
  if (r.remaining !== 0) throw new DecodeError('input', `${r.remaining} trailing bytes`)
  return value
}
