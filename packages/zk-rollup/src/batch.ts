/**
 * Batch building: applies deposits and signed L2 ops to the account tree in
 * the circuit's order (deposit slots first, then op slots; within an op, the
 * sender's leaf before the receiver's) and records, at each step, the values
 * and Merkle paths the circuit needs — the witness input. `applyBody` replays a
 * posted batch from its calldata alone (the rebuild node).
 *
 * Every check the circuit enforces is made here first, with a typed error, so a
 * batch that reaches the prover is provable.
 */
import { InvalidInputError } from '@l2bench/core'
import { MAX_BALANCE, OP_TRANSFER, OP_WITHDRAW } from './constants.ts'
import {
  type BatchBody,
  type BodyDeposit,
  type BodyOp,
  type CircuitParams,
  type DepositEntry,
  checkParams,
  encodeBatchCalldata,
  publicInputs,
} from './calldata.ts'
import { RollupError } from './errors.ts'
import { encodeFloat40 } from './float40.ts'
import { type EdDSASignature, type PublicKey, isValidPublicKey, publicKeyId, verifyOpSignature } from './keys.ts'
import { type Domain, type SignedOp, checkOpShape, domainField, opMessage, opTypeByte } from './ops.ts'
import { type Account, type AccountTree, type AccountView, treeLevels } from './tree.ts'

export type CircuitInput = Record<string, bigint | bigint[] | bigint[][] | bigint[][][]>

export interface BuiltBatch {
  params: CircuitParams
  oldRoot: bigint
  newRoot: bigint
  body: BatchBody
  /** Compact calldata (the submitBatch `body`). */
  calldata: Uint8Array
  publicInputs: bigint[]
  /** Witness input for the circuit. */
  input: CircuitInput
}

export interface BatchBuildOptions {
  /** Re-verify EdDSA signatures (default true; the sequencer already did on admission). */
  verifySignatures?: boolean
  /**
   * Replaces the key and signature check of an op (default: the sender's key
   * must pass isValidPublicKey, then verifyOpSignature). A faster verifier can
   * come in here; it must refuse what the circuit refuses — if it does not, the
   * node finds the op when the proof fails and drops it (node.ts).
   */
  opVerifier?: (message: bigint, signature: EdDSASignature, publicKey: PublicKey) => boolean
  /** Payee ids the contract knows (withdrawals to others are rejected). */
  payeeExists?: (id: number) => boolean
}

/** Checks a deposit entry as the contract does on L1. */
export function checkDepositEntry(entry: DepositEntry, field = 'deposit'): void {
  if (!isValidPublicKey(entry.publicKey))
    throw new RollupError('BAD_PUBLIC_KEY', "not a point of Baby Jubjub's prime-order subgroup", { field: `${field}.publicKey` })
  if (typeof entry.amount !== 'bigint' || entry.amount <= 0n || entry.amount > MAX_BALANCE)
    throw new RollupError('AMOUNT_RANGE', 'deposit amount outside [1, 2^128)', { field: `${field}.amount` })
}

/**
 * Where a deposit lands: the key's existing account unless crediting it would
 * pass 2^128 (then a fresh leaf, since every queued deposit must stay provable).
 */
export function depositTarget(tree: AccountView, entry: DepositEntry): number {
  const existing = tree.indexOfKey(entry.publicKey)
  if (existing !== undefined) {
    const a = tree.get(existing)
    if (a.balance + entry.amount <= MAX_BALANCE) return existing
  }
  return tree.nextFreeIndex()
}

