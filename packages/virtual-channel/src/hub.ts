/**
 * Ingrid's part: she is in neither virtual channel update, only in its
 * funding and its settlement, and whatever Alice and Bob do, her balances
 * across the two ledgers net to zero.
 *
 * Fund (Alice's `fund`, with both signatures on version 0): checks she is
 * the intermediary, both ledgers are her open channels with Alice and Bob
 * under the keys given, the collateral x_A + x_B within her limit, every
 * share within the balance it comes from, the validity not too far, both
 * signatures; saves (funding); proposes the lock on both ledgers (each an
 * ordinary update her peer checks). Once both ledgers hold their lock she
 * signs the activation, saves (active), sends it to both. If a lock fails,
 * she saves (aborted) and unlocks whatever was locked by the deposits:
 * without her activation no state past version 0 counts on L1, so a lock
 * in one ledger alone never costs her anything.
 *
 * Settle (a final state signed by Alice and Bob, from either): checks it
 * (final, this channel, conserves, both signatures, the same final as any
 * before — a different final is a CONFLICT), saves it (settling), then
 * proposes the unlock by it on both ledgers; when neither holds the lock:
 * closed, `settled` to both. If a ledger's unlock never completes, the one
 * she did unlock is paid by that final state, so she concludes it on L1
 * (onchain.ts) and the other lock resolves by it too.
 *
 * All of it is state-driven (`progress`): on restart, on every signed
 * ledger state and on every tick, she compares the record with both
 * ledgers and proposes what is missing (at most one request per ledger and
 * kind in flight; a request whose work is already done ends quietly).
 */
import { type Address, SignatureError, bytesEqual } from '@l2bench/core'
import type { SignedState } from '@l2bench/payment-channel'
import { type VirtualDispute, isFinalOutcome } from './adjudicator.ts'
import { stateDigest } from '@l2bench/payment-channel'
import { type VirtualContext, finalWhenRead, hex, ledgerBalances, ledgerWith, peerKeyIn, readOutcome } from './context.ts'
import { VirtualError } from './errors.ts'
import { checkDomain, checkWindow } from './party.ts'
import { holdsLock } from './policy.ts'
import { type Side, activationDigest, checkParams, checkVirtualState, domainOf, initialDigest, ledgerOf, lockFor, totalOf, virtualId, withLock, withoutLock } from './params.ts'
import type { VirtualRecord } from './store.ts'
import type { VirtualMessage } from './wire.ts'

type Kind = 'lock' | 'unlock' | 'abort' | 'outcome'

/** A request whose work was already done when it ran (the lock is there, or gone). */
class AlreadyDone extends Error {}

export class Hub {
  private readonly inFlight = new Set<string>()
  /** Virtual ids found unregistered on L1 before activation. */
  private readonly clearOnL1 = new Set<string>()
  /** When a request last failed (ms): it is not retried before the next tick after `retryMs`. */
  private readonly failedAt = new Map<string, number>()

  constructor(
    private readonly ctx: VirtualContext,
    private readonly retryMs: number,
    /** Pays the lock of a ledger closed on L1 there (onchain.ts `settleOnL1`). */
    private readonly settleOnL1: (vid: Uint8Array) => Promise<void>,
  ) {}

