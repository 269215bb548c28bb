/**
 * The user's way out when the operator stops or censors (ATTACKS 42), in the
 * style of zkSync's priority queue and exodus mode. Contract methods, run by
 * RollupContract.execute:
 *
 *  - forceWithdraw {from, to, amount, nonce, pubX, pubY, r8x, r8y, s}: a user
 *    posts on L1 a withdrawal op signed by the account's key (the very op the
 *    circuit accepts: type 2, from, payee id, amount, nonce). The contract
 *    checks the signature under the key the request names (EdDSA-Poseidon,
 *    subgroup key), that the payee id exists and the amount is a float40, and
 *    stores one slot per account: (payee, amount, nonce, 10-byte key hash,
 *    deadline = now + forcedDelaySeconds). One open request per account.
 *  - the operator serves it by including the op in a batch: submitBatch
 *    closes the request when a withdrawal of the same account, payee and
 *    amount is in the body (one cold read per withdrawal);
 *  - refuteForced {from, account?, siblings}: anyone closes a request that
 *    cannot be served, by showing the account's leaf at the current root: no
 *    account, another key, a nonce other than the request's (used by another
 *    op the key signed, or not reached yet), or a balance below the amount.
 *    A request that is valid at the current root stays valid until served
 *    (only the key's own ops move its nonce or lower its balance), so an
 *    honest operator can always either include it or refute it;
 *  - activateExodus {reason, index}: once a forced request is past its
 *    deadline (reason 'forced', index = account), or the oldest unconsumed
 *    deposit is forcedDelaySeconds old (reason 'deposit'), anyone switches the
 *    contract to exodus mode: no batch, deposit or request is accepted again,
 *    and the last verified root is final;
 *  - exit {index, account, siblings, payee, signature}: in exodus mode, the
 *    key of the leaf at `index` (proven against the final root) signs
 *    exitMessage(leaf, index, payee) and the leaf's balance is paid to
 *    `payee`, once;
 *  - refundDeposit {queueIndex, pubX, pubY, amount, payee, signature}: in
 *    exodus mode, a deposit that no batch consumed is paid back to the payee
 *    its key signs for, once.
 *  - claimByKey {batch, position, count, from, amount, proof, account,
 *    siblings, payee, signature}: a withdrawal to the reserved payee id
 *    2^depth − 1 is paid to the L1 address the account's key signs for (its
 *    leaf proven against the current root), so nobody needs a slot in the
 *    payee table, which anyone can fill.
 * Withdrawals of verified batches stay claimable (withdraw, claimByKey)
 * throughout.
 *
 * The Poseidon hashes of a leaf proof and the EdDSA checks are charged at the
 * modelled costs of l1-costs.ts.
 */
import { type Address, ZERO_ADDRESS, bigintToBytes, codec, keccakTagged } from '@l2bench/core'
import type { CallContext, ReadContext } from '@l2bench/l1-mock'
import { rollupLog } from './abi.ts'
import type { BodyOp, CircuitParams } from './calldata.ts'
import { K, type QueueEntry, depositEntryHash, eqBytes, payWithdrawal } from './contract-storage.ts'
import { FIELD_MODULUS, MAX_DEPTH, MAX_NONCE } from './constants.ts'
import { isFloat40Representable } from './float40.ts'
import { type EdDSASignature, type PublicKey, verifyOpSignature } from './keys.ts'
import { EDDSA_VERIFY_GAS, type LeafWitness, SUBGROUP_CHECK_GAS, leafProofGas, rootOfLeaf } from './l1-costs.ts'
import { type Domain, exitMessage, opMessage } from './ops.ts'
import { keyPayeeId } from './withdrawals.ts'
import { treeLevels } from './tree.ts'

/** Levels of the deepest tree (MAX_DEPTH index bits). */
const MAX_LEVELS = treeLevels(MAX_DEPTH)

const field = codec.uint(32)
const signatureFields = { r8x: field, r8y: field, s: field }
const accountCodec = codec.struct({ pubX: field, pubY: field, balance: codec.amount, nonce: codec.u64 })

