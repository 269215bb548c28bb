/**
 * The dispute path on L1, for every role.
 *
 * Watching (automatic unless `autoDefend: false`), through payment-channel's
 * EventCursor: events heard live, and after an offline spell or a restart
 * read from the log (a node that only listened missed a registration made
 * while it was away, and never refuted or concluded even back inside the
 * window); on every block, a refutation or conclusion that has not landed
 * (offline, dropped, a settle that raced the registration) is sent again.
 *
 *   VirtualRegistered  Alice/Bob: no more updates (disputed); if we hold a
 *                      newer state signed by both, register it (the
 *                      refutation, inside the window). Ingrid: if she
 *                      settled by a final state, conclude with it — a
 *                      registration by colluders never beats the state she
 *                      paid one ledger out by.
 *   VirtualConcluded   Alice/Bob: disputed (the outcome is final).
 *   Either             the outcome is cached (`ctx.outcomes`): once final,
 *                      Ingrid unlocks both ledgers by it off chain (hub.ts)
 *                      and Alice's and Bob's policies accept exactly that, so
 *                      a virtual dispute need not close any ledger channel.
 *
 * Steps (the caller drives time):
 *   forceClose  register our ledger(s) still holding the lock (payment-channel's
 *               register, starts the ledger's window) and the virtual channel:
 *               Alice/Bob their newest state (version 0 if never activated);
 *               Ingrid her final state (concluded at once), or version 0 from
 *               `validity` on (her way out when Alice and Bob go silent).
 *   finalize    once the windows passed: finalize our disputed ledger(s), then
 *               resolve each lock our ledgers left on the adjudicator by the
 *               virtual outcome (closed when nothing is left).
 */
import type { L1Event, Receipt } from '@l2bench/l1-mock'
import { EventCursor, type SignedState } from '@l2bench/payment-channel'
import { type VirtualContext, finalWhenRead, hasChannel, hex, latestOf, readOutcome, sidesOfRole } from './context.ts'
import { type VirtualDispute, isFinalOutcome } from './adjudicator.ts'
import { VirtualError } from './errors.ts'
import { holdsLock } from './policy.ts'
import { ledgerOf } from './params.ts'
import type { VirtualRecord } from './store.ts'

export class OnChain {
  /** One virtual-registration step at a time per virtual channel (an automatic refutation and a forceClose would race). */
  private readonly lanes = new Map<string, Promise<unknown>>()

  private readonly cursor: EventCursor

  constructor(
    private readonly ctx: VirtualContext,
    private readonly autoDefend: () => boolean,
  ) {
    this.cursor = new EventCursor(ctx.l1, {
      filter: { address: ctx.client.contract.address },
      owner: ctx.client.wallet.address,
      onEvent: (e) => this.onEvent(e),
      onBlock: () => this.defendAll(),
      onError: (err) => ctx.record(err),
    })
  }

  /** Listens, and reads the log from `fromHeight` (0 after a restart: what happened while we were down). */
  start(fromHeight: number): void {
    this.cursor.start(fromHeight)
  }

  stop(): void {
    this.cursor.stop()
  }

  /** Catches up with the log and re-sends what has not landed (tick: an offline spell may end without a new block). */
  tick(): void {
    this.cursor.pull()
    this.defendAll()
  }

  private onEvent(e: L1Event): void {
    if (e.name !== 'VirtualRegistered' && e.name !== 'VirtualConcluded') return
    queueMicrotask(() => {
      this.handle(e).catch((err) => this.ctx.record(err))
    })
  }

  private async handle(e: L1Event): Promise<void> {
    if (this.ctx.stopped()) return
    const id = e.data.channelId
    if (!(id instanceof Uint8Array)) return
    if (this.ctx.records.get(id) === undefined) return
    await this.refresh(id)
    // The record as it is now: a settle (Ingrid) or a status change may have landed while we read L1.
    const r = this.ctx.records.require(id)
    if (r.role === 'ingrid') {
      if (r.final === undefined && (r.status === 'active' || r.status === 'funding')) this.ctx.records.update(r, { status: 'disputed' })
      if (e.name === 'VirtualRegistered') await this.defend(r)
      return
    }
    const cur = r.status === 'closed' || r.status === 'disputed' ? r : this.ctx.records.update(r, { status: 'disputed' })
    if (e.name === 'VirtualRegistered') await this.defend(cur)
  }

