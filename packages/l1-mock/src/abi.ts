/**
 * The Solidity ABI, as far as the designs' contracts need it: a contract's
 * methods and events described once, in the JSON ABI format solc emits and
 * viem reads, and the encoding of a call to one of them.
 *
 * Why the mock needs it: a contract deployed on a real EVM takes standard ABI
 * calls, and the calldata gas a transaction pays is that encoding's bytes (16
 * per non-zero, 4 per zero byte). A design package describes its contract's
 * methods and events once (e.g. payment-channel's ADJUDICATOR_ABI); the mock
 * charges the ABI bytes of each call from that description, and the EVM
 * backend (@l2bench/l1-evm) encodes the very same call with it (and checks
 * the description against the compiled Solidity). Event descriptions give a
 * LOG's topics and data size the same way.
 *
 * Values: addresses and fixed bytes as `0x` hex or Uint8Array, integers as
 * bigint or number, bool, `bytes` as hex or Uint8Array, arrays as arrays,
 * tuples as objects keyed by component name (or arrays in component order).
 */
import { InvalidInputError, keccak256, utf8ToBytes } from '@l2bench/core'

export interface AbiParam {
  readonly name?: string
  readonly type: string
  readonly components?: readonly AbiParam[]
  readonly indexed?: boolean
  readonly internalType?: string
}

export interface AbiFunction {
  readonly type: 'function'
  readonly name: string
  readonly inputs: readonly AbiParam[]
  readonly outputs: readonly AbiParam[]
  readonly stateMutability: 'pure' | 'view' | 'nonpayable' | 'payable'
}

export interface AbiEvent {
  readonly type: 'event'
  readonly name: string
  readonly inputs: readonly AbiParam[]
  readonly anonymous?: boolean
}

export type AbiItem = AbiFunction | AbiEvent

/** A call of one of a contract's ABI methods: what both backends encode and charge. */
export interface AbiCall {
  readonly functionName: string
  readonly args: readonly unknown[]
}

/** The canonical type of a parameter as it appears in a signature (`(address,uint256)[]`). */
export function canonicalType(p: AbiParam): string {
  if (!p.type.startsWith('tuple')) return p.type
  const inner = (p.components ?? []).map(canonicalType).join(',')
  return `(${inner})${p.type.slice('tuple'.length)}`
}

/** `name(type,…)`, the text the selector and the event topic hash. */
export function signatureOf(item: AbiItem): string {
  return `${item.name}(${item.inputs.map(canonicalType).join(',')})`
}

const selectors = new WeakMap<AbiItem, Uint8Array>()

/** The 4-byte selector of a function (keccak256 of its signature). */
export function selectorOf(fn: AbiFunction): Uint8Array {
  let s = selectors.get(fn)
  if (s === undefined) {
    s = keccak256(utf8ToBytes(signatureOf(fn))).slice(0, 4)
    selectors.set(fn, s)
  }
  return s
}

export function findFunction(abi: readonly AbiItem[], name: string): AbiFunction {
  const fn = abi.find((i): i is AbiFunction => i.type === 'function' && i.name === name)
  if (fn === undefined) throw new InvalidInputError('functionName', `no ABI function ${name}`)
  return fn
}

export function findEvent(abi: readonly AbiItem[], name: string): AbiEvent {
  const ev = abi.find((i): i is AbiEvent => i.type === 'event' && i.name === name)
  if (ev === undefined) throw new InvalidInputError('eventName', `no ABI event ${name}`)
  return ev
}

// ---------------------------------------------------------------- human-readable items

/** Splits `text` at top-level commas (not inside parentheses). */
function splitTop(text: string): string[] {
  const out: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (ch === '(') depth++
    else if (ch === ')') depth--
    else if (ch === ',' && depth === 0) {
      out.push(text.slice(start, i))
      start = i + 1
    }
  }
  const last = text.slice(start)
  if (last.trim() !== '') out.push(last)
  return out.map((t) => t.trim())
}