/** The escape-hatch methods, merged into rollupAbi (tags 5–10). */
export const exodusAbi = {
  forceWithdraw: [
    5,
    codec.struct({ from: codec.u32, to: codec.u32, amount: codec.amount, nonce: codec.u64, pubX: field, pubY: field, ...signatureFields }),
  ],
  refuteForced: [6, codec.struct({ from: codec.u32, account: codec.optional(accountCodec), siblings: codec.list(field, 3 * MAX_LEVELS) })],
  activateExodus: [7, codec.struct({ reason: codec.enumeration(['forced', 'deposit'] as const), index: codec.u32 })],
  exit: [
    8,
    codec.struct({ index: codec.u32, account: accountCodec, siblings: codec.list(field, 3 * MAX_LEVELS), payee: codec.address, ...signatureFields }),
  ],
  refundDeposit: [
    9,
    codec.struct({ queueIndex: codec.u32, pubX: field, pubY: field, amount: codec.amount, payee: codec.address, ...signatureFields }),
  ],
  claimByKey: [
    10,
    codec.struct({
      batch: codec.u64,
      position: codec.u32,
      count: codec.u32,
      from: codec.u32,
      amount: codec.amount,
      proof: codec.list(codec.fixedBytes(32), 32),
      account: accountCodec,
      siblings: codec.list(field, 3 * MAX_LEVELS),
      payee: codec.address,
      ...signatureFields,
    }),
  ],
} as const

type Defs = typeof exodusAbi
export type ExodusCall = {
  [T in keyof Defs]: { type: T } & codec.Infer<Defs[T][1]>
}[keyof Defs]

/** One open forced withdrawal (one slot: payee u32, float40 amount, nonce u40, key hash bytes10, deadline u64). */
export interface ForcedRequest {
  to: number
  amount: bigint
  nonce: bigint
  /** First 10 bytes of a hash of the key the request was signed with, hex. */
  keyHash: string
  /** L1 timestamp from which exodus may be activated. */
  deadline: number
}

/** Why a forced request could be refuted (ForcedRefuted's `reason`). */
export type RefuteReason = 'NO_ACCOUNT' | 'OTHER_KEY' | 'NONCE_USED' | 'NONCE_AHEAD' | 'BALANCE'

export function forcedKeyHash(pk: PublicKey): string {
  return Buffer.from(keccakTagged('l2bench/zk-rollup/forced-key/v1', bigintToBytes('x', pk[0], 32), bigintToBytes('y', pk[1], 32)).subarray(0, 10)).toString(
    'hex',
  )
}

/** Whether a request can be refuted given the account's leaf at the current root (undefined: it stands). */
export function refuteReason(req: Pick<ForcedRequest, 'amount' | 'nonce' | 'keyHash'>, account: LeafWitness['account']): RefuteReason | undefined {
  if (account === undefined) return 'NO_ACCOUNT'
  if (forcedKeyHash(account.publicKey) !== req.keyHash) return 'OTHER_KEY'
  if (account.nonce > req.nonce) return 'NONCE_USED'
  if (account.nonce < req.nonce) return 'NONCE_AHEAD'
  if (account.balance < req.amount) return 'BALANCE'
  return undefined
}

/** What exodus.ts needs of the contract. */
export interface ExodusHost {
  readonly params: CircuitParams
  readonly genesisRoot: bigint
  readonly forcedDelaySeconds: number
}

type Sig = { r8x: bigint; r8y: bigint; s: bigint }
const signature = (c: Sig): EdDSASignature => ({ R8: [c.r8x, c.r8y], S: c.s })

function inExodus(ctx: ReadContext, label?: string): boolean {
  return ctx.sload<boolean>(K.exodus, label) === true
}

function root(host: ExodusHost, ctx: ReadContext, label: string): bigint {
  return ctx.sload<bigint>(K.root, label) ?? host.genesisRoot
}

function fieldElement(ctx: CallContext, v: bigint, name: string): bigint {
  if (v >= FIELD_MODULUS) ctx.revert(`${name} is not below the field modulus`, name, 'MALFORMED_CALLDATA')
  return v
}

function domainOf(ctx: ReadContext): Domain {
  return { chainId: ctx.chainId, contract: ctx.self }
}

function checkLeaf(host: ExodusHost, ctx: CallContext, index: number, w: LeafWitness, label: string): void {
  const expected = 3 * treeLevels(host.params.depth)
  if (w.siblings.length !== expected) ctx.revert(`expected ${expected} siblings (3 per level)`, 'siblings', 'LEAF_PROOF_MISMATCH')
  ctx.chargeGas('keccakBase', `${label}.leafProof`, leafProofGas(host.params.depth, w.account === undefined))
  if (rootOfLeaf(index, host.params.depth, w) !== root(host, ctx, `${label}.root`)) ctx.revert('the leaf is not in the current root', 'siblings', 'LEAF_PROOF_MISMATCH')
}

