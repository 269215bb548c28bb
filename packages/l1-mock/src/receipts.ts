/**
 * The receipt side of an L1, shared by every backend: receipts of mined
 * transactions, the errors of dropped ones, and the callers waiting for either.
 */
import { InvalidInputError, type L2Error } from '@l2bench/core'
import type { TxHash } from './tx.ts'
import type { Receipt } from './types.ts'

interface Waiter {
  resolve: (r: Receipt) => void
  reject: (e: Error) => void
}

export class ReceiptBook {
  readonly receipts = new Map<TxHash, Receipt>()
  readonly dropped = new Map<TxHash, L2Error>()
  private readonly waiters = new Map<TxHash, Waiter[]>()

  /** `onWaiting(true)` when the first caller starts waiting, `(false)` when the last one is answered. */
  constructor(private readonly onWaiting: (waiting: boolean) => void = () => {}) {}

  /** The receipt of `hash`: at once if mined, later if `isPending`, else rejected. */
  wait(hash: TxHash, isPending: boolean): Promise<Receipt> {
    const r = this.receipts.get(hash)
    if (r !== undefined) return Promise.resolve(r)
    const dropped = this.dropped.get(hash)
    if (dropped !== undefined) return Promise.reject(dropped)
    if (!isPending) return Promise.reject(new InvalidInputError('hash', `unknown transaction ${hash}`))
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(hash) ?? []
      list.push({ resolve, reject })
      if (this.waiters.size === 0) this.onWaiting(true)
      this.waiters.set(hash, list)
    })
  }

  mined(receipt: Receipt): void {
    this.receipts.set(receipt.txHash, receipt)
  }

  /** Answers the callers waiting on a mined transaction (call after `mined`, once the block is complete). */
  notify(hash: TxHash): void {
    const r = this.receipts.get(hash)
    if (r !== undefined) this.answer(hash, (w) => w.resolve(r))
  }

  drop(hash: TxHash, error: L2Error): void {
    this.dropped.set(hash, error)
    this.answer(hash, (w) => w.reject(error))
  }

  /** Fails every waiting caller (the chain is gone). */
  failAll(error: Error): void {
    for (const hash of [...this.waiters.keys()]) this.answer(hash, (w) => w.reject(error))
  }

  private answer(hash: TxHash, f: (w: Waiter) => void): void {
    const ws = this.waiters.get(hash)
    if (ws === undefined) return
    this.waiters.delete(hash)
    for (const w of ws) f(w)
    if (this.waiters.size === 0) this.onWaiting(false)
  }
}
