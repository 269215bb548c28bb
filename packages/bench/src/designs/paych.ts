/**
 * Voucher channel adapter (@l2bench/paych-manager, Filecoin-style): one
 * PaychManager per user; one one-way channel per (payer → payee) direction
 * that pays in the workload, created before the payments and funded with
 * that direction's total volume × headroom (vouchers are cumulative per lane
 * and never flow back, so a two-way pair needs two channels funded with their
 * gross, not net, flows).
 *
 * One payment = the payer signs a voucher for the lane's new cumulative
 * amount, it is encoded, decoded and checked by the payee's manager
 * (voucherAdd). The payee can redeem it on L1 at once, so soft latency =
 * final latency = that wall-clock time.
 *
 * Merged vouchers: payments that queue on a lane while its voucher is in
 * flight are paid together by the next voucher, for their cumulative sum (a
 * voucher is cumulative anyway: one signature, one check and one commit per
 * side for all of them, up to VOUCHER_MAX_MERGE); each payment resolves on
 * its own, with its own latency. If the sum does not fit the channel they go
 * one by one, so one that does not fit fails alone with its reason. The
 * runner pays one at a time, so payments queue only when the design is driven
 * concurrently; the report says how many vouchers carried several.
 *
 * Settlement: the payer settles each channel; the payee's settler redeems its
 * best voucher per lane during the settle delay; after it the payee collects.
 *
 * Stores: SQLite, synchronous=FULL by default (the package's default: a
 * voucher is on disk before it is sent or acknowledged). Capacity inputs: the
 * pairs that can pay at once (maximum matching over the users joined by a
 * voucher channel); the probe's bound is one voucher's crypto and commits:
 * noble sign + node:crypto verify + 2 SQLite commits (the payer's voucher,
 * the payee's).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Address, monotonicMs } from '@l2bench/core'
import { MemoryStore, PaychContract, PaychManager, type PaychStore, SqliteStore, decodeVoucher, encodeVoucher } from '@l2bench/paych-manager'
import { composeBound, signVerify, sqliteCommit } from '../bounds.ts'
import type { CapacityInputs, Design, PaymentBound, PaymentResult, World } from '../design.ts'
import { maximumMatching } from '../matching.ts'
import type { StoreJson } from '../results.ts'
import type { Payment } from '../workload.ts'
import { channelStoreJson, turns } from './channel.ts'
import { type PaychOptions, designOptions } from './options.ts'

/** SQLite commits per payment (payer and payee), checked in test/paych-design.test.ts. */
export const PAYCH_COMMITS_PER_PAYMENT = 2
/** Most queued payments one voucher carries. */
export const VOUCHER_MAX_MERGE = 64

/** A payment waiting on its lane for the next voucher. */
interface Queued {
  amount: bigint
  t0: number
  resolve: (r: PaymentResult) => void
}

interface VoucherChannel {
  channel: Address
  from: number
  to: number
  lane: number
  funds: bigint
  /** Cumulative amount of the lane's last voucher. */
  paid: bigint
  /** A voucher of this lane is being made and checked; payments queue behind it. */
  busy: boolean
  queue: Queued[]
}

export class PaychDesign implements Design {
  readonly name = 'paych' as const
  private world!: World
  private options!: PaychOptions
  private contract!: PaychContract
  private readonly managers = new Map<number, PaychManager>()
  private readonly channels = new Map<string, VoucherChannel>()
  private dir: string | undefined
  private locked = 0n
  /** Vouchers made, and those that carried several payments (and how many). */
  private readonly merging = { vouchers: 0, merged: 0, mergedPayments: 0 }

