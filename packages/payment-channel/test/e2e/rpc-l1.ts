/**
 * A tiny RPC that exposes one in-process MockL1 to child processes over the
 * node IPC channel (v8 serialization keeps bigint and Uint8Array intact).
 * The parent answers `send`, `receipt` and `read`, and pushes every L1 event;
 * the child's RpcL1 implements the L1 interface with head, balance and nonce
 * cached from the last answer (enough for Wallet).
 */
import type { ChildProcess } from 'node:child_process'
import { type Address, L2Error } from '@l2bench/core'
import type { EventFilter, Head, L1, L1Event, MockL1, Receipt, SignedTx, TxHash, Unsubscribe } from '@l2bench/l1-mock'

interface Request {
  rpc: number
  method: 'send' | 'receipt' | 'read'
  args: unknown[]
  me: Address
}
interface Reply {
  rpc: number
  ok?: unknown
  err?: { code: string; message: string; field?: string }
  head: Head
  nonce: bigint
  balance: bigint
}

/** Parent side: serves `child` from `l1` and forwards all events. */
export function serveL1(l1: MockL1, child: ChildProcess): Unsubscribe {
  const onMessage = async (m: unknown) => {
    const req = m as Request
    if (typeof req !== 'object' || req === null || typeof req.rpc !== 'number') return
    const reply: Partial<Reply> = { rpc: req.rpc }
    try {
      if (req.method === 'send') reply.ok = await l1.send(req.args[0] as SignedTx)
      else if (req.method === 'receipt') reply.ok = await l1.receipt(req.args[0] as TxHash)
      else reply.ok = await l1.read(req.args[0] as Address, req.args[1] as string, req.args[2] as unknown[])
    } catch (err) {
      const e = err as L2Error
      reply.err = { code: e.code ?? 'ERROR', message: e.message, ...(e.field === undefined ? {} : { field: e.field }) }
    }
    if (child.connected) child.send({ ...reply, head: l1.head(), nonce: l1.nonceOf(req.me), balance: l1.balanceOf(req.me) })
  }
  child.on('message', onMessage)
  const unsub = l1.subscribe({}, (e) => {
    if (child.connected) child.send({ event: e })
  })
  return () => {
    unsub()
    child.off('message', onMessage)
  }
}

/** Child side. */
export class RpcL1 implements L1 {
  private seq = 1
  private readonly waiting = new Map<number, (r: Reply) => void>()
  private readonly subs = new Set<{ filter: EventFilter; cb: (e: L1Event) => void }>()
  private cachedHead: Head = { height: 0, timestamp: 0 }
  private nonce = 0n
  private balance = 0n

  constructor(
    readonly chainId: bigint,
    readonly me: Address,
  ) {
    process.on('message', (m: unknown) => {
      const msg = m as Reply & { event?: L1Event }
      if (msg.event !== undefined) {
        const e = msg.event
        for (const s of this.subs)
          if ((s.filter.address === undefined || s.filter.address === e.address) && (s.filter.name === undefined || s.filter.name === e.name)) s.cb(e)
        return
      }
      const w = this.waiting.get(msg.rpc)
      if (w === undefined) return
      this.waiting.delete(msg.rpc)
      this.cachedHead = msg.head
      this.nonce = msg.nonce
      this.balance = msg.balance
      w(msg)
    })
  }

  private call<T>(method: Request['method'], args: unknown[]): Promise<T> {
    const rpc = this.seq++
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(rpc, (r) => {
        if (r.err !== undefined) reject(new L2Error(r.err.code, r.err.message, r.err.field === undefined ? {} : { field: r.err.field }))
        else resolve(r.ok as T)
      })
      process.send?.({ rpc, method, args, me: this.me } satisfies Request)
    })
  }

  head(): Head {
    return this.cachedHead
  }
  send(tx: SignedTx): Promise<TxHash> {
    return this.call('send', [tx])
  }
  receipt(hash: TxHash): Promise<Receipt> {
    return this.call('receipt', [hash])
  }
  read<T>(contract: Address, method: string, args: unknown[]): Promise<T> {
    return this.call('read', [contract, method, args])
  }
  subscribe(filter: EventFilter, onEvent: (e: L1Event) => void): Unsubscribe {
    const s = { filter, cb: onEvent }
    this.subs.add(s)
    return () => this.subs.delete(s)
  }
  balanceOf(address: Address): bigint {
    return address === this.me ? this.balance : 0n
  }
  nonceOf(address: Address): bigint {
    return address === this.me ? this.nonce : 0n
  }
  events(): L1Event[] {
    return []
  }
}