  onFund(from: Address, msg: Extract<VirtualMessage, { type: 'fund' }>): void {
    const ctx = this.ctx
    const p = msg.params
    const vid = virtualId(p)
    const known = ctx.records.get(vid)
    if (known !== undefined) {
      if (known.role !== 'ingrid' || (from !== p.alice && from !== p.bob)) throw new VirtualError('STATE', 'params', 'virtual channel already known')
      if (known.status === 'active' || known.status === 'settling') ctx.send(from, { type: 'active', channelId: vid, sig: known.activation })
      else this.progress(known)
      return
    }
    if (p.ingrid !== ctx.address) throw new VirtualError('NOT_PARTY', 'params.ingrid', 'we are not this virtual channel’s intermediary')
    if (!bytesEqual(p.pkIngrid, ctx.signer.publicKey)) throw new VirtualError('MISMATCH', 'params.pkIngrid', 'not our public key')
    if (from !== p.alice && from !== p.bob) throw new VirtualError('NOT_PARTY', 'sender', 'only Alice or Bob asks to fund their virtual channel')
    checkDomain(ctx, p)
    checkParams(p, 'params')
    checkWindow(ctx, p)
    const l = ctx.limits
    if (totalOf(p) > l.maxCollateral) throw new VirtualError('LIMIT', 'params.deposits', `needs ${totalOf(p)} of our collateral; we lock at most ${l.maxCollateral}`)
    const height = ctx.l1.head().height
    if (p.validity > BigInt(height + l.maxValidity)) throw new VirtualError('LIMIT', 'params.validity', `validity ${p.validity} beyond height ${height + l.maxValidity}`)
    if (p.validity <= BigInt(height)) throw new VirtualError('LIMIT', 'params.validity', `validity ${p.validity} already passed`)
    const ma = ledgerWith(ctx, p.ledgerA, p.alice, 'params.ledgerA')
    const mb = ledgerWith(ctx, p.ledgerB, p.bob, 'params.ledgerB')
    if (!bytesEqual(peerKeyIn(ma), p.pkAlice)) throw new VirtualError('MISMATCH', 'params.pkAlice', 'not the key Alice holds her ledger with')
    if (!bytesEqual(peerKeyIn(mb), p.pkBob)) throw new VirtualError('MISMATCH', 'params.pkBob', 'not the key Bob holds his ledger with')
    // Every share within the balance it is locked from (x_A: Alice in A, us in B; x_B: us in A, Bob in B).
    const a = ledgerBalances(ma)
    const b = ledgerBalances(mb)
    const short = (have: bigint, need: bigint, field: string, whose: string) => {
      if (have < need) throw new VirtualError('INSUFFICIENT_BALANCE', field, `locks ${need} but ${whose} balance is ${have}`)
    }
    short(a.theirs, p.deposits[0], 'params.deposits[0]', 'Alice’s ledger')
    short(b.mine, p.deposits[0], 'params.deposits[0]', 'our ledger B')
    short(a.mine, p.deposits[1], 'params.deposits[1]', 'our ledger A')
    short(b.theirs, p.deposits[1], 'params.deposits[1]', 'Bob’s ledger')
    let pending = 0
    for (const r of ctx.records.all()) if (r.role === 'ingrid' && r.status === 'funding' && (r.params.alice === from || r.params.bob === from)) pending++
    if (pending >= l.maxPendingPerPeer) throw new VirtualError('LIMIT', 'sender', `${pending} virtual channels of this peer still wait for their locks`)
    const digest = initialDigest(p, vid)
    if (!ctx.verifier.verify(msg.sigA, digest, p.pkAlice)) throw new SignatureError('sigA', 'Alice’s signature on version 0 invalid')
    if (!ctx.verifier.verify(msg.sigB, digest, p.pkBob)) throw new SignatureError('sigB', 'Bob’s signature on version 0 invalid')
    this.progress(ctx.records.save({ vid, params: p, role: 'ingrid', status: 'funding', sigs: [msg.sigA, msg.sigB], activation: new Uint8Array(), final: undefined }))
  }

  onSettle(from: Address, msg: Extract<VirtualMessage, { type: 'settle' }>): void {
    const ctx = this.ctx
    const state = msg.state
    const r = ctx.records.require(state.channelId, 'state.channelId')
    if (r.role !== 'ingrid') throw new VirtualError('NOT_PARTY', 'state.channelId', 'we are not this virtual channel’s intermediary')
    const p = r.params
    if (from !== p.alice && from !== p.bob) throw new VirtualError('NOT_PARTY', 'sender', 'only Alice or Bob settles their virtual channel')
    const digest = stateDigest(domainOf(p), state)
    if (r.final !== undefined) {
      if (!bytesEqual(r.final.digest, digest)) throw new VirtualError('CONFLICT', 'state', `settled already by version ${r.final.state.version}; another final state is refused`)
      if (r.status === 'closed') ctx.send(from, { type: 'settled', channelId: r.vid })
      else this.progress(r)
      return
    }
    if (r.status !== 'active') throw new VirtualError('STATE', 'state.channelId', `virtual channel is ${r.status}`)
    if (!state.isFinal) throw new VirtualError('MISMATCH', 'state.isFinal', 'only a final state settles a virtual channel')
    checkVirtualState(p, r.vid, state, 'state')
    if (!ctx.verifier.verify(msg.sigA, digest, p.pkAlice)) throw new SignatureError('sigA', 'Alice’s signature on the final state invalid')
    if (!ctx.verifier.verify(msg.sigB, digest, p.pkBob)) throw new SignatureError('sigB', 'Bob’s signature on the final state invalid')
    const final: SignedState = { state, digest, sigs: [msg.sigA, msg.sigB] }
    // Saved before the first unlock goes out: from now on this is the only final state we pay by.
    this.progress(ctx.records.update(r, { status: 'settling', final }))
  }

