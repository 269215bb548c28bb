/**
 * The batch's bytes: what the sequencer posts on L1 (compact calldata), and the
 * fixed-length body the circuit and the contract both derive from it to bind
 * the data to the proof.
 *
 * Posted calldata (the `body` argument of submitBatch), IB = ceil(depth / 8):
 *   newRoot 32 B | depositCount u8 | opCount u16
 *   depositCount × [ index IB | pubkey.x 32 | pubkey.y 32 | amount 16 ]
 *   opCount × [ type u8 (1 transfer, 2 withdraw) | from IB | to IB | amount float40 5 B ]
 * — 10 bytes per transfer at depth 16. No-ops are not posted: the circuit body
 * pads with zero bytes. Decoding is strict (exact length, canonical floats,
 * indices below 2^depth, values below their bounds) and throws
 * RollupError('MALFORMED_CALLDATA') naming the field.
 *
 * Circuit body (circuits/batch.circom): chainId u64 | contract 20 B |
 * depositCount u8 | D deposit slots | N op slots, zero-padded. Binding:
 *   sha:    public input = SHA-256(oldRoot ‖ newRoot ‖ body) mod 2^253
 *   packed: public inputs = oldRoot, newRoot, body in 31-byte chunks
 */
import { assertInt, bigintToBytes, bytesToBigint, concatBytes, sha256, toAddress, addressToBytes } from '@l2bench/core'
import { FIELD_MODULUS, MAX_BALANCE, MAX_DEPTH, OP_TRANSFER, OP_WITHDRAW, indexBytes } from './constants.ts'
import { RollupError } from './errors.ts'
import { FLOAT40_BYTES, decodeFloat40, encodeFloat40 } from './float40.ts'
import { type PublicKey, isValidPublicKey } from './keys.ts'
import type { Domain } from './ops.ts'

export type BindingMode = 'sha' | 'packed'

/** Shape of one compiled batch circuit. */
export interface CircuitParams {
  /** L2 operation slots per batch. */
  n: number
  /** Deposit slots per batch. */
  d: number
  /** Account tree depth. */
  depth: number
  mode: BindingMode
}

export function checkParams(p: CircuitParams): CircuitParams {
  assertInt('params.n', p.n, 1, 4096)
  assertInt('params.d', p.d, 0, 255)
  assertInt('params.depth', p.depth, 1, MAX_DEPTH)
  if (p.mode !== 'sha' && p.mode !== 'packed') throw new RollupError('INVALID_OP', `unknown binding mode ${String(p.mode)}`, { field: 'params.mode' })
  return p
}

export interface DepositEntry {
  publicKey: PublicKey
  amount: bigint
}

export interface BodyDeposit extends DepositEntry {
  /** Leaf the deposit credits. */
  index: number
}

export interface BodyOp {
  type: typeof OP_TRANSFER | typeof OP_WITHDRAW
  from: number
  /** Account index (transfer) or payee id (withdraw). */
  to: number
  amount: bigint
}

export interface BatchBody {
  newRoot: bigint
  deposits: BodyDeposit[]
  ops: BodyOp[]
}

export const DEPOSIT_ENTRY_BYTES = 32 + 32 + 16

export function opBytes(depth: number): number {
  return 1 + 2 * indexBytes(depth) + FLOAT40_BYTES
}

export function depositSlotBytes(depth: number): number {
  return indexBytes(depth) + DEPOSIT_ENTRY_BYTES
}

/** Length of the circuit body (without the two roots). */
export function circuitBodyBytes(p: CircuitParams): number {
  return 8 + 20 + 1 + p.d * depositSlotBytes(p.depth) + p.n * opBytes(p.depth)
}

/** Number of public inputs the circuit (and the contract) use. */
export function publicInputCount(p: CircuitParams): number {
  return p.mode === 'sha' ? 1 : 2 + Math.ceil(circuitBodyBytes(p) / 31)
}

function malformed(field: string, message: string): never {
  throw new RollupError('MALFORMED_CALLDATA', message, { field })
}

function writeIndex(out: Uint8Array, at: number, value: number, ib: number): void {
  for (let i = ib - 1, v = value; i >= 0; i--, v = Math.floor(v / 256)) out[at + i] = v % 256
}

function readIndex(bytes: Uint8Array, at: number, ib: number): number {
  let v = 0
  for (let i = 0; i < ib; i++) v = v * 256 + (bytes[at + i] as number)
  return v
}