function accountOf(ctx: CallContext, a: codec.Infer<typeof accountCodec>): NonNullable<LeafWitness['account']> {
  return { publicKey: [fieldElement(ctx, a.pubX, 'account.pubX'), fieldElement(ctx, a.pubY, 'account.pubY')], balance: a.balance, nonce: a.nonce }
}

export function executeExodus(host: ExodusHost, ctx: CallContext, call: ExodusCall): unknown {
  switch (call.type) {
    case 'forceWithdraw':
      return forceWithdraw(host, ctx, call)
    case 'refuteForced':
      return refuteForced(host, ctx, call)
    case 'activateExodus':
      return activateExodus(host, ctx, call)
    case 'exit':
      return exit(host, ctx, call)
    case 'refundDeposit':
      return refundDeposit(ctx, call)
    case 'claimByKey':
      return claimByKey(host, ctx, call)
  }
}

function forceWithdraw(host: ExodusHost, ctx: CallContext, call: Extract<ExodusCall, { type: 'forceWithdraw' }>): ForcedRequest {
  if (inExodus(ctx, 'forceWithdraw.exodus')) ctx.revert('the rollup is in exodus mode: exit instead', 'type', 'EXODUS')
  const depth = host.params.depth
  if (call.from >= 2 ** depth) ctx.revert(`account index ≥ 2^${depth}`, 'from', 'MALFORMED_CALLDATA')
  if (call.to >= 2 ** depth) ctx.revert(`payee id ≥ 2^${depth}`, 'to', 'MALFORMED_CALLDATA')
  if (call.to !== keyPayeeId(depth) && ctx.sload<Address>(K.payee(call.to), 'forceWithdraw.payee') === undefined)
    ctx.revert(`payee id ${call.to} is not registered`, 'to', 'UNKNOWN_PAYEE')
  if (call.amount <= 0n || !isFloat40Representable(call.amount)) ctx.revert('amount must be a positive float40 value', 'amount', 'AMOUNT_NOT_REPRESENTABLE')
  if (call.nonce >= MAX_NONCE) ctx.revert('nonce must be below 2^40 - 1', 'nonce', 'BAD_NONCE')
  const pk: PublicKey = [fieldElement(ctx, call.pubX, 'pubX'), fieldElement(ctx, call.pubY, 'pubY')]
  fieldElement(ctx, call.r8x, 'r8x')
  fieldElement(ctx, call.r8y, 'r8y')
  if (ctx.sload<ForcedRequest>(K.forced(call.from), 'forceWithdraw.open') !== undefined)
    ctx.revert(`account ${call.from} already has an open forced withdrawal`, 'from', 'FORCED_PENDING')
  ctx.chargeGas('bn254EcMul', 'forceWithdraw.signature', SUBGROUP_CHECK_GAS + EDDSA_VERIFY_GAS)
  const message = opMessage(domainOf(ctx), depth, { kind: 'withdraw', from: call.from, to: call.to, amount: call.amount, nonce: call.nonce })
  if (!verifyOpSignature(message, signature(call), pk)) ctx.revert('the signature does not match the key and the op', 'signature', 'BAD_SIGNATURE')
  const req: ForcedRequest = { to: call.to, amount: call.amount, nonce: call.nonce, keyHash: forcedKeyHash(pk), deadline: ctx.timestamp + host.forcedDelaySeconds }
  ctx.sstore(K.forced(call.from), req, 'forceWithdraw.request')
  ctx.emit(
    'ForcedWithdrawal',
    { from: call.from, to: call.to, amount: call.amount, nonce: call.nonce, pubX: pk[0], pubY: pk[1], r8x: call.r8x, r8y: call.r8y, s: call.s, deadline: req.deadline },
    { topics: 2, dataBytes: 32 * 8 },
  )
  return req
}

/** submitBatch: a withdrawal of the account, to the payee, of the amount a forced request names, closes it. */
export function forcedServed(ctx: CallContext, op: BodyOp): void {
  const req = ctx.sload<ForcedRequest>(K.forced(op.from), 'submitBatch.forced')
  if (req === undefined || req.to !== op.to || req.amount !== op.amount) return
  ctx.sstore(K.forced(op.from), undefined, 'submitBatch.forcedServed')
  ctx.emit('ForcedServed', { from: op.from, to: op.to, amount: op.amount }, rollupLog('ForcedServed'))
}