/** The state changes an op makes, validated against `tree` (nothing is written). */
export function checkOp(
  tree: AccountView,
  domain: Domain,
  op: SignedOp,
  options: BatchBuildOptions & { field?: string } = {},
): { sender: Account; senderAfter: Account; receiverAfter: Account | undefined } {
  const field = options.field ?? 'op'
  checkOpShape(op, tree.depth, field)
  const sender = tree.get(op.from, `${field}.from`)
  if (op.nonce !== sender.nonce)
    throw new RollupError('BAD_NONCE', `nonce ${op.nonce}, account ${op.from} expects ${sender.nonce}`, {
      field: `${field}.nonce`,
      details: { expected: sender.nonce, got: op.nonce },
    })
  if (options.verifySignatures !== false) {
    const sig = op.signature
    if (sig === null || typeof sig !== 'object' || typeof sig.S !== 'bigint' || !Array.isArray(sig.R8))
      throw new RollupError('BAD_SIGNATURE', 'malformed signature', { field: `${field}.signature` })
    if (options.opVerifier === undefined && !isValidPublicKey(sender.publicKey))
      throw new RollupError('BAD_PUBLIC_KEY', `account ${op.from}'s key is not in Baby Jubjub's prime-order subgroup: it can sign nothing`, {
        field: `${field}.from`,
      })
    if (!(options.opVerifier ?? verifyOpSignature)(opMessage(domain, tree.depth, op), sig, sender.publicKey))
      throw new RollupError('BAD_SIGNATURE', `signature does not match account ${op.from}'s key and the op`, {
        field: `${field}.signature`,
      })
  }
  if (sender.balance < op.amount)
    throw new RollupError('INSUFFICIENT_BALANCE', `account ${op.from} has ${sender.balance}, op needs ${op.amount}`, {
      field: `${field}.amount`,
      details: { have: sender.balance, need: op.amount },
    })
  const senderAfter: Account = { publicKey: sender.publicKey, balance: sender.balance - op.amount, nonce: sender.nonce + 1n }
  if (op.kind === 'withdraw') {
    if (options.payeeExists !== undefined && !options.payeeExists(op.to))
      throw new RollupError('UNKNOWN_PAYEE', `payee id ${op.to} is not registered on L1`, { field: `${field}.to` })
    return { sender, senderAfter, receiverAfter: undefined }
  }
  const receiver = op.to === op.from ? senderAfter : tree.get(op.to, `${field}.to`)
  if (receiver.balance + op.amount > MAX_BALANCE)
    throw new RollupError('BALANCE_OVERFLOW', `account ${op.to}'s balance would pass 2^128`, { field: `${field}.amount` })
  return { sender, senderAfter, receiverAfter: { ...receiver, balance: receiver.balance + op.amount } }
}

function zeros(n: number): bigint[] {
  return new Array<bigint>(n).fill(0n)
}

/** An all-zero path input: ⌈depth/2⌉ levels of 3 siblings. */
function zeroPath(depth: number): bigint[][] {
  return Array.from({ length: treeLevels(depth) }, () => zeros(3))
}

/**
 * Applies `deposits` then `ops` to `tree` and returns the batch with its
 * witness input. On error nothing is left applied.
 */