function depositEntryBytes(e: DepositEntry, field: string): Uint8Array {
  if (!isValidPublicKey(e.publicKey)) malformed(`${field}.publicKey`, "not a point of Baby Jubjub's prime-order subgroup")
  if (typeof e.amount !== 'bigint' || e.amount <= 0n || e.amount > MAX_BALANCE) malformed(`${field}.amount`, 'deposit amount outside [1, 2^128)')
  return concatBytes(
    bigintToBytes(`${field}.publicKey[0]`, e.publicKey[0], 32),
    bigintToBytes(`${field}.publicKey[1]`, e.publicKey[1], 32),
    bigintToBytes(`${field}.amount`, e.amount, 16),
  )
}

function checkOp(op: BodyOp, depth: number, field: string): void {
  if (op.type !== OP_TRANSFER && op.type !== OP_WITHDRAW) malformed(`${field}.type`, `op type must be 1 or 2, got ${String(op.type)}`)
  const max = 2 ** depth - 1
  if (!Number.isSafeInteger(op.from) || op.from < 0 || op.from > max) malformed(`${field}.from`, `index outside [0, ${max}]`)
  if (!Number.isSafeInteger(op.to) || op.to < 0 || op.to > max) malformed(`${field}.to`, `index outside [0, ${max}]`)
  if (typeof op.amount !== 'bigint' || op.amount <= 0n || op.amount > MAX_BALANCE) malformed(`${field}.amount`, 'amount outside [1, 2^128)')
}

/** Compact calldata posted on L1. */
export function encodeBatchCalldata(p: CircuitParams, body: BatchBody): Uint8Array {
  checkParams(p)
  const ib = indexBytes(p.depth)
  if (body.deposits.length > p.d) malformed('deposits', `${body.deposits.length} deposits exceed ${p.d} slots`)
  if (body.ops.length > p.n) malformed('ops', `${body.ops.length} ops exceed ${p.n} slots`)
  if (typeof body.newRoot !== 'bigint' || body.newRoot < 0n || body.newRoot >= FIELD_MODULUS) malformed('newRoot', 'not a field element')
  const out = new Uint8Array(35 + body.deposits.length * depositSlotBytes(p.depth) + body.ops.length * opBytes(p.depth))
  out.set(bigintToBytes('newRoot', body.newRoot, 32), 0)
  out[32] = body.deposits.length
  out[33] = body.ops.length >> 8
  out[34] = body.ops.length & 0xff
  let at = 35
  body.deposits.forEach((d, i) => {
    if (!Number.isSafeInteger(d.index) || d.index < 0 || d.index >= 2 ** p.depth) malformed(`deposits[${i}].index`, 'index out of range')
    writeIndex(out, at, d.index, ib)
    out.set(depositEntryBytes(d, `deposits[${i}]`), at + ib)
    at += depositSlotBytes(p.depth)
  })
  body.ops.forEach((op, i) => {
    checkOp(op, p.depth, `ops[${i}]`)
    out[at] = op.type
    writeIndex(out, at + 1, op.from, ib)
    writeIndex(out, at + 1 + ib, op.to, ib)
    out.set(bigintToBytes(`ops[${i}].amount`, encodeFloat40(op.amount, `ops[${i}].amount`), 5), at + 1 + 2 * ib)
    at += opBytes(p.depth)
  })
  return out
}