/** The text between the parenthesis at `open` and its match, and the index after the match. */
function group(text: string, open: number): { inner: string; end: number } {
  let depth = 0
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++
    else if (text[i] === ')' && --depth === 0) return { inner: text.slice(open + 1, i), end: i + 1 }
  }
  throw new InvalidInputError('abi', `unbalanced parentheses in ${text}`)
}

function parseParam(text: string): AbiParam {
  let rest = text.trim()
  let type: string
  let components: AbiParam[] | undefined
  if (rest.startsWith('(')) {
    const { inner, end } = group(rest, 0)
    components = splitTop(inner).map(parseParam)
    const suffix = /^(\[\d*\])*/.exec(rest.slice(end))?.[0] ?? ''
    type = `tuple${suffix}`
    rest = rest.slice(end + suffix.length).trim()
  } else {
    const m = /^(\S+)\s*(.*)$/.exec(rest)
    if (m === null) throw new InvalidInputError('abi', `bad parameter ${text}`)
    type = m[1] as string
    rest = m[2] as string
  }
  const words = rest.split(/\s+/).filter((w) => w !== '')
  const indexed = words[0] === 'indexed'
  const name = indexed ? words[1] : words[0]
  return { type, ...(name === undefined ? {} : { name }), ...(components === undefined ? {} : { components }), ...(indexed ? { indexed } : {}) }
}

function parseParams(text: string): AbiParam[] {
  return splitTop(text).map(parseParam)
}

/**
 * One ABI item from its Solidity-like text:
 *   `function open((address b, uint64 nonce) o) payable returns (bytes32 id)`
 *   `event Opened(bytes32 indexed channelId, uint256 depositA)`
 */
export function parseAbiItem(text: string): AbiItem {
  const m = /^\s*(function|event)\s+(\w+)\s*\(/.exec(text)
  if (m === null) throw new InvalidInputError('abi', `expected "function name(...)" or "event Name(...)", got ${text}`)
  const { inner, end } = group(text, m[0].length - 1)
  const inputs = parseParams(inner)
  if (m[1] === 'event') return { type: 'event', name: m[2] as string, inputs, anonymous: false }
  const tail = text.slice(end)
  const mut = /\b(pure|view|payable)\b/.exec(tail)?.[1] as AbiFunction['stateMutability'] | undefined
  const ret = tail.indexOf('returns')
  const outputs = ret === -1 ? [] : parseParams(group(tail, tail.indexOf('(', ret)).inner)
  return { type: 'function', name: m[2] as string, inputs, outputs, stateMutability: mut ?? 'nonpayable' }
}

export function parseAbi(items: readonly string[]): AbiItem[] {
  return items.map(parseAbiItem)
}

// ---------------------------------------------------------------- encoding

interface Parsed {
  /** Element type and length (undefined = dynamic) when this is an array. */
  array?: { of: AbiParam; length: number | undefined }
}

function parse(p: AbiParam): Parsed {
  const m = /^(.*)\[(\d*)\]$/.exec(p.type)
  if (m === null) return {}
  return { array: { of: { ...p, type: m[1] as string }, length: m[2] === '' ? undefined : Number(m[2]) } }
}

function isDynamic(p: AbiParam): boolean {
  const { array } = parse(p)
  if (array !== undefined) return array.length === undefined || isDynamic(array.of)
  if (p.type === 'bytes' || p.type === 'string') return true
  if (p.type === 'tuple') return (p.components ?? []).some(isDynamic)
  return false
}

/** Head size in bytes of a static parameter (32 for a dynamic one: its offset). */
function headSize(p: AbiParam): number {
  if (isDynamic(p)) return 32
  const { array } = parse(p)
  if (array !== undefined) return (array.length as number) * headSize(array.of)
  if (p.type === 'tuple') return (p.components ?? []).reduce((n, c) => n + headSize(c), 0)
  return 32
}

function toBytes(field: string, v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v
  if (typeof v === 'string' && /^0x([0-9a-fA-F]{2})*$/.test(v)) return Uint8Array.from(Buffer.from(v.slice(2), 'hex'))
  throw new InvalidInputError(field, `expected bytes (0x hex or Uint8Array), got ${typeof v}`)
}

function uintWord(field: string, v: bigint, bits: number): Uint8Array {
  if (v < 0n || v >= 1n << BigInt(bits)) throw new InvalidInputError(field, `${v} is not a uint${bits}`)
  const out = new Uint8Array(32)
  let x = v
  for (let i = 31; i >= 0 && x > 0n; i--) {
    out[i] = Number(x & 0xffn)
    x >>= 8n
  }
  return out
}

function pad32(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / 32) * 32)
  out.set(bytes)
  return out
}

