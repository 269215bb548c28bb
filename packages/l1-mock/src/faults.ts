/**
 * Fault injection, shared by every backend: delay a sender's transactions,
 * drop them (censorship), or take an account offline (it can send nothing and
 * hears no events). Applied on the client side of the chain, before a
 * transaction reaches a block.
 */
import { type Address, assertInt, toAddress } from '@l2bench/core'

export class Faults {
  private readonly delays = new Map<Address, number>()
  private readonly dropUntil = new Map<Address, number>()
  private readonly offline = new Set<Address>()

  /** Holds `sender`'s transactions for `blocks` extra blocks (0 clears). */
  delaySender(sender: Address, blocks: number): void {
    assertInt('blocks', blocks, 0)
    const a = toAddress('sender', sender)
    if (blocks === 0) this.delays.delete(a)
    else this.delays.set(a, blocks)
  }

  /** Drops every transaction `sender` sends until height `height + blocks` (censorship). */
  dropSender(sender: Address, blocks: number, height: number): void {
    assertInt('blocks', blocks, 0)
    const a = toAddress('sender', sender)
    if (blocks === 0) this.dropUntil.delete(a)
    else this.dropUntil.set(a, height + blocks)
  }

  setOffline(account: Address, offline: boolean): void {
    const a = toAddress('account', account)
    if (offline) this.offline.add(a)
    else this.offline.delete(a)
  }

  isOffline(account: Address): boolean {
    return this.offline.has(account)
  }

  /** Extra blocks `sender`'s transactions wait. */
  delayOf(sender: Address): number {
    return this.delays.get(sender) ?? 0
  }

  /** The height until which `sender` is censored, if it is at `height`. */
  droppedUntil(sender: Address, height: number): number | undefined {
    const until = this.dropUntil.get(sender)
    return until !== undefined && height < until ? until : undefined
  }

  clear(): void {
    this.delays.clear()
    this.dropUntil.clear()
    this.offline.clear()
  }
}
