import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { SqliteStore } from '@l2bench/paych-manager'
import { PAYCH_COMMITS_PER_PAYMENT } from '../src/designs/paych.ts'
import { HarnessWorld, KeyRing, PaychDesign, designOptions, generateWorkload, parseScenario, runDesign } from '../src/index.ts'
import { toProgress } from '../src/progress.ts'

const keys = new KeyRing()

test('voucher channels conserve funds: after settle and collect, balances = genesis ± payments − fees', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 2, max: 5 }), fc.integer({ min: 1, max: 30 }), async (seed, users, payments) => {
      const s = parseScenario({ name: 'v', seed, users, payments, designOptions: { paych: { store: 'memory', settleDelay: 5 } } })
      const r = await runDesign(new PaychDesign(), generateWorkload(s), { keys })
      assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
      assert.equal(r.succeeded, payments, JSON.stringify(r.failureReasons))
      assert.equal(r.l1.byPhase.payments.txs, 0, 'vouchers touch no L1 until settlement')
      // Every direction that paid redeems its best voucher once, at settlement.
      const directions = new Set(generateWorkload(s).payments.map((p) => `${p.from}>${p.to}`)).size
      assert.equal(r.l1.byOperation['Paych.update']?.txs, directions)
    }),
    { numRuns: 6 },
  )
})

test('voucher channels with a fixed deposit refuse vouchers past the funds, with a reason; SQLite store', async () => {
  const s = parseScenario({
    name: 'vcap',
    users: 2,
    payments: 25,
    pairs: { count: 1, direction: 'forward' },
    amounts: { kind: 'fixed', value: '0.01 eth' },
    capital: { channelDeposit: '0.1 eth' },
    designOptions: { paych: { settleDelay: 3 } },
  })
  const r = await runDesign(new PaychDesign(), generateWorkload(s), { keys })
  assert.equal(r.succeeded, 10)
  assert.equal(r.failureReasons.INSUFFICIENT_CHANNEL_FUNDS, 15)
  assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
})

test('bad design options name their key path', async () => {
  // Rejected when the scenario loads, before any design runs.
  assert.throws(
    () => parseScenario({ name: 'bad', users: 2, payments: 1, designOptions: { paych: { settleDelay: 0 } } }),
    (e: Error & { field?: string }) => e.field === 'designOptions.paych.settleDelay',
  )
  // A scenario object built in code (not loaded) is checked again when the design reads its options.
  assert.throws(
    () => designOptions({ designOptions: { paych: { settleDelay: 0 } } }, 'paych'),
    (e: Error & { field?: string }) => e.field === 'designOptions.paych.settleDelay',
  )
})

test('durable by default: SQLite synchronous=FULL, stated in the result; one voucher = the bound’s 2 commits (payer and payee)', async () => {
  const s = parseScenario({ name: 'vdur', users: 4, payments: 12, pairs: { count: 2 }, designOptions: { paych: { settleDelay: 3 } } })
  assert.equal(designOptions(s, 'paych').synchronous, 'FULL')
  const w = generateWorkload(s)
  const world = new HarnessWorld(s, w, 'paych', keys, toProgress(undefined))
  const d = new PaychDesign()
  await d.setup(world)
  const proto = SqliteStore.prototype as { transaction: <T>(fn: () => T) => T }
  const original = proto.transaction
  let commits = 0
  proto.transaction = function <T>(this: unknown, fn: () => T): T {
    commits++
    return original.call(this, fn) as T
  }
  try {
    for (const p of w.payments) assert.equal((await d.pay(p)).ok, true)
  } finally {
    proto.transaction = original
  }
  assert.equal(commits, PAYCH_COMMITS_PER_PAYMENT * w.payments.length)
  const store = d.store()
  assert.deepEqual([store.kind, store.synchronous], ['sqlite', 'FULL'])
  const inputs = d.capacityInputs()
  assert.equal(inputs.model, 'channels')
  await d.settle()
})

test('payments queued on a lane are paid by one voucher for their sum, each with its own result; one that does not fit fails alone', async () => {
  const raw = {
    name: 'vmerge',
    users: 2,
    payments: 30,
    pairs: { count: 1, direction: 'forward' },
    amounts: { kind: 'fixed', value: '0.01 eth' },
    capital: { channelDeposit: '0.25 eth' },
    designOptions: { paych: { store: 'memory', settleDelay: 5 } },
  }
  const s = parseScenario(raw)
  const w = generateWorkload(s)
  const world = new HarnessWorld(s, w, 'paych', keys, toProgress(undefined))
  const d = new PaychDesign()
  await d.setup(world)
  // All at once (the runner pays one at a time): the first voucher goes alone, the rest queue behind it.
  const results = await Promise.all(w.payments.map((p) => d.pay(p)))
  // 25 fit the 0.25 ETH channel; the merged sum of the queued ones does not, so they went one by one and only the overflow failed.
  assert.equal(results.filter((r) => r.ok).length, 25)
  assert.ok(results.filter((r) => !r.ok).every((r) => r.reason === 'INSUFFICIENT_CHANNEL_FUNDS'))
  const m = d.mergeSummary()
  // The first voucher alone, then the 29 queued: their sum does not fit, so one by one — 24 more fit.
  assert.deepEqual(m, { vouchers: 25, merged: 0, mergedPayments: 0 })
  await d.settle()
  assert.ok(world.notes.some((n) => /Merged vouchers/.test(n)))

  // Within the funds: merged vouchers carry the queued payments.
  const s2 = parseScenario({ ...raw, name: 'vmerge2', capital: { channelDeposit: '1 eth' } })
  const w2 = generateWorkload(s2)
  const world2 = new HarnessWorld(s2, w2, 'paych', keys, toProgress(undefined))
  const d2 = new PaychDesign()
  await d2.setup(world2)
  const all = await Promise.all(w2.payments.map((p) => d2.pay(p)))
  assert.ok(all.every((r) => r.ok))
  const m2 = d2.mergeSummary()
  assert.ok(m2.merged > 0 && m2.vouchers < 30, JSON.stringify(m2))
  assert.equal(m2.mergedPayments + (m2.vouchers - m2.merged), 30, 'every payment in exactly one voucher')
  await d2.settle()
  assert.ok(world2.notes.some((n) => new RegExp(`${m2.mergedPayments} payments rode in ${m2.merged} merged vouchers`).test(n)), world2.notes.join('\n'))
})
