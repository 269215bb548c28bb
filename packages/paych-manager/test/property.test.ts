/**
 * Conservation over random voucher / top-up / settle / collect sequences
 * (fast-check): after every step, payer + payee + stranger + contract balances
 * + burnt gas equal what was minted; the contract holds exactly the open
 * channels' balances; toSend never exceeds a channel's balance and matches a
 * model of the lanes; and at collect each side gets exactly its share.
 * Random funding sequences with clean restarts and a kill at a random store
 * write or L1 send: every acknowledged amount reaches L1 exactly once, the
 * chain holds what the store promised, payer spent = channel funds + gas.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import type { Address } from '@l2bench/core'
import fc from 'fast-check'
import type { Receipt } from '@l2bench/l1-mock'
import { type LaneState, PaychManager, isPaychError } from '../src/index.ts'
import {
  CrashError,
  CrashPlan,
  channelInfo,
  checkFundingAfterRestart,
  makeWorld,
  openChannel,
  openCrashing,
  plain,
  revertCode,
  turns,
} from './helpers.ts'

type Op =
  | { kind: 'voucher'; lane: number; bump: bigint; nonceSkip: number; stale: boolean; by: 'payee' | 'payer' }
  | { kind: 'topUp'; amount: bigint }
  | { kind: 'settle'; by: 'payee' | 'payer' }
  | { kind: 'mine'; blocks: number }
  | { kind: 'collect' }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('voucher' as const),
      lane: fc.integer({ min: 0, max: 3 }),
      bump: fc.bigInt({ min: 0n, max: 400n }),
      nonceSkip: fc.integer({ min: 0, max: 2 }),
      stale: fc.boolean(),
      by: fc.constantFrom('payee' as const, 'payer' as const),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('topUp' as const), amount: fc.bigInt({ min: 0n, max: 500n }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('settle' as const), by: fc.constantFrom('payee' as const, 'payer' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('mine' as const), blocks: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('collect' as const) }) },
)

test('property: money is conserved and toSend follows the lanes over random contract sequences', async () => {
  await fc.assert(
    fc.asyncProperty(fc.bigInt({ min: 0n, max: 1000n }), fc.array(opArb, { minLength: 1, maxLength: 25 }), async (funds, ops) => {
      const w = makeWorld({ settleDelay: 10 })
      const ch = await openChannel(w, funds)
      const model = new Map<number, LaneState>()
      let balance = funds
      let toSend = 0n
      let closed = false
      const start = { payer: w.l1.balanceOf(w.payer.address), payee: w.l1.balanceOf(w.payee.address) }
      const fees = { payer: 0n, payee: 0n }
      let paidOut = { toTo: 0n, toFrom: 0n }
      const wallets = { payer: w.payer, payee: w.payee }
      const track = (who: 'payer' | 'payee', r: Receipt) => {
        fees[who] += r.fee
        return r
      }
      for (const op of ops) {
        if (op.kind === 'voucher') {
          const lane = model.get(op.lane)
          const nonce = op.stale ? (lane?.nonce ?? 0n) : (lane?.nonce ?? 0n) + 1n + BigInt(op.nonceSkip)
          const amount = (lane?.redeemed ?? 0n) + op.bump
          const v = plain(w.payer.signer, w, ch, op.lane, nonce, amount)
          const r = track(op.by, await wallets[op.by].call(w.contract, { type: 'update', voucher: v, secret: undefined }, { gasLimit: 400_000n }))
          const info = channelInfo(w, ch)
          const shouldPass: boolean =
            !closed &&
            (info.settlingAt === 0 || r.height < info.settlingAt) &&
            nonce > (lane?.nonce ?? 0n) &&
            (lane === undefined || amount > lane.redeemed) &&
            toSend + (amount - (lane?.redeemed ?? 0n)) <= balance
          assert.equal(r.status === 'success', shouldPass, `${r.revertReason ?? 'success'} for ${JSON.stringify(op, (_k, x) => (typeof x === 'bigint' ? `${x}` : x))}`)
          if (r.status === 'success') {
            toSend += amount - (lane?.redeemed ?? 0n)
            model.set(op.lane, { nonce, redeemed: amount })
          }
        } else if (op.kind === 'topUp') {
          const r = track('payer', await w.payer.call(w.contract, { type: 'addFunds', channel: ch }, { value: op.amount, gasLimit: 200_000n }))
          if (r.status === 'success') balance += op.amount
          else assert.ok(['ZERO_AMOUNT', 'SETTLING_FINISHED', 'CHANNEL_CLOSED'].includes(revertCode(r) ?? ''), r.revertReason)
        } else if (op.kind === 'settle') {
          track(op.by, await wallets[op.by].call(w.contract, { type: 'settle', channel: ch }, { gasLimit: 200_000n }))
        } else if (op.kind === 'mine') {
          w.l1.mine(op.blocks)
        } else {
          const r = track('payee', await w.payee.call(w.contract, { type: 'collect', channel: ch }, { gasLimit: 200_000n }))
          if (r.status === 'success') {
            closed = true
            paidOut = r.result as { toTo: bigint; toFrom: bigint }
            assert.deepEqual(paidOut, { toTo: toSend, toFrom: balance - toSend })
          }
        }
        const info = channelInfo(w, ch)
        assert.equal(w.l1.totalBalances() + w.l1.totalBurnt(), w.l1.totalMinted())
        assert.equal(w.l1.balanceOf(w.contract.address), closed ? 0n : balance)
        assert.equal(info.balance, closed ? 0n : balance)
        assert.equal(info.toSend, closed ? 0n : toSend)
        assert.ok(info.toSend <= info.balance)
      }
      assert.equal(w.l1.balanceOf(w.payee.address), start.payee - fees.payee + paidOut.toTo)
      assert.equal(w.l1.balanceOf(w.payer.address), start.payer - fees.payer - (balance - funds) + paidOut.toFrom)
    }),
    { numRuns: 60 },
  )
})

test('property: random manager voucher sequences never spend above the channel, and the payee agrees on the total', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.bigInt({ min: 1n, max: 10_000n }),
      fc.array(fc.record({ lane: fc.integer({ min: 0, max: 4 }), bump: fc.bigInt({ min: 1n, max: 900n }), reserve: fc.bigInt({ min: 0n, max: 300n }) }), {
        minLength: 1,
        maxLength: 40,
      }),
      async (funds, steps) => {
        const w = makeWorld()
        const payer = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract })
        const payee = await PaychManager.open({ l1: w.l1, wallet: w.payee, contract: w.contract })
        const { channel, messageId } = await payer.create(w.payer.address, w.payee.address, funds)
        await payer.waitForMessage(messageId)
        const lanes = new Map<number, bigint>()
        let spent = 0n
        for (const s of steps) {
          if (s.reserve > 0n) {
            const hash = await payer.reserveFunds(channel, s.reserve)
            if (hash !== undefined) await payer.waitForMessage(hash)
          }
          const target = (lanes.get(s.lane) ?? 0n) + s.bump
          const r = await payer.voucherCreate(channel, target, s.lane, { fromReserved: true })
          const st = await payer.status(channel)
          if (r.voucher !== undefined) {
            assert.equal(await payee.voucherAdd(channel, r.voucher), s.bump)
            lanes.set(s.lane, target)
            spent += s.bump
          } else {
            assert.equal(r.shortfall, spent + s.bump - (st.confirmedAmount - st.reservedAmount + minBig(s.bump, st.reservedAmount)))
          }
          assert.ok(spent <= st.confirmedAmount)
          assert.equal(st.voucherRedeemedAmount, spent)
          if (st.reservedAmount > 0n) await payer.releaseFunds(channel, st.reservedAmount / 2n + 1n)
        }
        assert.equal((await payee.status(channel)).voucherRedeemedAmount, spent)
        assert.equal(channelInfo(w, channel).balance, (await payer.status(channel)).confirmedAmount)
        payer.close()
        payee.close()
      },
    ),
    { numRuns: 25 },
  )
})

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}

type FundingOp = { kind: 'create' } | { kind: 'add'; channel: number } | { kind: 'mine' } | { kind: 'restart' }

const fundingOpArb: fc.Arbitrary<FundingOp> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: 'create' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('add' as const), channel: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'mine' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
)

test('property: random funding with restarts and a kill at a random point — every acknowledged amount reaches L1 exactly once, and payer spent = channel funds + gas', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paych-prop-'))
  let runs = 0
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(fundingOpArb, { minLength: 1, maxLength: 14 }), fc.integer({ min: 0, max: 80 }), async (ops, crashAt) => {
        const w = makeWorld({ autoMine: false, seed: `prop-${runs}` })
        const path = join(dir, `p${runs++}.sqlite`)
        const plan = new CrashPlan(crashAt === 0 ? Number.POSITIVE_INFINITY : crashAt)
        const payerStart = w.l1.balanceOf(w.payer.address)
        let m = await openCrashing(w, w.payer, path, plan)
        const channels: Address[] = []
        const acked = new Set<bigint>()
        let next = 1n
        const ignoreStop = (err: unknown) => {
          if (!(err instanceof CrashError || isPaychError(err, 'MANAGER_CLOSED') || plan.crashed)) throw err
        }
        for (const op of ops) {
          if (plan.crashed) break
          if (op.kind === 'create') {
            const amount = next
            next *= 16n
            try {
              channels.push((await m.create(w.payer.address, w.payee.address, amount)).channel)
              acked.add(amount)
            } catch (err) {
              ignoreStop(err)
            }
          } else if (op.kind === 'add') {
            const channel = channels[op.channel % Math.max(channels.length, 1)]
            if (channel === undefined) continue
            const amount = next
            next *= 16n
            m.addFunds(channel, amount).then(() => acked.add(amount), ignoreStop)
            await turns(2)
          } else if (op.kind === 'mine') {
            w.l1.mine()
            await turns()
          } else {
            m.close() // a clean restart: queued callers are told MANAGER_CLOSED, their funds go out after it
            m = await openCrashing(w, w.payer, path, plan)
          }
        }
        await turns()
        m.close()
        await checkFundingAfterRestart(w, path, acked, payerStart, `ops ${JSON.stringify(ops)}, kill at ${crashAt}`)
      }),
      { numRuns: 40 },
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
