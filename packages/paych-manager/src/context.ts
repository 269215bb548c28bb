/** What the manager's parts share (built once by PaychManager; internal). */
import type { PaychManager } from './manager.ts'
import type { Outbox } from './outbox.ts'
import type { Views } from './views.ts'

/** The facade's chain, wallet, store and signing domain, plus the parts' shared services. */
export interface ManagerContext extends Pick<PaychManager, 'l1' | 'wallet' | 'contract' | 'store' | 'verifier' | 'address' | 'domain'> {
  /** Errors met where no caller waits (receipts, settler, queued funding). */
  readonly errors: Error[]
  readonly views: Views
  readonly outbox: Outbox
  /** Runs `p` in the background; `idle` waits for it, a rejection lands in `errors`. */
  background(p: Promise<unknown>): void
  ensureOpen(): void
  isClosed(): boolean
}