function encodeStatic(p: AbiParam, v: unknown, field: string): Uint8Array {
  const t = p.type
  if (t === 'address') {
    const b = toBytes(field, v)
    if (b.length !== 20) throw new InvalidInputError(field, 'an address is 20 bytes')
    const out = new Uint8Array(32)
    out.set(b, 12)
    return out
  }
  if (t === 'bool') {
    if (typeof v !== 'boolean') throw new InvalidInputError(field, 'expected a boolean')
    return uintWord(field, v ? 1n : 0n, 8)
  }
  let m = /^uint(\d*)$/.exec(t)
  if (m !== null) {
    if (typeof v !== 'bigint' && typeof v !== 'number') throw new InvalidInputError(field, 'expected an integer')
    return uintWord(field, BigInt(v), m[1] === '' ? 256 : Number(m[1]))
  }
  m = /^int(\d*)$/.exec(t)
  if (m !== null) {
    if (typeof v !== 'bigint' && typeof v !== 'number') throw new InvalidInputError(field, 'expected an integer')
    const bits = m[1] === '' ? 256 : Number(m[1])
    const x = BigInt(v)
    const lim = 1n << BigInt(bits - 1)
    if (x < -lim || x >= lim) throw new InvalidInputError(field, `${x} is not an int${bits}`)
    return uintWord(field, x < 0n ? (1n << 256n) + x : x, 256)
  }
  m = /^bytes(\d+)$/.exec(t)
  if (m !== null) {
    const b = toBytes(field, v)
    if (b.length !== Number(m[1])) throw new InvalidInputError(field, `expected ${m[1]} bytes, got ${b.length}`)
    return pad32(b)
  }
  throw new InvalidInputError(field, `unsupported ABI type ${t}`)
}

function components(p: AbiParam, v: unknown, field: string): unknown[] {
  const cs = p.components ?? []
  if (Array.isArray(v)) return v
  if (typeof v !== 'object' || v === null) throw new InvalidInputError(field, 'expected a tuple (object or array)')
  return cs.map((c) => (v as Record<string, unknown>)[c.name ?? ''])
}

/** Encodes a sequence of parameters (a tuple's body): heads, then tails. */
function encodeSequence(params: readonly AbiParam[], values: readonly unknown[], field: string): Uint8Array {
  if (values.length !== params.length) throw new InvalidInputError(field, `expected ${params.length} values, got ${values.length}`)
  const heads: Uint8Array[] = []
  const tails: Uint8Array[] = []
  let headLength = 0
  for (const p of params) headLength += headSize(p)
  let tailLength = 0
  params.forEach((p, i) => {
    const f = `${field}.${p.name ?? i}`
    const enc = encodeParam(p, values[i], f)
    if (isDynamic(p)) {
      heads.push(uintWord(f, BigInt(headLength + tailLength), 256))
      tails.push(enc)
      tailLength += enc.length
    } else heads.push(enc)
  })
  return concat([...heads, ...tails])
}