export function buildBatch(
  tree: AccountTree,
  params: CircuitParams,
  domain: Domain,
  deposits: readonly DepositEntry[],
  ops: readonly SignedOp[],
  options: BatchBuildOptions = {},
): BuiltBatch {
  checkParams(params)
  if (params.depth !== tree.depth) throw new InvalidInputError('params.depth', `tree depth is ${tree.depth}`)
  if (deposits.length > params.d) throw new InvalidInputError('deposits', `${deposits.length} deposits exceed ${params.d} slots`)
  if (ops.length > params.n) throw new InvalidInputError('ops', `${ops.length} ops exceed ${params.n} slots`)
  const { n, d, depth } = params
  const oldRoot = tree.root
  const inp = {
    depIndex: zeros(d),
    depPkx: zeros(d),
    depPky: zeros(d),
    depAmount: zeros(d),
    depIsEmpty: new Array<bigint>(d).fill(1n),
    depBalance: zeros(d),
    depNonce: zeros(d),
    depSiblings: Array.from({ length: d }, () => zeroPath(depth)),
    opType: zeros(n),
    opFrom: zeros(n),
    opTo: zeros(n),
    opAmount: zeros(n),
    // No-op slots use the identity point (0, 1) so the disabled verifier has a well-defined witness.
    senderAx: zeros(n),
    senderAy: new Array<bigint>(n).fill(1n),
    senderBalance: zeros(n),
    senderNonce: zeros(n),
    senderSiblings: Array.from({ length: n }, () => zeroPath(depth)),
    sigR8x: zeros(n),
    sigR8y: new Array<bigint>(n).fill(1n),
    sigS: zeros(n),
    receiverAx: zeros(n),
    receiverAy: new Array<bigint>(n).fill(1n),
    receiverBalance: zeros(n),
    receiverNonce: zeros(n),
    receiverSiblings: Array.from({ length: n }, () => zeroPath(depth)),
  }
  const bodyDeposits: BodyDeposit[] = []
  const bodyOps: BodyOp[] = []
  tree.begin()
  try {
    deposits.forEach((entry, s) => {
      checkDepositEntry(entry, `deposits[${s}]`)
      const index = depositTarget(tree, entry)
      const path = tree.path(index)
      const old = tree.tryGet(index)
      inp.depIndex[s] = BigInt(index)
      inp.depPkx[s] = entry.publicKey[0]
      inp.depPky[s] = entry.publicKey[1]
      inp.depAmount[s] = entry.amount
      inp.depIsEmpty[s] = old === undefined ? 1n : 0n
      inp.depBalance[s] = old?.balance ?? 0n
      inp.depNonce[s] = old?.nonce ?? 0n
      inp.depSiblings[s] = path.siblings
      tree.set(index, { publicKey: entry.publicKey, balance: (old?.balance ?? 0n) + entry.amount, nonce: old?.nonce ?? 0n })
      bodyDeposits.push({ index, publicKey: entry.publicKey, amount: entry.amount })
    })
    ops.forEach((op, s) => {
      const field = `ops[${s}]`
      const { sender, senderAfter, receiverAfter } = checkOp(tree, domain, op, { ...options, field })
      inp.opType[s] = BigInt(opTypeByte(op.kind))
      inp.opFrom[s] = BigInt(op.from)
      inp.opTo[s] = BigInt(op.to)
      inp.opAmount[s] = encodeFloat40(op.amount)
      inp.senderAx[s] = sender.publicKey[0]
      inp.senderAy[s] = sender.publicKey[1]
      inp.senderBalance[s] = sender.balance
      inp.senderNonce[s] = sender.nonce
      inp.senderSiblings[s] = tree.path(op.from).siblings
      inp.sigR8x[s] = op.signature.R8[0]
      inp.sigR8y[s] = op.signature.R8[1]
      inp.sigS[s] = op.signature.S
      tree.set(op.from, senderAfter)
      if (receiverAfter !== undefined) {
        // The receiver's path is taken after the sender's update: the circuit proves it against the middle root.
        const receiver = tree.get(op.to)
        inp.receiverAx[s] = receiver.publicKey[0]
        inp.receiverAy[s] = receiver.publicKey[1]
        inp.receiverBalance[s] = receiver.balance
        inp.receiverNonce[s] = receiver.nonce
        inp.receiverSiblings[s] = tree.path(op.to).siblings
        tree.set(op.to, receiverAfter)
      }
      bodyOps.push({ type: op.kind === 'transfer' ? OP_TRANSFER : OP_WITHDRAW, from: op.from, to: op.to, amount: op.amount })
    })
    tree.commit()
  } catch (err) {
    tree.rollback()
    throw err
  }
  const body: BatchBody = { newRoot: tree.root, deposits: bodyDeposits, ops: bodyOps }
  const pub = publicInputs(params, domain, oldRoot, body)
  const input: CircuitInput = {
    pub,
    oldRoot,
    newRoot: body.newRoot,
    chainId: domain.chainId,
    contract: domainField(domain) & ((1n << 160n) - 1n),
    depositCount: BigInt(bodyDeposits.length),
    ...inp,
  }
  return { params, oldRoot, newRoot: body.newRoot, body, calldata: encodeBatchCalldata(params, body), publicInputs: pub, input }
}

/**
 * Replays a verified batch's body on `tree` (no signatures: the proof attested
 * them). Throws STATE_MISMATCH when the body does not apply or does not reach
 * its newRoot — a batch that cannot be rebuilt from its data.
 */
export function applyBody(tree: AccountTree, body: BatchBody): void {
  tree.begin()
  try {
    body.deposits.forEach((dep, i) => {
      const old = tree.tryGet(dep.index)
      if (old !== undefined && publicKeyId(old.publicKey) !== publicKeyId(dep.publicKey))
        throw new RollupError('STATE_MISMATCH', `deposit ${i} targets another key's account ${dep.index}`, { field: `deposits[${i}].index` })
      tree.set(dep.index, { publicKey: dep.publicKey, balance: (old?.balance ?? 0n) + dep.amount, nonce: old?.nonce ?? 0n })
    })
    body.ops.forEach((op, i) => {
      const field = `ops[${i}]`
      const sender = tree.get(op.from, `${field}.from`)
      if (sender.balance < op.amount) throw new RollupError('STATE_MISMATCH', `op ${i} overdraws account ${op.from}`, { field })
      tree.set(op.from, { publicKey: sender.publicKey, balance: sender.balance - op.amount, nonce: sender.nonce + 1n })
      if (op.type === OP_TRANSFER) {
        const receiver = tree.get(op.to, `${field}.to`)
        tree.set(op.to, { ...receiver, balance: receiver.balance + op.amount })
      }
    })
    if (tree.root !== body.newRoot)
      throw new RollupError('STATE_MISMATCH', `replayed root ${tree.root} differs from the posted root ${body.newRoot}`, { field: 'newRoot' })
    tree.commit()
  } catch (err) {
    tree.rollback()
    throw err
  }
}
