/**
 * ATTACKS 39 (issue 11 items 17–18): chain messages are written ahead — signed,
 * stored with their hash, then sent — so a kill anywhere neither forgets a
 * message nor sends an amount twice, and the nonces after a restart account
 * for the messages still pending.
 *
 * Instrumentation (helpers.ts CrashPlan): every store write and every L1 send
 * (before it reaches the L1 and after) is a numbered point; a clean run counts
 * them, then the workload is run again once per point with the process killed
 * there. The manager is reopened over the same SQLite file with a NEW Wallet
 * object (it knows no nonces), the chain is mined until nothing is pending, and:
 *  - every amount reaches L1 at most once (amounts are distinct powers of 16,
 *    so a base-16 digit of 2 would be a double send);
 *  - every request that was acknowledged before the kill reached L1;
 *  - what reached L1 equals what the reopened manager had durably promised
 *    (confirmed + pending + queued), and every channel the payer created on
 *    chain is tracked by it with matching confirmed funds;
 *  - the reopened manager met no error (no NONCE_PENDING / NONCE_TOO_LOW);
 *  - money is conserved: payer spent = channel balances + burnt gas.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import type { Address } from '@l2bench/core'
import { PaychManager, type SignedVoucher, } from '../src/index.ts'
import { CrashError, CrashPlan, type World, channelInfo, checkFundingAfterRestart, makeWorld, openCrashing, reopen, settleAll, turns } from './helpers.ts'

const dir = mkdtempSync(join(tmpdir(), 'paych-crash-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let files = 0

const AMOUNT = { createA: 1n, add1: 16n, add2: 256n, add3: 4096n, createB: 65536n } as const
type Request = keyof typeof AMOUNT

/**
 * The funding workload (manual mining): create A; two add-funds queued behind
 * it (merged into one message when it lands); a second create while that
 * merged message is pending; a third add-funds queued behind the merged one.
 * Returns the requests acknowledged before the kill.
 */
async function fundingWorkload(m: PaychManager, w: World, plan: CrashPlan): Promise<Set<Request>> {
  const acked = new Set<Request>()
  const track = (name: Request, p: Promise<unknown>) => {
    p.then(
      () => acked.add(name),
      (err: unknown) => {
        if (!(err instanceof CrashError) && !plan.crashed) throw err
      },
    )
  }
  const created = async (name: Request): Promise<Address | undefined> => {
    try {
      const { channel } = await m.create(w.payer.address, w.payee.address, AMOUNT[name])
      acked.add(name)
      return channel
    } catch (err) {
      if (err instanceof CrashError || plan.crashed) return undefined
      throw err
    }
  }
  const a = await created('createA')
  if (a === undefined) return acked
  track('add1', m.addFunds(a, AMOUNT.add1))
  track('add2', m.addFunds(a, AMOUNT.add2))
  await turns()
  if (plan.crashed) return acked
  w.l1.mine() // create A lands; the merged add-funds goes out
  await turns()
  if (plan.crashed) return acked
  if ((await created('createB')) === undefined) return acked
  track('add3', m.addFunds(a, AMOUNT.add3))
  await turns()
  if (plan.crashed) return acked
  w.l1.mine() // merged add-funds and create B land; add3 goes out
  await turns()
  if (plan.crashed) return acked
  w.l1.mine()
  await turns()
  return acked
}

async function fundingRun(crashAt: number): Promise<{ points: number; crashed: boolean }> {
  const w = makeWorld({ autoMine: false, seed: `crash-${crashAt}` })
  const path = join(dir, `f${files++}.sqlite`)
  const plan = new CrashPlan(crashAt)
  const payerStart = w.l1.balanceOf(w.payer.address)
  const m1 = await openCrashing(w, w.payer, path, plan)
  const acked = await fundingWorkload(m1, w, plan)
  m1.close()
  const where = `crash at point ${crashAt}/${plan.log.length}: ${plan.log.at(-1)} (acked: ${[...acked].join(', ')})`
  await checkFundingAfterRestart(w, path, [...acked].map((r) => AMOUNT[r]), payerStart, where)
  return { points: plan.points, crashed: plan.crashed }
}

test('a kill at any store write or L1 send while funding: no amount lost or sent twice, nonces right after restart', async () => {
  const clean = await fundingRun(Number.POSITIVE_INFINITY)
  assert.equal(clean.crashed, false)
  assert.ok(clean.points >= 12, `the workload has ${clean.points} crash points`)
  for (let k = 1; k <= clean.points; k++) {
    const r = await fundingRun(k)
    assert.ok(r.crashed, `point ${k} was reached`)
  }
})