  async setup(world: World): Promise<void> {
    this.world = world
    this.options = designOptions(world.scenario, 'paych')
    this.contract = await world.l1.deploy(new PaychContract({ settleDelay: this.options.settleDelay }))
    if (this.options.store === 'sqlite') this.dir = mkdtempSync(join(tmpdir(), 'l2bench-paych-'))
    world.note(
      `One one-way voucher channel per paying direction, funded with that direction's total volume × headroom (perfect foresight); soft = final latency (a voucher is redeemable at once); store ${this.options.store}${this.options.store === 'sqlite' ? ` (synchronous=${this.options.synchronous})` : ''}; settle delay ${this.options.settleDelay} blocks.`,
    )
    const volume = new Map<string, bigint>()
    for (const p of world.workload.payments) volume.set(`${p.from}>${p.to}`, (volume.get(`${p.from}>${p.to}`) ?? 0n) + p.amount)
    const c = world.scenario.capital
    let n = 0
    for (const [key, total] of [...volume].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const [from, to] = key.split('>').map(Number) as [number, number]
      const funds = c.channelDeposit === 'auto' ? (total * BigInt(Math.round(c.headroom * 1000)) + 999n) / 1000n : c.channelDeposit
      const payer = await this.manager(from)
      await this.manager(to)
      const { channel, messageId } = await payer.create(world.users[from]!.address, world.users[to]!.address, funds)
      await payer.waitForMessage(messageId)
      const lane = await payer.allocateLane(channel)
      this.channels.set(key, { channel, from, to, lane, funds, paid: 0n, busy: false, queue: [] })
      this.locked += funds
      if (++n % 100 === 0) world.progress(`created ${n}/${volume.size} voucher channels`)
    }
  }

  private async manager(user: number): Promise<PaychManager> {
    let m = this.managers.get(user)
    if (m === undefined) {
      const store: PaychStore = this.dir === undefined ? new MemoryStore() : new SqliteStore(join(this.dir, `user-${user}.db`), { synchronous: this.options.synchronous })
      m = await PaychManager.open({ l1: this.world.l1, wallet: this.world.users[user]!.wallet, contract: this.contract, store })
      this.managers.set(user, m)
    }
    return m
  }

  async pay(p: Payment): Promise<PaymentResult> {
    const ch = this.channels.get(`${p.from}>${p.to}`)
    if (ch === undefined) return { ok: false, reason: 'NO_CHANNEL' }
    const done = new Promise<PaymentResult>((resolve) => ch.queue.push({ amount: p.amount, t0: monotonicMs(), resolve }))
    if (!ch.busy) void this.drain(ch)
    return done
  }

  /** Pays the lane's queue: everything waiting (up to VOUCHER_MAX_MERGE) in one voucher, one by one if the sum does not fit. */
  private async drain(ch: VoucherChannel): Promise<void> {
    ch.busy = true
    try {
      while (ch.queue.length > 0) {
        const batch = ch.queue.splice(0, VOUCHER_MAX_MERGE)
        const sum = batch.reduce((t, q) => t + q.amount, 0n)
        const r = await this.voucher(ch, sum)
        if (r.ok || batch.length === 1) {
          if (r.ok) this.count(batch.length)
          for (const q of batch) q.resolve(this.result(r, q))
          continue
        }
        // The sum does not go through: each on its own, so only what does not fit fails.
        for (const q of batch) {
          const one = await this.voucher(ch, q.amount)
          if (one.ok) this.count(1)
          q.resolve(this.result(one, q))
        }
      }
    } finally {
      ch.busy = false
    }
  }

  /** One voucher for `amount` more on the lane: signed by the payer, encoded, decoded and checked by the payee. */
  private async voucher(ch: VoucherChannel, amount: bigint): Promise<{ ok: true } | { ok: false; reason: string }> {
    const payer = this.managers.get(ch.from)!
    const payee = this.managers.get(ch.to)!
    try {
      const { voucher, shortfall } = await payer.voucherCreate(ch.channel, ch.paid + amount, ch.lane)
      if (voucher === undefined) return { ok: false, reason: shortfall > 0n ? 'INSUFFICIENT_CHANNEL_FUNDS' : 'NO_VOUCHER' }
      const wire = encodeVoucher(voucher) // what travels to the payee
      await payee.voucherAdd(ch.channel, decodeVoucher(wire), amount)
      ch.paid += amount
      return { ok: true }
    } catch (err) {
      return { ok: false, reason: (err as { code?: string }).code ?? 'ERROR' }
    }
  }