  /**
   * What an honest party answers a registration with, unless the outcome is
   * final: Alice/Bob register their newer state (the refutation); Ingrid
   * concludes with the final state she settled by. Idempotent (reads L1
   * inside the lane), so it runs on every event and every block.
   */
  private defend(r: VirtualRecord): Promise<void> {
    if (!this.autoDefend()) return Promise.resolve()
    if (r.role === 'ingrid') return r.final === undefined ? Promise.resolve() : this.concludeIfOpen(r).then(() => {})
    const mine = this.newest(r)
    const known = this.ctx.outcomes.get(hex(r.vid))
    if (mine === undefined || (known !== undefined && mine.state.version <= known.version)) return Promise.resolve()
    return this.lane(r.vid, async () => {
      // Read again inside the lane: someone may have registered this version or a newer one meanwhile.
      const d = await this.ctx.client.dispute(r.vid)
      if (!isFinalOutcome(d, this.ctx.l1.head().height) && d !== undefined && d.version < mine.state.version)
        await this.ctx.client.register(r.params, mine, r.activation)
    })
  }

  /**
   * Every block: registrations still open (known from events) that our
   * refutation or conclusion has not answered yet; and registrations read
   * inside their window whose deadline has passed, read again (the policy
   * pays a ledger only by an outcome read once it was final).
   */
  private defendAll(): void {
    if (this.ctx.stopped()) return
    const height = this.ctx.l1.head().height
    for (const r of this.ctx.records.all()) {
      const d = this.ctx.outcomes.get(hex(r.vid))
      if (d === undefined || finalWhenRead(d)) continue
      if (isFinalOutcome(d, height)) {
        this.reread(r.vid)
        continue
      }
      if (r.role === 'ingrid' ? d.concluded : (this.newest(r)?.state.version ?? 0n) <= d.version) continue
      this.defend(r).catch((err) => this.ctx.record(err))
    }
  }

  private lane<T>(vid: Uint8Array, fn: () => Promise<T>): Promise<T> {
    const key = hex(vid)
    const run = (this.lanes.get(key) ?? Promise.resolve()).then(fn, fn)
    const tail = run.catch(() => {})
    this.lanes.set(key, tail)
    void tail.then(() => {
      if (this.lanes.get(key) === tail) this.lanes.delete(key)
    })
    return run
  }

  /** Reads the virtual channel's outcome on L1 into the cache; returns it. */
  refresh(vid: Uint8Array): Promise<VirtualDispute | undefined> {
    return readOutcome(this.ctx, vid)
  }

  /** One read at a time per virtual channel (defendAll runs every block and tick). */
  private readonly rereading = new Set<string>()
  private reread(vid: Uint8Array): void {
    const key = hex(vid)
    if (this.rereading.has(key)) return
    this.rereading.add(key)
    readOutcome(this.ctx, vid)
      .catch((err: unknown) => this.ctx.record(err))
      .finally(() => this.rereading.delete(key))
  }

  /** Ingrid: her final state becomes the outcome unless the outcome is already final. */
  private concludeIfOpen(r: VirtualRecord): Promise<Receipt | undefined> {
    return this.lane(r.vid, async () => {
      const d = await this.ctx.client.dispute(r.vid)
      if (isFinalOutcome(d, this.ctx.l1.head().height)) return undefined
      return this.ctx.client.conclude(r.params, r.final as SignedState)
    })
  }

  /**
   * Ingrid: a ledger of hers was closed on L1 with the virtual lock kept
   * apart there (a cooperative close or a dispute while the lock was live):
   * no off-chain unlock reaches it, the outcome pays it. With a final state
   * she concludes at once; then (or once a registration is final) she
   * resolves the kept lock(s); `finalize` marks the record closed when no
   * lock is left anywhere (the other ledger unlocked off chain meanwhile).
   */
  async settleOnL1(vid: Uint8Array): Promise<void> {
    const r = this.ctx.records.require(vid)
    if (r.role !== 'ingrid' || r.status === 'closed') return
    if (r.final !== undefined && this.autoDefend()) await this.concludeIfOpen(r)
    try {
      await this.finalize(vid)
    } catch (err) {
      if (!(err instanceof VirtualError && err.code === 'STATE')) throw err // STATE: a window or the other ledger still waits
    }
  }

  /** Alice/Bob: our newest virtual state signed by both (undefined before we run it: then version 0 is all there is). */
  private newest(r: VirtualRecord): SignedState | undefined {
    if (!hasChannel(this.ctx.channel, r.vid)) return undefined
    return latestOf(this.ctx.channel, r.vid)
  }

