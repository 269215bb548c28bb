/**
 * The outbox: every chain message the manager sends goes through
 * `sendDurable`, which writes it ahead of its broadcast:
 *
 *   1. sign the transaction (its hash is known before the L1 sees it), with
 *      a nonce chosen past the messages still pending (ours survive restarts,
 *      so a fresh Wallet object that knows no nonces is fine);
 *   2. store it — signed bytes, hash, nonce — in ONE transaction with the
 *      effect it has on its channel (pending amount, queue taken, …);
 *   3. broadcast it.
 *
 * A crash before 2 leaves nothing (nothing was sent); a crash after 2 leaves
 * the message stored, and `resume` broadcasts the same signed bytes again on
 * the next start. Sending the same transaction twice is harmless — one nonce,
 * one inclusion — so nothing is forgotten and nothing is sent twice. An L1
 * that refuses the broadcast (a typed TxRejectedError) gets the effect undone
 * in one transaction and the caller the error; a nonce already taken by
 * another transaction of the same account is skipped and the message signed
 * again.
 *
 * Outcomes come back through `watch`: mined (success or reverted), or never
 * included (dropped, or unknown to the L1). Each is handed, once, to the
 * handler registered for the message kind, which must delete the stored
 * message in the same transaction as its own writes (`done`). The outbox
 * knows no message kind itself (funding.ts and settler.ts register them).
 */
import { type Address, decode, encode } from '@l2bench/core'
import { type L1, type Receipt, TxRejectedError, type TxHash, type Wallet, signedTxCodec, txHash } from '@l2bench/l1-mock'
import type { PaychCall, PaychContract } from './contract.ts'
import { PaychError } from './errors.ts'
import type { MessageKind, PaychStore, PendingMessage } from './store.ts'

/** How a message ended. `notSent`: the L1 dropped it or never had it (its nonce is free again). */
export type OutcomeStatus = 'success' | 'reverted' | 'notSent'

export interface Outcome {
  status: OutcomeStatus
  receipt: Receipt | undefined
  /** The typed error (CHAIN_MESSAGE_FAILED) when it did not succeed. */
  error: PaychError | undefined
}

/** Handles one landed message; must call `done` inside the transaction of its own writes (or alone). */
export type OutcomeHandler = (msg: PendingMessage, outcome: Outcome, done: () => void) => void

/** What a message does to its channel: written with it (`apply`), or undone if the L1 refuses it (`undo`). */
export interface Intent {
  channel: Address
  /** Writes the channel effect; must call `row` (stores the message) in the same transaction. */
  apply(row: () => void): void
  /** Reverts the effect; must call `row` (deletes the message) in the same transaction. */
  undo(row: () => void): void
}

export interface MessageSpec {
  kind: MessageKind
  call: PaychCall
  value: bigint
  /** For 'submit': the voucher's lane and nonce. */
  lane?: number | undefined
  nonce?: bigint | undefined
}

/** One attempt: the message, and its intent once its hash is known. */
export interface Draft {
  spec: MessageSpec
  intent: (hash: TxHash) => Intent
}

export interface OutboxDeps {
  l1: L1
  wallet: Wallet
  contract: PaychContract
  store: PaychStore
  /** Where outcomes that no caller waits for are reported. */
  errors: Error[]
  ensureOpen(): void
  isClosed(): boolean
}

/** How many nonces taken by other transactions of the account are skipped before giving up. */
const NONCE_RETRIES = 16

export class Outbox {
  private readonly messages = new Map<TxHash, PendingMessage>()
  private readonly processing = new Map<TxHash, Promise<Receipt | undefined>>()
  private readonly handlers = new Map<MessageKind, OutcomeHandler>()

  constructor(private readonly d: OutboxDeps) {}

  on(kinds: MessageKind[], handler: OutcomeHandler): void {
    for (const k of kinds) this.handlers.set(k, handler)
  }

  /** Messages stored and not yet resolved. */
  inFlight(): IterableIterator<PendingMessage> {
    return this.messages.values()
  }

  /** Receipt-processing promises still running (what `idle` waits for). */
  busy(): Promise<unknown>[] {
    return [...this.processing.values()]
  }

  /** Resolves once the manager has processed the message (undefined if it never landed). */
  waitFor(hash: TxHash): Promise<Receipt | undefined> {
    return this.processing.get(hash) ?? this.d.l1.receipt(hash).catch(() => undefined)
  }