/** Strict decoder of the posted calldata. */
export function decodeBatchCalldata(p: CircuitParams, bytes: Uint8Array): BatchBody {
  checkParams(p)
  if (!(bytes instanceof Uint8Array)) malformed('body', 'expected bytes')
  if (bytes.length < 35) malformed('body', `truncated: ${bytes.length} bytes`)
  const ib = indexBytes(p.depth)
  const newRoot = bytesToBigint(bytes.subarray(0, 32))
  if (newRoot >= FIELD_MODULUS) malformed('body.newRoot', 'not below the field modulus')
  const k = bytes[32] as number
  const m = ((bytes[33] as number) << 8) | (bytes[34] as number)
  if (k > p.d) malformed('body.depositCount', `${k} deposits exceed ${p.d} slots`)
  if (m > p.n) malformed('body.opCount', `${m} ops exceed ${p.n} slots`)
  const expected = 35 + k * depositSlotBytes(p.depth) + m * opBytes(p.depth)
  if (bytes.length !== expected) malformed('body', `length ${bytes.length}, expected ${expected}`)
  const max = 2 ** p.depth
  let at = 35
  const deposits: BodyDeposit[] = []
  for (let i = 0; i < k; i++) {
    const field = `body.deposits[${i}]`
    const index = readIndex(bytes, at, ib)
    if (index >= max) malformed(`${field}.index`, `index ${index} ≥ 2^${p.depth}`)
    const x = bytesToBigint(bytes.subarray(at + ib, at + ib + 32))
    const y = bytesToBigint(bytes.subarray(at + ib + 32, at + ib + 64))
    const amount = bytesToBigint(bytes.subarray(at + ib + 64, at + ib + 80))
    const publicKey: PublicKey = [x, y]
    if (!isValidPublicKey(publicKey)) malformed(`${field}.publicKey`, "not a point of Baby Jubjub's prime-order subgroup")
    if (amount === 0n) malformed(`${field}.amount`, 'zero deposit')
    deposits.push({ index, publicKey, amount })
    at += depositSlotBytes(p.depth)
  }
  const ops: BodyOp[] = []
  for (let i = 0; i < m; i++) {
    const field = `body.ops[${i}]`
    const type = bytes[at] as number
    if (type !== OP_TRANSFER && type !== OP_WITHDRAW) malformed(`${field}.type`, `op type must be 1 or 2, got ${type}`)
    const from = readIndex(bytes, at + 1, ib)
    const to = readIndex(bytes, at + 1 + ib, ib)
    if (from >= max) malformed(`${field}.from`, `index ${from} ≥ 2^${p.depth}`)
    if (to >= max) malformed(`${field}.to`, `index ${to} ≥ 2^${p.depth}`)
    const amount = decodeFloat40(bytesToBigint(bytes.subarray(at + 1 + 2 * ib, at + 1 + 2 * ib + 5)), `${field}.amount`)
    if (amount === 0n || amount > MAX_BALANCE) malformed(`${field}.amount`, 'amount outside [1, 2^128)')
    ops.push({ type: type as BodyOp['type'], from, to, amount })
    at += opBytes(p.depth)
  }
  return { newRoot, deposits, ops }
}

/** The fixed-length circuit body (zero-padded slots). */
export function circuitBody(p: CircuitParams, domain: Domain, body: BatchBody): Uint8Array {
  checkParams(p)
  const ib = indexBytes(p.depth)
  const out = new Uint8Array(circuitBodyBytes(p))
  out.set(bigintToBytes('domain.chainId', domain.chainId, 8), 0)
  out.set(addressToBytes('domain.contract', toAddress('domain.contract', domain.contract)), 8)
  if (body.deposits.length > p.d) malformed('deposits', 'too many deposits')
  if (body.ops.length > p.n) malformed('ops', 'too many ops')
  out[28] = body.deposits.length
  let at = 29
  body.deposits.forEach((d, i) => {
    writeIndex(out, at, d.index, ib)
    out.set(depositEntryBytes(d, `deposits[${i}]`), at + ib)
    at += depositSlotBytes(p.depth)
  })
  at = 29 + p.d * depositSlotBytes(p.depth)
  body.ops.forEach((op, i) => {
    checkOp(op, p.depth, `ops[${i}]`)
    out[at] = op.type
    writeIndex(out, at + 1, op.from, ib)
    writeIndex(out, at + 1 + ib, op.to, ib)
    out.set(bigintToBytes(`ops[${i}].amount`, encodeFloat40(op.amount), 5), at + 1 + 2 * ib)
    at += opBytes(p.depth)
  })
  return out
}

const MASK_253 = (1n << 253n) - 1n

/** The SHA-256 preimage of the sha binding: oldRoot ‖ newRoot ‖ circuit body. */
export function commitmentPreimage(p: CircuitParams, domain: Domain, oldRoot: bigint, body: BatchBody): Uint8Array {
  return concatBytes(bigintToBytes('oldRoot', oldRoot, 32), bigintToBytes('newRoot', body.newRoot, 32), circuitBody(p, domain, body))
}

/** SHA-256 digest with the top 3 bits dropped (< 2^253 < p). */
export function commitmentFromPreimage(preimage: Uint8Array): bigint {
  return bytesToBigint(sha256(preimage)) & MASK_253
}

/** The public inputs the circuit exposes for this transition (what the contract recomputes). */
export function publicInputs(p: CircuitParams, domain: Domain, oldRoot: bigint, body: BatchBody): bigint[] {
  if (p.mode === 'sha') return [commitmentFromPreimage(commitmentPreimage(p, domain, oldRoot, body))]
  const b = circuitBody(p, domain, body)
  const out = [oldRoot, body.newRoot]
  for (let i = 0; i < b.length; i += 31) out.push(bytesToBigint(b.subarray(i, Math.min(i + 31, b.length))))
  return out
}