  /** Compares a record with both ledgers and proposes what is missing (idempotent). */
  progress(r: VirtualRecord): void {
    const ctx = this.ctx
    if (r.role !== 'ingrid' || ctx.stopped()) return
    const held = (side: Side) => {
      try {
        return holdsLock(ctx.channel.latest(ledgerOf(r.params, side)).state, r.vid)
      } catch {
        return false
      }
    }
    const a = held('a')
    const b = held('b')
    // A ledger closed on L1 (or closing) keeps its lock apart there: no off-chain unlock, the outcome pays it.
    const open = (side: Side) => {
      try {
        return ctx.channel.machine(ledgerOf(r.params, side)).phase === 'open'
      } catch {
        return false
      }
    }
    switch (r.status) {
      case 'funding':
        if (a && b) {
          this.activateIfUnregistered(r)
          return
        }
        if (!a) this.request(r, 'a', 'lock')
        if (!b) this.request(r, 'b', 'lock')
        return
      case 'aborted':
        if (a) this.request(r, 'a', 'abort')
        if (b) this.request(r, 'b', 'abort')
        return
      case 'disputed': {
        // Registered on L1: once its outcome is final, unlock both ledgers off chain by it.
        const d = ctx.outcomes.get(hex(r.vid))
        if (!finalWhenRead(d)) {
          // Read (again) once the deadline passed: a registration read inside its window may have been refuted since.
          if (d === undefined || isFinalOutcome(d, ctx.l1.head().height)) this.refresh(r)
          return
        }
        if (!a && !b) {
          ctx.records.update(r, { status: 'closed' })
          return
        }
        if ((a && !open('a')) || (b && !open('b'))) this.toL1(r)
        if (a && open('a')) this.request(r, 'a', 'outcome')
        if (b && open('b')) this.request(r, 'b', 'outcome')
        return
      }
      case 'settling':
        if (!a && !b) {
          ctx.records.update(r, { status: 'closed' })
          ctx.send(r.params.alice, { type: 'settled', channelId: r.vid })
          ctx.send(r.params.bob, { type: 'settled', channelId: r.vid })
          return
        }
        if ((a && !open('a')) || (b && !open('b'))) this.toL1(r)
        if (a && open('a')) this.request(r, 'a', 'unlock')
        if (b && open('b')) this.request(r, 'b', 'unlock')
        return
      default:
        return
    }
  }

  /**
   * Activates once L1 shows no registration of the parameters: one made
   * before we knew them (Alice or Bob may register any time) would be an
   * outcome Alice's and Bob's payments never reach — they refuse such a
   * channel, and we unlock both ledgers by that outcome (disputed) instead.
   */
  private activateIfUnregistered(r: VirtualRecord): void {
    const key = hex(r.vid)
    if (this.clearOnL1.has(key)) {
      this.activate(r)
      return
    }
    const flight = `${key}:check`
    if (this.inFlight.has(flight)) return
    this.inFlight.add(flight)
    readOutcome(this.ctx, r.vid)
      .then(
        (d) => {
          this.inFlight.delete(flight)
          const cur = this.ctx.records.require(r.vid)
          if (d === undefined) this.clearOnL1.add(key)
          else if (cur.status === 'funding') this.ctx.records.update(cur, { status: 'disputed' })
          if (!this.ctx.stopped()) this.progress(this.ctx.records.require(r.vid))
        },
        (err: unknown) => {
          this.inFlight.delete(flight) // retried on the next tick or ledger state
          this.ctx.record(err)
        },
      )
      .catch((err: unknown) => this.ctx.record(err))
  }

  private activate(r: VirtualRecord): void {
    const sig = this.ctx.signer.sign(activationDigest(r.vid))
    const s = this.ctx.records.update(r, { status: 'active', activation: sig })
    this.ctx.send(s.params.alice, { type: 'active', channelId: s.vid, sig })
    this.ctx.send(s.params.bob, { type: 'active', channelId: s.vid, sig })
  }