function encodeParam(p: AbiParam, v: unknown, field: string): Uint8Array {
  const { array } = parse(p)
  if (array !== undefined) {
    if (!Array.isArray(v)) throw new InvalidInputError(field, 'expected an array')
    if (array.length !== undefined && v.length !== array.length) throw new InvalidInputError(field, `expected ${array.length} elements`)
    const body = encodeSequence(
      v.map(() => array.of),
      v,
      field,
    )
    return array.length === undefined ? concat([uintWord(field, BigInt(v.length), 256), body]) : body
  }
  if (p.type === 'tuple') return encodeSequence(p.components ?? [], components(p, v, field), field)
  if (p.type === 'bytes' || p.type === 'string') {
    const b = p.type === 'string' && typeof v === 'string' ? utf8ToBytes(v) : toBytes(field, v)
    return concat([uintWord(field, BigInt(b.length), 256), pad32(b)])
  }
  return encodeStatic(p, v, field)
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** ABI-encodes the parameters `params` with `values` (no selector). */
export function encodeAbiParameters(params: readonly AbiParam[], values: readonly unknown[]): Uint8Array {
  return encodeSequence(params, values, 'args')
}

/** The calldata of a call: selector, then the ABI encoding of its arguments. */
export function encodeAbiCall(abi: readonly AbiItem[], call: AbiCall): Uint8Array {
  const fn = findFunction(abi, call.functionName)
  return concat([selectorOf(fn), encodeSequence(fn.inputs, call.args, call.functionName)])
}

/** Words of `bytes`/`string` contents in a value of `p` (data a contract takes as a slice, not field by field). */
function blobWords(p: AbiParam, v: unknown): number {
  const { array } = parse(p)
  if (array !== undefined) return Array.isArray(v) ? v.reduce((n: number, x) => n + blobWords(array.of, x), 0) : 0
  if (p.type === 'tuple') {
    const cs = p.components ?? []
    const vs = components(p, v, 'args')
    return cs.reduce((n, c, i) => n + blobWords(c, vs[i]), 0)
  }
  if (p.type === 'bytes' || p.type === 'string') {
    const len = typeof v === 'string' && p.type === 'string' ? utf8ToBytes(v).length : toBytes('args', v).length
    return Math.ceil(len / 32)
  }
  return 0
}

/**
 * The ABI words of a call's arguments a contract decodes field by field:
 * every word but the contents of `bytes`/`string` arguments (which it reads
 * as one slice; a batch body is parsed by the contract's own code).
 */
export function abiDecodedWords(abi: readonly AbiItem[], call: AbiCall, calldataLength: number): number {
  const fn = findFunction(abi, call.functionName)
  let blob = 0
  fn.inputs.forEach((p, i) => {
    blob += blobWords(p, call.args[i])
  })
  return Math.floor(Math.max(0, calldataLength - 4) / 32) - blob
}

/** What a LOG of `event` costs apart from memory: its topics and data bytes. */
export interface LogShape {
  topics: number
  dataBytes: number
}

/**
 * Topics and data size of `event` as Solidity emits it: one topic for the
 * signature plus one per indexed parameter; the non-indexed ones ABI-encoded.
 * `lengths` gives the byte length of each dynamic `bytes`/`string` parameter
 * and the element count of each dynamic array (by parameter name).
 */
export function logShape(event: AbiEvent, lengths: Readonly<Record<string, number>> = {}): LogShape {
  let topics = event.anonymous === true ? 0 : 1
  let dataBytes = 0
  for (const p of event.inputs) {
    if (p.indexed === true) {
      topics++
      continue
    }
    dataBytes += headSize(p)
    if (!isDynamic(p)) continue
    const n = lengths[p.name ?? '']
    if (n === undefined) throw new InvalidInputError('lengths', `event ${event.name}: length of dynamic ${p.name} missing`)
    const { array } = parse(p)
    if (array !== undefined) {
      if (isDynamic(array.of)) throw new InvalidInputError('lengths', `event ${event.name}: ${p.name} has dynamic elements`)
      dataBytes += 32 + n * headSize(array.of)
    } else dataBytes += 32 + Math.ceil(n / 32) * 32
  }
  return { topics, dataBytes }
}
