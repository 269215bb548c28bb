/**
 * Differential property: for random voucher sequences (any lane, stale or
 * skipped nonces, lower or higher amounts, random merges, the wrong signer),
 * the manager's voucherAdd verdict equals the contract's verdict on the same
 * voucher, code for code, and their views of the channel stay identical.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { PaychError, PaychManager } from '../src/index.ts'
import { channelInfo, lanes, makeWorld, openChannel, plain, revertCode } from './helpers.ts'

// Mostly well-formed vouchers (so state builds up), with every kind of fault mixed in.
const stepArb = fc.record({
  lane: fc.integer({ min: 0, max: 3 }),
  nonceDelta: fc.constantFrom(1, 1, 1, 2, 0, -1),
  amountDelta: fc.oneof({ weight: 4, arbitrary: fc.bigInt({ min: 1n, max: 300n }) }, { weight: 1, arbitrary: fc.bigInt({ min: -50n, max: 0n }) }),
  merges: fc.oneof(
    { weight: 3, arbitrary: fc.constant([] as Array<{ lane: number; nonceDelta: number }>) },
    {
      weight: 1,
      arbitrary: fc.array(fc.record({ lane: fc.integer({ min: 0, max: 4 }), nonceDelta: fc.constantFrom(1, 1, 0) }), { minLength: 1, maxLength: 2 }),
    },
  ) as fc.Arbitrary<Array<{ lane: number; nonceDelta: number }>>,
  signer: fc.constantFrom('payer', 'payer', 'payer', 'payer', 'payer', 'payee' as const),
})

test('property: manager and contract agree on every voucher', async () => {
  await fc.assert(
    fc.asyncProperty(fc.bigInt({ min: 0n, max: 3000n }), fc.array(stepArb, { minLength: 1, maxLength: 20 }), async (funds, steps) => {
      const w = makeWorld()
      const ch = await openChannel(w, funds)
      const payee = await PaychManager.open({ l1: w.l1, wallet: w.payee, contract: w.contract })
      for (const s of steps) {
        const [cur] = lanes(w, ch, [s.lane])
        const nonce = (cur?.nonce ?? 0n) + BigInt(s.nonceDelta)
        const amount = (cur?.redeemed ?? 0n) + s.amountDelta
        if (nonce < 0n || amount < 0n) continue
        const mergeStates = lanes(w, ch, s.merges.map((m) => m.lane))
        const merges = s.merges.map((m, i) => ({ lane: m.lane, nonce: (mergeStates[i]?.nonce ?? 0n) + BigInt(m.nonceDelta) }))
        const signer = s.signer === 'payer' ? w.payer.signer : w.payee.signer
        const v = plain(signer, w, ch, s.lane, nonce, amount, { merges })
        let managerCode = 'OK'
        try {
          await payee.voucherAdd(ch, v)
        } catch (err) {
          if (!(err instanceof PaychError)) throw err
          managerCode = err.code
        }
        const r = await w.payee.call(w.contract, { type: 'update', voucher: v, secret: undefined }, { gasLimit: 600_000n })
        const chainCode = r.status === 'success' ? 'OK' : (revertCode(r) ?? r.revertReason)
        assert.equal(managerCode, chainCode)
        const st = await payee.status(ch)
        assert.equal(st.voucherRedeemedAmount, channelInfo(w, ch).toSend)
      }
      payee.close()
    }),
    { numRuns: 40 },
  )
})