function refuteForced(host: ExodusHost, ctx: CallContext, call: Extract<ExodusCall, { type: 'refuteForced' }>): RefuteReason {
  if (call.from >= 2 ** host.params.depth) ctx.revert(`account index ≥ 2^${host.params.depth}`, 'from', 'MALFORMED_CALLDATA')
  const req = ctx.sload<ForcedRequest>(K.forced(call.from), 'refuteForced.request')
  if (req === undefined) ctx.revert(`account ${call.from} has no open forced withdrawal`, 'from', 'NO_FORCED_REQUEST')
  const w: LeafWitness = { account: call.account === undefined ? undefined : accountOf(ctx, call.account), siblings: call.siblings }
  checkLeaf(host, ctx, call.from, w, 'refuteForced')
  const reason = refuteReason(req, w.account)
  if (reason === undefined) ctx.revert('the request is valid at the current root: include it in a batch', 'from', 'FORCED_VALID')
  ctx.sstore(K.forced(call.from), undefined, 'refuteForced.close')
  ctx.emit('ForcedRefuted', { from: call.from, reason }, { topics: 2, dataBytes: 32 })
  return reason
}

function activateExodus(host: ExodusHost, ctx: CallContext, call: Extract<ExodusCall, { type: 'activateExodus' }>): true {
  if (inExodus(ctx, 'activateExodus.exodus')) ctx.revert('already in exodus mode', 'type', 'EXODUS')
  if (call.reason === 'forced') {
    const req = ctx.sload<ForcedRequest>(K.forced(call.index), 'activateExodus.request')
    if (req === undefined) ctx.revert(`account ${call.index} has no open forced withdrawal`, 'index', 'NO_FORCED_REQUEST')
    if (ctx.timestamp < req.deadline) ctx.revert(`the request's deadline is ${req.deadline}, now ${ctx.timestamp}`, 'index', 'TOO_EARLY')
  } else {
    const head = ctx.sload<number>(K.queueHead, 'activateExodus.queueHead') ?? 0
    const length = ctx.sload<number>(K.queueLength, 'activateExodus.queueLength') ?? 0
    if (call.index !== head || head >= length) ctx.revert(`index must be the oldest unconsumed deposit (${head}, queue length ${length})`, 'index', 'NO_PENDING_DEPOSIT')
    const entry = ctx.sload<QueueEntry>(K.queue(head), 'activateExodus.entry') as QueueEntry
    if (ctx.timestamp < entry.at + host.forcedDelaySeconds)
      ctx.revert(`deposit ${head} may be consumed until ${entry.at + host.forcedDelaySeconds}, now ${ctx.timestamp}`, 'index', 'TOO_EARLY')
  }
  ctx.sstore(K.exodus, true, 'activateExodus.exodus')
  ctx.emit('ExodusActivated', { reason: call.reason, index: call.index, root: root(host, ctx, 'activateExodus.root') }, { topics: 2, dataBytes: 64 })
  return true
}

function requireExodus(ctx: CallContext, label: string): void {
  if (!inExodus(ctx, label)) ctx.revert('only in exodus mode', 'type', 'NOT_EXODUS')
}

function exit(host: ExodusHost, ctx: CallContext, call: Extract<ExodusCall, { type: 'exit' }>): bigint {
  requireExodus(ctx, 'exit.exodus')
  if (call.index >= 2 ** host.params.depth) ctx.revert(`account index ≥ 2^${host.params.depth}`, 'index', 'MALFORMED_CALLDATA')
  if (ctx.sload<boolean>(K.exited(call.index), 'exit.exited') === true) ctx.revert(`leaf ${call.index} has exited`, 'index', 'ALREADY_EXITED')
  const account = accountOf(ctx, call.account)
  checkLeaf(host, ctx, call.index, { account, siblings: call.siblings }, 'exit')
  ctx.chargeGas('bn254EcMul', 'exit.signature', EDDSA_VERIFY_GAS)
  if (!verifyOpSignature(exitMessage(domainOf(ctx), 'leaf', call.index, call.payee), signature(call), account.publicKey))
    ctx.revert("the signature is not the leaf key's exit to this payee", 'signature', 'BAD_SIGNATURE')
  ctx.sstore(K.exited(call.index), true, 'exit.exited')
  if (account.balance > 0n) ctx.transfer(call.payee, account.balance, 'exit.pay')
  ctx.emit('Exited', { index: call.index, payee: call.payee, amount: account.balance }, { topics: 2, dataBytes: 64 })
  return account.balance
}

