/**
 * Admission of a transaction into an L1's mempool: the checks every backend
 * (MockL1, the EVM backend) makes before a transaction may wait for a block,
 * each failing with TxRejectedError and a stable code. Nothing here changes
 * state; the caller queues the transaction when this returns.
 */
import type { Address, L2Error, Verifier } from '@l2bench/core'
import { TxRejectedError } from './errors.ts'
import { GAS_SCHEDULE, calldataGas } from './gas.ts'
import { type SignedTx, type TxHash, senderOf, txIdentity } from './tx.ts'

/** What admission reads of a chain. */
export interface AdmissionView {
  readonly chainId: bigint
  readonly verifier: Verifier
  readonly minGasPrice: bigint
  readonly blockGasLimit: number
  isOffline(account: Address): boolean
  /** Balance and next nonce of an account (zero for an unknown one). */
  accountState(account: Address): { balance: bigint; nonce: bigint }
  /** Whether a transaction of `sender` with `nonce` waits in the mempool. */
  hasPendingNonce(sender: Address, nonce: bigint): boolean
  /** Whether the transaction is already pending or mined. */
  knows(hash: TxHash): boolean
}

/** Checks `tx` against `chain`; returns its hash and sender, or throws TxRejectedError. */
export function admitTx(tx: SignedTx, chain: AdmissionView): { hash: TxHash; from: Address } {
  let identity: ReturnType<typeof txIdentity>
  try {
    identity = txIdentity(tx)
  } catch (cause) {
    throw new TxRejectedError('MALFORMED_TX', 'transaction does not encode', { field: (cause as L2Error).field, cause })
  }
  const { body } = tx
  if (body.chainId !== chain.chainId) throw new TxRejectedError('WRONG_CHAIN', `chainId ${body.chainId} is not ${chain.chainId}`, { field: 'chainId' })
  if (!chain.verifier.verify(tx.signature, identity.digest, tx.publicKey))
    throw new TxRejectedError('BAD_SIGNATURE', 'signature does not match the body and public key', { field: 'signature' })
  const from = senderOf(tx)
  if (chain.isOffline(from)) throw new TxRejectedError('OFFLINE', `${from} is offline`, { field: 'from' })
  const account = chain.accountState(from)
  if (body.nonce < account.nonce)
    throw new TxRejectedError('NONCE_TOO_LOW', `nonce ${body.nonce} already used (next is ${account.nonce})`, { field: 'nonce' })
  if (chain.hasPendingNonce(from, body.nonce))
    throw new TxRejectedError('NONCE_PENDING', `a transaction with nonce ${body.nonce} is already pending`, { field: 'nonce' })
  const intrinsic = GAS_SCHEDULE.txBase + calldataGas(body.data)
  if (body.gasLimit < BigInt(intrinsic))
    throw new TxRejectedError('GAS_TOO_LOW', `gasLimit ${body.gasLimit} below intrinsic gas ${intrinsic}`, { field: 'gasLimit' })
  if (body.gasLimit > BigInt(chain.blockGasLimit))
    throw new TxRejectedError('GAS_TOO_HIGH', `gasLimit ${body.gasLimit} above block gas limit`, { field: 'gasLimit' })
  if (body.gasPrice < chain.minGasPrice) throw new TxRejectedError('GAS_PRICE_TOO_LOW', `gasPrice below ${chain.minGasPrice}`, { field: 'gasPrice' })
  const maxCost = body.value + body.gasLimit * body.gasPrice
  if (account.balance < maxCost)
    throw new TxRejectedError('INSUFFICIENT_FUNDS', `balance ${account.balance} < value + gasLimit × gasPrice = ${maxCost}`, {
      field: 'value',
    })
  if (chain.knows(identity.hash)) throw new TxRejectedError('DUPLICATE', 'transaction already known', { field: 'tx' })
  return { hash: identity.hash, from }
}