/**
 * The payee's side: vouchers added, one redeemed by hand, then the payer
 * settles and the settler redeems the best voucher of each lane. Killed at
 * every point and reopened: every voucher the reopened manager holds is
 * redeemed (its lane's best), no redemption is sent twice (a second one
 * would revert and burn gas: the payee's nonce counts only successful
 * updates and the collect), and the collect pays exactly toSend.
 */
async function payeeRun(crashAt: number): Promise<{ points: number; crashed: boolean }> {
  const w = makeWorld({ autoMine: false, settleDelay: 20, seed: `payee-${crashAt}` })
  const path = join(dir, `p${files++}.sqlite`)
  const plan = new CrashPlan(crashAt)
  const payer = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract })
  const { channel } = await payer.create(w.payer.address, w.payee.address, 1000n)
  w.l1.mine()
  await payer.idle()
  const made: SignedVoucher[] = []
  for (const [lane, amount] of [
    [0, 10n],
    [0, 30n],
    [1, 5n],
    [0, 60n],
    [1, 25n],
  ] as const)
    made.push((await payer.voucherCreate(channel, amount, lane)).voucher as SignedVoucher)
  const payeeStart = w.l1.balanceOf(w.payee.address)
  const m1 = await openCrashing(w, w.payee, path, plan)
  // The chain stops too when the process dies, so messages it had sent are still pending at the restart.
  const mine = async () => {
    if (plan.crashed) throw new CrashError('dead')
    w.l1.mine()
    await turns()
  }
  const run = async () => {
    for (const v of made) await m1.voucherAdd(channel, v)
    await m1.voucherSubmit(channel, made[0] as SignedVoucher)
    await mine()
    await payer.settle(channel)
    await mine() // Settle event: the settler submits lane 0's 60 and lane 1's 25
    await mine()
  }
  try {
    await run()
  } catch (err) {
    if (!(err instanceof CrashError) && !plan.crashed) throw err
  }
  m1.close()
  const m2 = await reopen(w, w.payee, path)
  await settleAll(w.l1, [m2, payer])
  if (channelInfo(w, channel).settlingAt === 0) {
    await payer.settle(channel) // the kill came before the payer's settle
    await settleAll(w.l1, [m2, payer])
  }
  const where = `crash at point ${crashAt}/${plan.log.length}: ${plan.log.at(-1)}`
  const held = await m2.voucherList(channel).catch(() => [] as SignedVoucher[])
  const best = new Map<number, bigint>()
  for (const v of held) best.set(v.lane, v.amount > (best.get(v.lane) ?? 0n) ? v.amount : (best.get(v.lane) ?? 0n))
  const expected = [...best.values()].reduce((a, b) => a + b, 0n)
  const info = channelInfo(w, channel)
  assert.equal(info.toSend, expected, `toSend ${info.toSend}, the payee's best vouchers ${expected} (${where})`)
  w.l1.advanceTo(info.settlingAt)
  const collected = await m2.collect(channel)
  w.l1.mine()
  assert.equal((await m2.waitForMessage(collected))?.status, 'success', where)
  const updates = w.l1.events({ address: w.contract.address, name: 'Update' }).length
  assert.equal(w.l1.nonceOf(w.payee.address), BigInt(updates + 1), `a payee message reverted (${where})`)
  const burnt = w.l1.totalBurnt() - payerBurnt(w)
  assert.equal(w.l1.balanceOf(w.payee.address), payeeStart + expected - burnt, where)
  assert.deepEqual(m2.backgroundErrors.map(String), [], where)
  m2.close()
  payer.close()
  return { points: plan.points, crashed: plan.crashed }
}

/** Gas the payer burnt (its create and settle). */
function payerBurnt(w: World): bigint {
  let sum = 0n
  for (const name of ['Create', 'Settle'])
    for (const e of w.l1.events({ address: w.contract.address, name })) sum += w.l1.receiptSync(e.txHash)?.fee ?? 0n
  return sum
}

test('a kill at any store write or L1 send while redeeming: every held voucher redeemed once, none twice', async () => {
  const clean = await payeeRun(Number.POSITIVE_INFINITY)
  assert.equal(clean.crashed, false)
  assert.ok(clean.points >= 12, `the workload has ${clean.points} crash points`)
  for (let k = 1; k <= clean.points; k++) assert.ok((await payeeRun(k)).crashed, `point ${k} was reached`)
})
