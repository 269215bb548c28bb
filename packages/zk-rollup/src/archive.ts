/**
 * Transaction data as an L1 node keeps it. The L1 seam (`L1`) exposes
 * receipts and events but not the input data of mined transactions, which is
 * what a rollup's data availability rests on; TxArchive is a decorator over an
 * L1 that remembers the signed transaction behind every hash sent through it —
 * what an archive node's eth_getTransactionByHash would return. The rebuild
 * reads batch bodies from it and nothing else.
 */
import type { L1, SignedTx, TxHash } from '@l2bench/l1-mock'

export interface TxDataSource {
  /** Input data of a transaction, if known. */
  calldataOf(hash: TxHash): Uint8Array | undefined
}

export class TxArchive implements TxDataSource {
  private readonly txs = new Map<TxHash, SignedTx>()
  /** The decorated L1: use it wherever transactions are sent. */
  readonly l1: L1

  constructor(inner: L1) {
    const txs = this.txs
    this.l1 = new Proxy(inner, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown
        if (prop === 'send' || prop === 'sendSync') {
          const fn = value as (tx: SignedTx) => unknown
          return (tx: SignedTx) => {
            const result = fn.call(target, tx)
            const record = (hash: TxHash) => {
              txs.set(hash, tx)
              return hash
            }
            return result instanceof Promise ? result.then(record) : record(result as TxHash)
          }
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
      },
    })
  }

  calldataOf(hash: TxHash): Uint8Array | undefined {
    return this.txs.get(hash)?.body.data
  }
}
