/**
 * One reconciliation of the HTLC book with a channel state, for a restart
 * (the state ChannelNode restored) and for every fully signed state while
 * running: the same rules either way.
 *
 *   in the state, no record   recorded: an incoming HTLC to process, or an
 *                             outgoing one we lost track of (refunded at expiry)
 *   in the state, 'offering'  our add is signed: pending
 *   not in the state          'offering': dropped as failed unless our add is
 *                             still queued or proposed; 'pending': resolved —
 *                             by the balances when this state differs from
 *                             the last one reconciled by exactly this HTLC
 *                             (whoever's balance grew by its amount got it),
 *                             else by what we know: settled if we hold its
 *                             preimage, failed if not
 */
import { bytesEqual } from '@l2bench/core'
import { type ChannelState, type LockedEntry, channelIdHex, other } from '@l2bench/payment-channel'
import { type HtlcRecord, type TrackedChannel, htlcKey } from './book.ts'
import type { Forwarding, HtlcContext } from './forwarding.ts'

export function reconcile(ctx: HtlcContext, fw: Forwarding, ch: TrackedChannel, state: ChannelState): void {
  const { book } = ctx
  const inState = new Set(state.locked.map((e) => channelIdHex(e.id)))
  for (const e of state.locked) {
    const key = htlcKey(ch.key, e.id)
    const rec = book.htlcs.get(key)
    if (rec === undefined) {
      const incoming = e.direction !== ch.me
      const created = book.create(ch.key, { channelId: ch.channelId, entry: e, incoming, status: 'pending', processed: !incoming })
      if (incoming) queueMicrotask(() => fw.processIncoming(created))
    } else if (rec.status === 'offering') book.transition(rec, 'pending')
  }
  const seen = ch.seen
  for (const rec of book.unresolved(ch.key)) {
    if (inState.has(channelIdHex(rec.entry.id))) continue
    if (rec.status === 'offering') {
      if (!rec.adding && !fw.inProposal(rec)) fw.resolved(rec, 'failed', false)
      continue
    }
    fw.resolved(rec, howLeft(ctx, rec, seen, state), false)
  }
  ch.seen = { locked: state.locked, balances: state.balances }
}

function howLeft(ctx: HtlcContext, rec: HtlcRecord, seen: TrackedChannel['seen'], state: ChannelState): 'settled' | 'failed' {
  if (seen !== undefined && onlyChange(seen.locked, state.locked, rec.entry)) {
    const d = [state.balances[0] - seen.balances[0], state.balances[1] - seen.balances[1]] as const
    const offerer = rec.entry.direction
    const receiver = other(offerer)
    if (d[receiver] === rec.entry.amount && d[offerer] === 0n) return 'settled'
    if (d[offerer] === rec.entry.amount && d[receiver] === 0n) return 'failed'
  }
  return ctx.book.preimage(rec.entry.hash) !== undefined ? 'settled' : 'failed'
}

/** `next` is `prev` without `gone` and with no other locked change. */
function onlyChange(prev: readonly LockedEntry[], next: readonly LockedEntry[], gone: LockedEntry): boolean {
  if (prev.length !== next.length + 1) return false
  let found = false
  for (const e of prev) {
    if (bytesEqual(e.id, gone.id)) found = true
    else if (!next.some((x) => bytesEqual(x.id, e.id))) return false
  }
  return found
}
