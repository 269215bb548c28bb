/**
 * The user's side of the escape hatch (exodus.ts): building the L1 calls a
 * key holder sends to force a withdrawal past a censoring operator, and to
 * take its funds out once the contract is in exodus mode. Everything they
 * need besides the key is public: the account tree is rebuilt from L1
 * calldata (rebuildFromL1), which is what these helpers take.
 */
import type { Address } from '@l2bench/core'
import type { ExodusCall } from './exodus.ts'
import type { L2Key } from './keys.ts'
import type { LeafWitness } from './l1-costs.ts'
import { type Domain, exitMessage, signOp } from './ops.ts'
import type { AccountTree } from './tree.ts'

/** A leaf and its siblings in `tree` (the empty leaf when no account is there). */
export function leafWitness(tree: AccountTree, index: number): LeafWitness {
  return { account: tree.tryGet(index), siblings: tree.path(index).siblings }
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
