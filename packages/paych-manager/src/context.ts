/** What the manager's parts share (built once by PaychManager; internal). */
import type { Address, Verifier } from '@l2bench/core'
import type { L1, Wallet } from '@l2bench/l1-mock'
import type { PaychContract } from './contract.ts'
import type { Outbox } from './outbox.ts'
import type { PaychStore } from './store.ts'
import type { Views } from './views.ts'
import type { VoucherDomain } from './voucher.ts'

export interface ManagerContext {
  readonly l1: L1
  readonly wallet: Wallet
  readonly contract: PaychContract
  readonly store: PaychStore
  readonly verifier: Verifier
  readonly address: Address
  readonly domain: VoucherDomain
  /** Errors met where no caller waits (receipts, settler, queued funding). */
  readonly errors: Error[]
  readonly views: Views
  readonly outbox: Outbox
  /** Runs `p` in the background; `idle` waits for it, a rejection lands in `errors`. */
  background(p: Promise<unknown>): void
  ensureOpen(): void
  isClosed(): boolean
}
