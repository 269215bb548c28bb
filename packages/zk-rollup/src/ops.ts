/**
 * L2 operations (transfer, withdrawal) and the message their sender signs.
 *
 * M = Poseidon(domain, packed), with
 *   domain = chainId·2^160 + rollup contract address
 *   packed = type + 4·(from + 2^depth·(to + 2^depth·(float40(amount) + 2^40·nonce)))
 * — the same expression the circuit builds from the calldata bits, so a
 * signature binds chain, contract, op type, sender, recipient (account or L1
 * payee id), amount and nonce, and nothing can be changed without the sender.
 */
import { type Address, InvalidInputError, assertInt, toAddress } from '@l2bench/core'
import { MAX_DEPTH, MAX_NONCE, OP_EXIT_MESSAGE, OP_TRANSFER, OP_WITHDRAW } from './constants.ts'
import { RollupError } from './errors.ts'
import { encodeFloat40 } from './float40.ts'
import type { EdDSASignature, L2Key } from './keys.ts'
import { hash2 } from './poseidon.ts'

export interface Domain {
  chainId: bigint
  contract: Address
}

export type OpKind = 'transfer' | 'withdraw'

export interface UnsignedOp {
  kind: OpKind
  /** Sender's account index. */
  from: number
  /** Receiver's account index (transfer) or L1 payee id (withdraw). */
  to: number
  amount: bigint
  /** The sender's current nonce (the op moves it to nonce + 1). */
  nonce: bigint
}

export interface SignedOp extends UnsignedOp {
  signature: EdDSASignature
}

export function domainField(domain: Domain): bigint {
  if (typeof domain.chainId !== 'bigint' || domain.chainId < 0n || domain.chainId >= 1n << 64n)
    throw new InvalidInputError('domain.chainId', 'expected a u64 bigint')
  return (domain.chainId << 160n) | BigInt(toAddress('domain.contract', domain.contract))
}

export function opTypeByte(kind: OpKind): number {
  if (kind === 'transfer') return OP_TRANSFER
  if (kind === 'withdraw') return OP_WITHDRAW
  throw new InvalidInputError('kind', `expected transfer or withdraw, got ${String(kind)}`)
}

/** Checks the shape of an op (not its validity against the state); throws a typed error. */
export function checkOpShape(op: UnsignedOp, depth: number, field = 'op'): void {
  if (op === null || typeof op !== 'object') throw new InvalidInputError(field, 'expected an op object')
  opTypeByte(op.kind)
  assertInt(`${field}.from`, op.from, 0, 2 ** depth - 1)
  assertInt(`${field}.to`, op.to, 0, 2 ** depth - 1)
  if (typeof op.nonce !== 'bigint' || op.nonce < 0n || op.nonce >= MAX_NONCE)
    throw new RollupError('BAD_NONCE', `nonce must be a bigint in [0, 2^40 - 1), got ${String(op.nonce)}`, {
      field: `${field}.nonce`,
    })
  if (typeof op.amount !== 'bigint' || op.amount <= 0n)
    throw new RollupError('AMOUNT_RANGE', `amount must be a positive bigint, got ${String(op.amount)}`, {
      field: `${field}.amount`,
    })
  encodeFloat40(op.amount, `${field}.amount`)
}

export function packOp(op: UnsignedOp, depth: number): bigint {
  assertInt('depth', depth, 1, MAX_DEPTH)
  checkOpShape(op, depth)
  const d = BigInt(depth)
  const float = encodeFloat40(op.amount)
  const inner = BigInt(op.from) + ((BigInt(op.to) + ((float + (op.nonce << 40n)) << d)) << d)
  return BigInt(opTypeByte(op.kind)) + 4n * inner
}

/** The field element the sender signs. */
export function opMessage(domain: Domain, depth: number, op: UnsignedOp): bigint {
  return hash2(domainField(domain), packOp(op, depth))
}

export function signOp(key: L2Key, domain: Domain, depth: number, op: UnsignedOp): SignedOp {
  return { ...op, signature: key.sign(opMessage(domain, depth, op)) }
}

/**
 * What an exit message authorises on L1: a leaf's balance (exodus mode), a
 * queued deposit's refund (exodus mode), or a batch's withdrawal to the
 * reserved payee id (claimByKey).
 */
export type ExitKind = 'leaf' | 'deposit' | 'withdrawal'

const EXIT_KINDS: Record<ExitKind, bigint> = { leaf: 0n, deposit: 1n, withdrawal: 2n }

/**
 * The field element a key signs to send its funds to an L1 payee:
 * M = Poseidon(domain, 3 + 4·(kind + 4·(index + 2^40·(position + 2^16·payee))))
 * with kind 0 = the leaf at `index`, 1 = the queued deposit at queue position
 * `index`, 2 = withdrawal `position` of batch `index`. Type 3 never appears in
 * a batch, so no op signature can stand for one of these.
 */
export function exitMessage(domain: Domain, kind: ExitKind, index: number | bigint, payee: Address, position = 0): bigint {
  const k = EXIT_KINDS[kind]
  if (k === undefined) throw new InvalidInputError('kind', `expected leaf, deposit or withdrawal, got ${String(kind)}`)
  const i = BigInt(index)
  if (i < 0n || i >= 1n << 40n) throw new InvalidInputError('index', 'expected an integer in [0, 2^40)')
  assertInt('position', position, 0, 2 ** 16 - 1)
  const packed = BigInt(OP_EXIT_MESSAGE) + 4n * (k + 4n * (i + ((BigInt(position) + (BigInt(toAddress('payee', payee)) << 16n)) << 40n)))
  return hash2(domainField(domain), packed)
}