  /** One ledger update of `kind` for a side, unless one is in flight or failed recently. */
  private request(r: VirtualRecord, side: Side, kind: Kind): void {
    const ctx = this.ctx
    const key = `${hex(r.vid)}:${side}:${kind}`
    if (this.inFlight.has(key)) return
    const failed = this.failedAt.get(key)
    if (failed !== undefined && ctx.now() - failed < this.retryMs) return
    const ledgerId = ledgerOf(r.params, side)
    const build = (latest: SignedState['state']) => {
      const rec = ctx.records.get(r.vid) as VirtualRecord
      const lock = lockFor(rec.params, side, ctx.channel.machine(ledgerId).params.parties, rec.vid)
      const has = holdsLock(latest, rec.vid)
      if (kind === 'lock') {
        if (has || rec.status !== 'funding') throw new AlreadyDone()
        return withLock(latest, rec.params, lock)
      }
      if (!has) throw new AlreadyDone()
      const onL1 = ctx.outcomes.get(hex(rec.vid))
      const outcome = kind === 'abort' ? rec.params.deposits : kind === 'outcome' ? (onL1 as VirtualDispute).balances : (rec.final as SignedState).state.balances
      return withoutLock(latest, lock, outcome)
    }
    this.inFlight.add(key)
    ctx.channel
      .update(ledgerId, build)
      .then(
        () => this.failedAt.delete(key),
        (err: unknown) => {
          if (err instanceof AlreadyDone || ctx.stopped()) return
          ctx.record(err)
          this.failedAt.set(key, ctx.now())
          const cur = ctx.records.get(r.vid)
          if (kind === 'lock' && cur?.status === 'funding') {
            // Never activated: undo whatever got locked, and tell both.
            ctx.records.update(cur, { status: 'aborted' })
            const code = (err as { code?: string }).code ?? 'FAILED'
            for (const to of [cur.params.alice, cur.params.bob]) ctx.send(to, { type: 'refuse', channelId: cur.vid, code: code.slice(0, 64), field: `lock.${side}` })
          }
        },
      )
      .finally(() => {
        this.inFlight.delete(key)
        const cur = ctx.records.get(r.vid)
        if (cur !== undefined && !ctx.stopped()) this.progress(cur)
      })
      .catch((err: unknown) => ctx.record(err))
  }

  /** A ledger closed on L1 with the lock: conclude and resolve there (at most once per retry period). */
  private toL1(r: VirtualRecord): void {
    const key = `${hex(r.vid)}:l1`
    const last = this.failedAt.get(key)
    if (this.inFlight.has(key) || (last !== undefined && this.ctx.now() - last < this.retryMs)) return
    this.inFlight.add(key)
    this.settleOnL1(r.vid)
      .catch((err: unknown) => this.ctx.record(err))
      .finally(() => {
        this.inFlight.delete(key)
        this.failedAt.set(key, this.ctx.now())
      })
  }

  /** Reads the L1 outcome (at most once per retry period) and progresses once it was final when read. */
  private refresh(r: VirtualRecord): void {
    const key = `${hex(r.vid)}:refresh`
    const last = this.failedAt.get(key)
    if (this.inFlight.has(key) || (last !== undefined && this.ctx.now() - last < this.retryMs)) return
    this.inFlight.add(key)
    readOutcome(this.ctx, r.vid)
      .then((d) => {
        this.inFlight.delete(key)
        if (this.ctx.stopped()) return
        if (d === undefined) this.failedAt.set(key, this.ctx.now())
        else if (finalWhenRead(d)) {
          this.failedAt.delete(key)
          this.progress(this.ctx.records.require(r.vid))
        }
      })
      .catch((err: unknown) => {
        this.inFlight.delete(key)
        this.failedAt.set(key, this.ctx.now())
        this.ctx.record(err)
      })
  }

  /** Every signed state of a ledger of ours: progress the virtual channels it carries. */
  onLedgerSigned(ledgerId: Uint8Array): void {
    for (const r of this.ctx.records.all())
      if (r.role === 'ingrid' && (bytesEqual(r.params.ledgerA, ledgerId) || bytesEqual(r.params.ledgerB, ledgerId))) this.progress(r)
  }

  /** A peer (re)connected: resend the activation or the settlement it may have missed. */
  resend(peer: Address): void {
    for (const r of this.ctx.records.all()) {
      if (r.role !== 'ingrid' || (peer !== r.params.alice && peer !== r.params.bob)) continue
      if (r.status === 'active' || r.status === 'settling') this.ctx.send(peer, { type: 'active', channelId: r.vid, sig: r.activation })
      if (r.status === 'closed') this.ctx.send(peer, { type: 'settled', channelId: r.vid })
      if (r.status === 'aborted') this.ctx.send(peer, { type: 'refuse', channelId: r.vid, code: 'ABORTED', field: 'channelId' })
    }
  }

  /** Re-runs every unfinished record (restart, tick). */
  progressAll(): void {
    for (const r of this.ctx.records.all()) if (r.role === 'ingrid') this.progress(r)
  }
}