  private result(r: { ok: true } | { ok: false; reason: string }, q: Queued): PaymentResult {
    const ms = monotonicMs() - q.t0
    return r.ok ? { ok: true, softLatencyMs: ms, finalLatencyMs: ms } : { ok: false, reason: r.reason, softLatencyMs: ms }
  }

  private count(payments: number): void {
    this.merging.vouchers++
    if (payments > 1) {
      this.merging.merged++
      this.merging.mergedPayments += payments
    }
  }

  /** What merging did in this run, for the report. */
  mergeSummary(): { vouchers: number; merged: number; mergedPayments: number } {
    return { ...this.merging }
  }

  async flush(): Promise<void> {}

  async settle(): Promise<void> {
    const m = this.merging
    this.world.note(
      m.merged === 0
        ? `Merged vouchers (payments queued on a lane paid by one voucher for their sum, up to ${VOUCHER_MAX_MERGE}): none in this run — ${m.vouchers} vouchers for ${m.vouchers} payments (the runner pays one at a time, so no payment queued on a lane).`
        : `Merged vouchers (payments queued on a lane paid by one voucher for their sum, up to ${VOUCHER_MAX_MERGE}): ${m.mergedPayments} payments rode in ${m.merged} merged vouchers; ${m.vouchers} vouchers in all.`,
    )
    const l1 = this.world.l1
    let last = 0
    for (const ch of this.channels.values()) {
      const payer = this.managers.get(ch.from)!
      await payer.waitForMessage(await payer.settle(ch.channel))
      await turns()
      last = Math.max(last, (await payer.status(ch.channel)).settlingAt)
    }
    for (const m of this.managers.values()) await m.idle() // payees' settlers redeem their vouchers
    if (last > 0) await l1.advanceTo(last)
    for (const ch of this.channels.values()) {
      const payee = this.managers.get(ch.to)!
      await payee.waitForMessage(await payee.collect(ch.channel))
      this.locked -= ch.funds
    }
    for (const m of this.managers.values()) await m.idle()
    for (const m of this.managers.values()) {
      for (const e of m.backgroundErrors) this.world.note(`paych background error: ${e.message}`)
      m.close()
    }
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true })
  }

  lockedCapital(): bigint {
    return this.locked
  }

  store(): StoreJson {
    return channelStoreJson(this.options, this.dir, 'one database file per manager')
  }

  capacityInputs(): CapacityInputs {
    const edges = [...this.channels.values()].map((c) => [c.from, c.to] as const)
    const m = maximumMatching(edges)
    const perPair = new Map<number, number>()
    for (const p of this.world.workload.payments) perPair.set(p.pair, (perPair.get(p.pair) ?? 0) + 1)
    const hottest = Math.max(0, ...perPair.values())
    return {
      model: 'channels',
      concurrentPairs: {
        value: m.size,
        unit: 'pairs',
        source: 'parameter',
        how: `${m.exact ? 'maximum' : 'greedy (≥ half the maximum)'} matching of the ${m.edges} user pairs joined by voucher channels (${this.channels.size} one-way channels): no party in two payments at once`,
      },
      hottestPairShare: { value: hottest / Math.max(1, this.world.workload.payments.length), unit: 'share of payments', source: 'parameter', how: 'payments of the busiest pair ÷ payments (the workload)' },
    }
  }

  bound(): PaymentBound {
    const sv = { run: signVerify('paych'), times: 1 }
    if (this.dir === undefined) return composeBound('noble sign + node:crypto verify, memory store', [sv])
    const store = new SqliteStore(join(this.dir, 'bound.db'), { synchronous: this.options.synchronous })
    return composeBound(
      `noble sign + node:crypto verify + ${PAYCH_COMMITS_PER_PAYMENT} SQLite ${this.options.synchronous} commits`,
      [sv, { run: sqliteCommit(store.db), times: PAYCH_COMMITS_PER_PAYMENT }],
      () => store.close(),
    )
  }
}
