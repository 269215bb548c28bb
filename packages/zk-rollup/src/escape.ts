/**
 * The user's side of the escape hatch (exodus.ts): building the L1 calls a
 * key holder sends to force a withdrawal past a censoring operator, and to
 * take its funds out once the contract is in exodus mode. Everything they
 * need besides the key is public: the account tree is rebuilt from L1
 * calldata (rebuildFromL1), which is what these helpers take.
 */
import type { Address } from '@l2bench/core'
import type { L1 } from '@l2bench/l1-mock'
import type { TxDataSource } from './archive.ts'
import type { CircuitParams } from './calldata.ts'
import { RollupError } from './errors.ts'
import type { ExodusCall } from './exodus.ts'
import type { L2Key } from './keys.ts'
import type { LeafWitness } from './l1-costs.ts'
import { type Domain, exitMessage, signOp } from './ops.ts'
import { batchBodyOf } from './rebuild.ts'
import { type AccountTree, flatSiblings } from './tree.ts'
import { type Withdrawal, withdrawalClaimFields, withdrawalsOf } from './withdrawals.ts'

/** A leaf and its siblings in `tree` (the empty leaf when no account is there). */
export function leafWitness(tree: AccountTree, index: number): LeafWitness {
  return { account: tree.tryGet(index), siblings: flatSiblings(tree.path(index)) }
}

function accountFields(a: NonNullable<LeafWitness['account']>) {
  return { pubX: a.publicKey[0], pubY: a.publicKey[1], balance: a.balance, nonce: a.nonce }
}

/** forceWithdraw: the key's signed withdrawal of `amount` to payee id `to`, at the account's current nonce. */
export function forceWithdrawCall(
  key: L2Key,
  domain: Domain,
  depth: number,
  op: { from: number; to: number; amount: bigint; nonce: bigint },
): Extract<ExodusCall, { type: 'forceWithdraw' }> {
  const signed = signOp(key, domain, depth, { kind: 'withdraw', ...op })
  return {
    type: 'forceWithdraw',
    ...op,
    pubX: key.publicKey[0],
    pubY: key.publicKey[1],
    r8x: signed.signature.R8[0],
    r8y: signed.signature.R8[1],
    s: signed.signature.S,
  }
}

/** refuteForced: the leaf of `from` at `tree` (which must be at the contract's current root). */
export function refuteForcedCall(tree: AccountTree, from: number): Extract<ExodusCall, { type: 'refuteForced' }> {
  const w = leafWitness(tree, from)
  return { type: 'refuteForced', from, account: w.account === undefined ? undefined : accountFields(w.account), siblings: [...w.siblings] }
}

/** exit: the leaf at `index` of the final tree, its balance paid to `payee`, signed by its key. */
export function exitCall(key: L2Key, domain: Domain, tree: AccountTree, index: number, payee: Address): Extract<ExodusCall, { type: 'exit' }> {
  const w = leafWitness(tree, index)
  const account = tree.get(index)
  const sig = key.sign(exitMessage(domain, 'leaf', index, payee))
  return { type: 'exit', index, account: accountFields(account), siblings: [...w.siblings], payee, r8x: sig.R8[0], r8y: sig.R8[1], s: sig.S }
}

/** refundDeposit: queue entry `queueIndex` (key, amount) paid back to `payee`, signed by the deposit's key. */
export function refundDepositCall(
  key: L2Key,
  domain: Domain,
  queueIndex: number,
  amount: bigint,
  payee: Address,
): Extract<ExodusCall, { type: 'refundDeposit' }> {
  const sig = key.sign(exitMessage(domain, 'deposit', queueIndex, payee))
  return {
    type: 'refundDeposit',
    queueIndex,
    pubX: key.publicKey[0],
    pubY: key.publicKey[1],
    amount,
    payee,
    r8x: sig.R8[0],
    r8y: sig.R8[1],
    s: sig.S,
  }
}

/**
 * claimByKey: withdrawal `position` of a verified batch, made to the reserved
 * payee id, paid to `payee` — signed by the key of the account it came from,
 * whose leaf is proven in `tree` (which must be at the contract's root).
 */
export function claimByKeyCall(
  key: L2Key,
  domain: Domain,
  tree: AccountTree,
  batch: { batch: bigint; withdrawals: readonly Withdrawal[] },
  position: number,
  payee: Address,
): Extract<ExodusCall, { type: 'claimByKey' }> {
  const w = batch.withdrawals[position]
  if (w?.account === undefined)
    throw new RollupError('INVALID_OP', `withdrawal ${position} of batch ${batch.batch} is not claimed by key`, { field: 'position' })
  const leaf = leafWitness(tree, w.account)
  const sig = key.sign(exitMessage(domain, 'withdrawal', batch.batch, payee, position))
  return {
    type: 'claimByKey',
    ...withdrawalClaimFields(batch, position),
    from: w.account,
    account: accountFields(tree.get(w.account)),
    siblings: [...leaf.siblings],
    payee,
    r8x: sig.R8[0],
    r8y: sig.R8[1],
    s: sig.S,
  }
}

/**
 * The withdrawals of verified batch `batch` as the contract committed to
 * them, from L1 alone (the batch's calldata and the payee registry): what a
 * user needs to claim without the operator.
 */
export async function withdrawalsFromL1(options: { l1: L1; contract: Address; params: CircuitParams; data: TxDataSource }, batch: bigint): Promise<{ batch: bigint; withdrawals: Withdrawal[] }> {
  const { l1, contract, params, data } = options
  const event = l1.events({ address: contract, name: 'BatchVerified' }).find((e) => e.data.batch === batch)
  if (event === undefined) throw new RollupError('INVALID_OP', `batch ${batch} is not verified on L1`, { field: 'batch' })
  const body = batchBodyOf(event, params, data)
  const payees = new Map<number, Address>()
  for (const e of l1.events({ address: contract, name: 'PayeeRegistered' })) payees.set(e.data.id as number, e.data.payee as Address)
  const withdrawals = withdrawalsOf(params.depth, body.ops, (id) => {
    const p = payees.get(id)
    if (p === undefined) throw new RollupError('STATE_MISMATCH', `payee id ${id} of a verified batch is not registered`, { field: 'payee' })
    return p
  })
  return { batch, withdrawals }
}