  async forceClose(vid: Uint8Array): Promise<Receipt[]> {
    const ctx = this.ctx
    const r = ctx.records.require(vid)
    const out: Receipt[] = []
    for (const side of sidesOfRole(r.role)) {
      const ledgerId = ledgerOf(r.params, side)
      const info = await ctx.channel.onChain(ledgerId).catch(() => undefined)
      const latest = latestOf(ctx.channel, ledgerId)
      if (info?.phase === 'open' && latest !== undefined && holdsLock(latest.state, r.vid)) out.push(await ctx.channel.forceClose({ channelId: ledgerId }))
    }
    await this.lane(r.vid, () => this.registerOwn(r, out))
    if (r.role !== 'ingrid' && r.status !== 'closed' && r.status !== 'disputed') ctx.records.update(ctx.records.require(r.vid), { status: 'disputed' })
    return out
  }

  /** The virtual part of forceClose (inside the lane): our newest state, or Ingrid's final one / version 0. */
  private async registerOwn(r: VirtualRecord, out: Receipt[]): Promise<void> {
    const ctx = this.ctx
    const d = await ctx.client.dispute(r.vid)
    if (!isFinalOutcome(d, ctx.l1.head().height)) {
      if (r.role === 'ingrid') {
        if (r.final !== undefined) out.push(await ctx.client.conclude(r.params, r.final))
        else if (d === undefined) {
          if (BigInt(ctx.l1.head().height) < r.params.validity)
            throw new VirtualError('STATE', 'channelId', `Ingrid may register the virtual channel from height ${r.params.validity} on`)
          out.push(await ctx.client.register(r.params, undefined))
        }
      } else {
        const mine = r.status === 'active' || r.status === 'settling' || r.status === 'disputed' ? this.newest(r) : undefined
        const version = mine?.state.version ?? 0n
        if (d === undefined || d.version < version) out.push(await ctx.client.register(r.params, version === 0n ? undefined : mine, r.activation))
      }
    }
  }

  /**
   * Finalizes our disputed ledger(s) and resolves their virtual locks by the
   * outcome; throws STATE naming what still waits (a window still open).
   */
  async finalize(vid: Uint8Array): Promise<Receipt[]> {
    const ctx = this.ctx
    const r = ctx.records.require(vid)
    const out: Receipt[] = []
    const height = ctx.l1.head().height
    const d: VirtualDispute | undefined = await ctx.client.dispute(r.vid)
    let left = 0
    for (const side of sidesOfRole(r.role)) {
      const ledgerId = ledgerOf(r.params, side)
      let info = await ctx.channel.onChain(ledgerId).catch(() => undefined)
      if (info?.phase === 'disputed') {
        if (info.dispute !== undefined && height <= info.dispute.deadline) {
          left++
          continue
        }
        // Another party (Ingrid's node, the peer) may finalize it first: then the ledger is closed, which is all we wanted.
        const done = await ctx.channel.finalize({ channelId: ledgerId }).catch(async (err: unknown) => {
          if ((await ctx.channel.onChain(ledgerId))?.phase !== 'closed') throw err
          return undefined
        })
        if (done !== undefined) out.push(done)
        info = await ctx.channel.onChain(ledgerId)
      }
      if (info?.phase !== 'closed') {
        // Still open on L1: done only if the lock left it off chain.
        const latest = latestOf(ctx.channel, ledgerId)
        if (latest === undefined || holdsLock(latest.state, r.vid)) left++
        continue
      }
      const stored = await ctx.l1.read<unknown>(ctx.client.contract.address, 'locked', [ledgerId, r.vid])
      if (stored === undefined) continue
      if (!isFinalOutcome(d, height)) {
        left++
        continue
      }
      // Likewise the kept lock: anyone may resolve it (the money goes to the ledger's parties either way).
      const paid = await ctx.client.resolve(ledgerId, r.params).catch(async (err: unknown) => {
        if ((await ctx.l1.read<unknown>(ctx.client.contract.address, 'locked', [ledgerId, r.vid])) !== undefined) throw err
        return undefined
      })
      if (paid !== undefined) out.push(paid)
    }
    if (left > 0) throw new VirtualError('STATE', 'channelId', `${left} ledger lock(s) of this virtual channel still wait for a dispute window or an outcome`)
    const cur = ctx.records.get(r.vid) as VirtualRecord
    if (cur.status !== 'closed') {
      ctx.records.update(cur, { status: 'closed' })
      if (cur.role !== 'ingrid' && hasChannel(ctx.channel, cur.vid)) ctx.channel.settled({ channelId: cur.vid })
    }
    return out
  }
}