function refundDeposit(ctx: CallContext, call: Extract<ExodusCall, { type: 'refundDeposit' }>): bigint {
  requireExodus(ctx, 'refundDeposit.exodus')
  const head = ctx.sload<number>(K.queueHead, 'refundDeposit.queueHead') ?? 0
  const length = ctx.sload<number>(K.queueLength, 'refundDeposit.queueLength') ?? 0
  if (call.queueIndex < head || call.queueIndex >= length)
    ctx.revert(`only deposits ${head}…${length - 1} were never consumed`, 'queueIndex', 'NOT_REFUNDABLE')
  if (ctx.sload<boolean>(K.refunded(call.queueIndex), 'refundDeposit.refunded') === true)
    ctx.revert(`deposit ${call.queueIndex} was refunded`, 'queueIndex', 'ALREADY_REFUNDED')
  const pk: PublicKey = [fieldElement(ctx, call.pubX, 'pubX'), fieldElement(ctx, call.pubY, 'pubY')]
  const entry = ctx.sload<QueueEntry>(K.queue(call.queueIndex), 'refundDeposit.entry') as QueueEntry
  if (!eqBytes(entry.hash, depositEntryHash(pk, call.amount))) ctx.revert('key or amount differ from the queued deposit', 'amount', 'DEPOSIT_MISMATCH')
  ctx.chargeGas('bn254EcMul', 'refundDeposit.signature', EDDSA_VERIFY_GAS)
  if (!verifyOpSignature(exitMessage(domainOf(ctx), 'deposit', call.queueIndex, call.payee), signature(call), pk))
    ctx.revert("the signature is not the deposit key's refund to this payee", 'signature', 'BAD_SIGNATURE')
  ctx.sstore(K.refunded(call.queueIndex), true, 'refundDeposit.refunded')
  ctx.transfer(call.payee, call.amount, 'refundDeposit.pay')
  ctx.emit('DepositRefunded', { queueIndex: call.queueIndex, payee: call.payee, amount: call.amount }, { topics: 2, dataBytes: 64 })
  return call.amount
}

/**
 * A withdrawal to the reserved payee id (keyPayeeId): the key of the account
 * it came from — its leaf proven against the current root — names the L1
 * payee with a signature over exitMessage('withdrawal', batch, payee,
 * position). Works in exodus mode too (the root is then final).
 */
function claimByKey(host: ExodusHost, ctx: CallContext, call: Extract<ExodusCall, { type: 'claimByKey' }>): bigint {
  if (call.from >= 2 ** host.params.depth) ctx.revert(`account index ≥ 2^${host.params.depth}`, 'from', 'MALFORMED_CALLDATA')
  if (call.position >= 2 ** 16) ctx.revert('position ≥ 2^16', 'position', 'WITHDRAWAL_PROOF_MISMATCH')
  const account = accountOf(ctx, call.account)
  checkLeaf(host, ctx, call.from, { account, siblings: call.siblings }, 'claimByKey')
  ctx.chargeGas('bn254EcMul', 'claimByKey.signature', EDDSA_VERIFY_GAS)
  if (!verifyOpSignature(exitMessage(domainOf(ctx), 'withdrawal', call.batch, call.payee, call.position), signature(call), account.publicKey))
    ctx.revert("the signature is not the account key's claim to this payee", 'signature', 'BAD_SIGNATURE')
  payWithdrawal(ctx, call, { position: call.position, payee: ZERO_ADDRESS, amount: call.amount, account: call.from }, call.payee, 'claimByKey')
  return call.amount
}

/** Views: exodus, forced(account), exited(index), refunded(queueIndex), forcedDelaySeconds. Undefined for other names. */
export function viewExodus(host: ExodusHost, ctx: ReadContext, method: string, args: unknown[]): { value: unknown } | undefined {
  switch (method) {
    case 'exodus':
      return { value: inExodus(ctx) }
    case 'forced':
      return { value: ctx.sload<ForcedRequest>(K.forced(Number(args[0]))) }
    case 'exited':
      return { value: ctx.sload<boolean>(K.exited(Number(args[0]))) === true }
    case 'refunded':
      return { value: ctx.sload<boolean>(K.refunded(Number(args[0]))) === true }
    case 'forcedDelaySeconds':
      return { value: host.forcedDelaySeconds }
    default:
      return undefined
  }
}