  /**
   * Broadcasts again, in nonce order, every message stored by an earlier run
   * and watches each. A message the L1 already has is refused as known
   * (duplicate / nonce used) and its receipt tells the rest.
   */
  async resume(): Promise<void> {
    const rows = this.d.store.pending().sort((a, b) => (a.txNonce < b.txNonce ? -1 : a.txNonce > b.txNonce ? 1 : 0))
    for (const m of rows) this.messages.set(m.hash, m)
    for (const m of rows) {
      if (m.raw !== undefined)
        try {
          await this.d.wallet.sendSigned(decode(signedTxCodec, m.raw))
        } catch {
          // Known already, or refused now: the receipt (or its absence) decides.
        }
      this.watch(m.hash)
    }
  }

  /**
   * Signs, stores (with the intent's effect), then broadcasts one message.
   * Returns its hash once the L1 accepted it; if the L1 refuses it the effect
   * is undone and the refusal thrown. `draft` runs again for each attempt (a
   * nonce taken by another transaction of the account), so what it reads
   * from the channel is current when the message is signed.
   */
  async sendDurable(draft: () => Draft): Promise<TxHash> {
    const { wallet, contract, store } = this.d
    const taken = new Set<bigint>()
    for (let attempt = 0; ; attempt++) {
      this.d.ensureOpen()
      const { spec, intent: prepare } = draft()
      const txNonce = this.chooseNonce(taken)
      const tx = wallet.sign(contract.address, contract.encodeCall(spec.call), { value: spec.value, nonce: txNonce })
      const hash = txHash(tx)
      const intent = prepare(hash)
      const msg: PendingMessage = {
        hash,
        channel: intent.channel,
        kind: spec.kind,
        amount: spec.value,
        lane: spec.lane ?? 0,
        nonce: spec.nonce ?? 0n,
        txNonce,
        raw: encode(signedTxCodec, tx),
      }
      intent.apply(() => store.putPending(msg))
      this.messages.set(hash, msg)
      try {
        await wallet.sendSigned(tx)
      } catch (err) {
        if (!(err instanceof TxRejectedError)) {
          // Outcome unknown (it may have reached the L1): keep it; the receipt decides.
          this.watch(hash)
          throw err
        }
        this.messages.delete(hash)
        intent.undo(() => store.deletePending(hash))
        if ((err.code === 'NONCE_PENDING' || err.code === 'NONCE_TOO_LOW') && attempt < NONCE_RETRIES) {
          taken.add(txNonce) // another transaction of this account holds it
          continue
        }
        throw err
      }
      this.watch(hash)
      return hash
    }
  }

  /** The lowest nonce from the chain's that no message of ours holds (fills a gap a dropped one left). */
  private chooseNonce(taken: Set<bigint>): bigint {
    const held = new Set(taken)
    for (const m of this.messages.values()) held.add(m.txNonce)
    let n = this.d.l1.nonceOf(this.d.wallet.address)
    while (held.has(n)) n++
    return n
  }

  private watch(hash: TxHash): void {
    if (this.processing.has(hash)) return
    const p = this.d.l1.receipt(hash).then(
      (r) => {
        this.land(hash, r.status === 'success' ? 'success' : 'reverted', r)
        return r
      },
      (err) => {
        this.land(hash, 'notSent', undefined, err as Error)
        return undefined
      },
    )
    this.processing.set(hash, p)
    void p.finally(() => {
      if (this.processing.get(hash) === p) this.processing.delete(hash)
    })
  }

  private land(hash: TxHash, status: OutcomeStatus, receipt: Receipt | undefined, cause?: Error): void {
    if (this.d.isClosed()) return
    const msg = this.messages.get(hash)
    if (msg === undefined) return
    this.messages.delete(hash)
    let error: PaychError | undefined
    if (status !== 'success') {
      const reason = PaychError.fromRevert(receipt?.revertReason, receipt?.revertField, { txHash: hash }) ?? cause
      const what = status === 'reverted' ? `reverted: ${reason?.message ?? receipt?.revertReason}` : `was not included: ${cause?.message}`
      error = new PaychError('CHAIN_MESSAGE_FAILED', `${msg.kind} message ${hash} ${what}`, { cause: reason, details: { txHash: hash, channel: msg.channel } })
      this.d.errors.push(error)
    }
    let finished = false
    const done = () => {
      this.d.store.deletePending(hash)
      finished = true
    }
    try {
      this.handlers.get(msg.kind)?.(msg, { status, receipt, error }, done)
      if (!finished) done()
    } catch (err) {
      this.d.errors.push(err as Error)
    }
  }
}
