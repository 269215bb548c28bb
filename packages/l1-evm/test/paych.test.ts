/**
 * The paych contract on both backends: the TypeScript class on the mock and
 * its Solidity port on anvil must accept and reject the same calls with the
 * same codes, return the same results, emit the same events and leave the
 * same state. Every voucher rule case of paych-manager's contract test
 * (test/cases.ts there) runs here against both.
 */
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { type Address, NodeSigner, sha256, secretKeyFromSeed } from '@l2bench/core'
import { type L1, type Receipt, Wallet } from '@l2bench/l1-mock'
import {
  type ChannelInfo,
  type LaneState,
  PaychContract,
  PaychError,
  type PaychErrorCode,
  channelAddressFor,
  encodeVoucher,
  plainVoucher,
  signVoucher,
  type VoucherBody,
} from '@l2bench/paych-manager'
import { type CaseCtx, RULE_CASES } from '../../paych-manager/test/cases.ts'
import type { World as PaychWorld } from '../../paych-manager/test/helpers.ts'
import { type Chain, backends } from '../src/index.ts'

const ETH = 10n ** 18n

interface World {
  chain: Chain
  l1: L1
  contract: PaychContract
  /** settleDelay 20, for the settle/collect test. */
  short: PaychContract
  payer: Wallet
  payee: Wallet
  mallory: Wallet
}

async function make(chain: Chain): Promise<World> {
  const contract = await chain.deploy(new PaychContract())
  const short = await chain.deploy(new PaychContract({ settleDelay: 20 }))
  const wallet = (name: string) => new Wallet(new NodeSigner(secretKeyFromSeed(`evm-paych/${name}`)), chain.l1)
  const payer = wallet('payer')
  const payee = wallet('payee')
  const mallory = wallet('mallory')
  for (const w of [payer, payee, mallory]) await chain.mint(w.address, 1000n * ETH)
  return { chain, l1: chain.l1, contract, short, payer, payee, mallory }
}

function plain(w: World, c: PaychContract, channel: Address, lane: number, nonce: bigint, amount: bigint, extra: Partial<VoucherBody> = {}) {
  return signVoucher(w.payer.signer, { chainId: w.l1.chainId, contract: c.address }, { ...plainVoucher(channel, lane, nonce, amount), ...extra })
}

async function open(w: World, amount: bigint, c = w.contract): Promise<Address> {
  const r = await w.payer.callOk(c, { type: 'create', to: w.payee.address, fromPublicKey: w.payer.signer.publicKey }, { value: amount })
  return r.result as Address
}

async function info(w: World, channel: Address, c = w.contract): Promise<ChannelInfo> {
  const i = await w.l1.read<ChannelInfo | undefined>(c.address, 'channel', [channel])
  assert.ok(i, `channel ${channel} exists`)
  return i
}

const lanes = (w: World, channel: Address, ids: number[]) => w.l1.read<Array<LaneState | undefined>>(w.contract.address, 'lanes', [channel, ids])

function assertReverted(r: Receipt, code: PaychErrorCode): void {
  assert.equal(r.status, 'reverted', `expected revert ${code}`)
  assert.equal(PaychError.fromRevert(r.revertReason)?.code, code, r.revertReason)
}

const NO_SECRET = { secret: undefined }

for (const backend of backends(make)) {
  describe(`Paych on ${backend.name}`, () => {
    after(() => backend.close())

    describe('rejects every bad voucher and changes nothing', () => {
      for (const c of RULE_CASES) {
        test(`${c.name} → ${c.code}`, async () => {
          const w = await backend.world()
          const channel = await open(w, c.funds)
          const other = await open(w, c.funds)
          await w.chain.mine(2) // so a timeLockMax of 1 has passed
          const ctx: CaseCtx = { w: w as unknown as PaychWorld, channel, other, payer: w.payer.signer, payee: w.payee.signer, mallory: w.mallory.signer }
          for (const v of c.prior(ctx)) await w.payee.callOk(w.contract, { type: 'update', voucher: v, ...NO_SECRET })
          const laneIds = [0, 1, 2, 7]
          const before = { info: await info(w, channel), lanes: await lanes(w, channel, laneIds), payer: w.l1.balanceOf(w.payer.address) }
          const held = w.l1.balanceOf(w.contract.address)
          const r = await w.payee.call(w.contract, { type: 'update', voucher: c.bad(ctx), ...NO_SECRET }, { gasLimit: 500_000n })
          assertReverted(r, c.code)
          assert.deepEqual(await info(w, channel), before.info)
          assert.deepEqual(await lanes(w, channel, laneIds), before.lanes)
          assert.equal(w.l1.balanceOf(w.contract.address), held)
          assert.equal(w.l1.balanceOf(w.payer.address), before.payer)
          assert.ok(r.fee > 0n, 'the submitter still pays for the gas it used')
        })
      }
    })

    test('create: address from the tx hash, key must be the sender’s, value becomes the balance', async () => {
      const w = await backend.world()
      const r = await w.payer.callOk(w.contract, { type: 'create', to: w.payee.address, fromPublicKey: w.payer.signer.publicKey }, { value: 7n * ETH })
      assert.equal(r.result, channelAddressFor(w.contract.address, r.txHash))
      const i = await info(w, r.result as Address)
      assert.deepEqual(
        { balance: i.balance, toSend: i.toSend, from: i.from, to: i.to, closed: i.closed, version: i.version, laneCount: i.laneCount },
        { balance: 7n * ETH, toSend: 0n, from: w.payer.address, to: w.payee.address, closed: false, version: 1, laneCount: 0 },
      )
      assert.deepEqual(i.fromKey, w.payer.signer.publicKey)
      assert.equal(w.l1.balanceOf(w.contract.address), 7n * ETH)
      assert.deepEqual(
        r.events.map((e) => [e.name, e.data]),
        [['Create', { channel: r.result, from: w.payer.address, to: w.payee.address, amount: 7n * ETH }]],
      )
      const create = { type: 'create', to: w.payee.address, fromPublicKey: w.payer.signer.publicKey } as const
      assertReverted(await w.mallory.call(w.contract, create, { value: 1n, gasLimit: 300_000n }), 'BAD_PUBLIC_KEY')
      const notAPoint = Uint8Array.of(2, ...new Uint8Array(32).fill(0xff))
      assertReverted(await w.payer.call(w.contract, { ...create, fromPublicKey: notAPoint }, { value: 1n, gasLimit: 300_000n }), 'BAD_PUBLIC_KEY')
      const self = await w.payer.call(w.contract, { ...create, to: w.payer.address }, { value: 1n, gasLimit: 300_000n })
      assert.equal(self.status, 'reverted')
      assert.equal(self.revertCode, 'INVALID_INPUT')
      assert.equal(self.revertField, 'to')
    })

    test('update: lanes, cumulative amounts, merges, results and events', async () => {
      const w = await backend.world()
      const ch = await open(w, 100n)
      const r1 = await w.payee.callOk(w.contract, { type: 'update', voucher: plain(w, w.contract, ch, 0, 1n, 5n), ...NO_SECRET })
      assert.deepEqual(r1.result, { delta: 5n, toSend: 5n })
      assert.deepEqual(r1.events[0]?.data, { channel: ch, lane: 0, nonce: 1n, amount: 5n, toSend: 5n, secret: undefined })
      await w.payee.callOk(w.contract, { type: 'update', voucher: plain(w, w.contract, ch, 1, 1n, 3n), ...NO_SECRET })
      // Lane 1 absorbs lane 0: 10 − (5 + 3) = +2.
      const merged = plain(w, w.contract, ch, 1, 2n, 10n, { merges: [{ lane: 0, nonce: 2n }] })
      const r3 = await w.payee.callOk(w.contract, { type: 'update', voucher: merged, ...NO_SECRET })
      assert.deepEqual(r3.result, { delta: 2n, toSend: 10n })
      assert.deepEqual(await lanes(w, ch, [0, 1, 2]), [{ nonce: 2n, redeemed: 5n }, { nonce: 2n, redeemed: 10n }, undefined])
      await w.payer.callOk(w.contract, { type: 'update', voucher: plain(w, w.contract, ch, 2, 1n, 1n), ...NO_SECRET })
      const r5 = await w.mallory.call(w.contract, { type: 'update', voucher: plain(w, w.contract, ch, 3, 1n, 1n), ...NO_SECRET }, { gasLimit: 300_000n })
      assertReverted(r5, 'NOT_PARTY')
      const i = await info(w, ch)
      assert.equal(i.toSend, 11n)
      assert.equal(i.laneCount, 3)
      assert.equal(i.version, 5)
    })

    test('time locks and hash locks are enforced at redemption; a redeemed secret is published', async () => {
      const w = await backend.world()
      const ch = await open(w, 100n)
      const h = w.l1.head().height
      const early = plain(w, w.contract, ch, 0, 1n, 5n, { timeLockMin: h + 10 })
      assertReverted(await w.payee.call(w.contract, { type: 'update', voucher: early, ...NO_SECRET }, { gasLimit: 300_000n }), 'TIME_LOCK_MIN')
      await w.chain.mine(10)
      await w.payee.callOk(w.contract, { type: 'update', voucher: early, ...NO_SECRET })
      const secret = new TextEncoder().encode('preimage')
      const locked = plain(w, w.contract, ch, 1, 1n, 5n, { secretHash: sha256(secret) })
      assertReverted(await w.payee.call(w.contract, { type: 'update', voucher: locked, ...NO_SECRET }, { gasLimit: 300_000n }), 'SECRET_MISMATCH')
      const wrong = await w.payee.call(w.contract, { type: 'update', voucher: locked, secret: new Uint8Array([1]) }, { gasLimit: 300_000n })
      assertReverted(wrong, 'SECRET_MISMATCH')
      const ok = await w.payee.callOk(w.contract, { type: 'update', voucher: locked, secret })
      assert.deepEqual(ok.events[0]?.data.secret, secret)
      assert.equal((await info(w, ch)).toSend, 10n)
    })

    test('settle → updates until settlingAt → collect pays toSend to `to`, the rest to `from`', async () => {
      const w = await backend.world()
      const c = w.short
      const ch = await open(w, 100n, c)
      await w.payer.callOk(c, { type: 'addFunds', channel: ch }, { value: 50n })
      assert.equal((await info(w, ch, c)).balance, 150n)
      assertReverted(await w.payee.call(c, { type: 'collect', channel: ch }, { gasLimit: 200_000n }), 'NOT_SETTLING')
      const s = await w.payer.callOk(c, { type: 'settle', channel: ch })
      assert.equal(s.result, s.height + 20)
      assert.deepEqual(s.events[0]?.data, { channel: ch, settlingAt: s.height + 20, from: w.payer.address, to: w.payee.address })
      assertReverted(await w.payee.call(c, { type: 'settle', channel: ch }, { gasLimit: 200_000n }), 'ALREADY_SETTLING')
      const late = s.height + 40
      await w.payee.callOk(c, { type: 'update', voucher: plain(w, c, ch, 0, 1n, 60n, { minSettleHeight: late }), ...NO_SECRET })
      assert.equal((await info(w, ch, c)).settlingAt, late)
      await w.chain.mine(25)
      assertReverted(await w.payee.call(c, { type: 'collect', channel: ch }, { gasLimit: 200_000n }), 'SETTLE_NOT_DUE')
      await w.chain.advanceTo(late)
      assertReverted(await w.payee.call(c, { type: 'update', voucher: plain(w, c, ch, 1, 1n, 1n), ...NO_SECRET }, { gasLimit: 300_000n }), 'SETTLING_FINISHED')
      assertReverted(await w.payer.call(c, { type: 'addFunds', channel: ch }, { value: 1n, gasLimit: 200_000n }), 'SETTLING_FINISHED')
      const payee0 = w.l1.balanceOf(w.payee.address)
      const payer0 = w.l1.balanceOf(w.payer.address)
      const r = await w.payee.callOk(c, { type: 'collect', channel: ch })
      assert.deepEqual(r.result, { toTo: 60n, toFrom: 90n })
      assert.deepEqual(r.events[0]?.data, { channel: ch, toTo: 60n, toFrom: 90n })
      assert.equal(w.l1.balanceOf(w.payee.address), payee0 + 60n - r.fee)
      assert.equal(w.l1.balanceOf(w.payer.address), payer0 + 90n)
      assert.equal(w.l1.balanceOf(c.address), 0n)
      assertReverted(await w.payee.call(c, { type: 'collect', channel: ch }, { gasLimit: 200_000n }), 'CHANNEL_CLOSED')
    })

    test('unknown channel, zero top-up and malformed calldata revert with typed reasons', async () => {
      const w = await backend.world()
      const ch = await open(w, 10n)
      assertReverted(await w.payer.call(w.contract, { type: 'addFunds', channel: w.mallory.address }, { value: 1n, gasLimit: 200_000n }), 'UNKNOWN_CHANNEL')
      assertReverted(await w.payer.call(w.contract, { type: 'addFunds', channel: ch }, { value: 0n, gasLimit: 200_000n }), 'ZERO_AMOUNT')
      const bytes = encodeVoucher(plain(w, w.contract, ch, 0, 1n, 1n))
      const r = await w.l1.receipt(await w.payee.sendRaw(w.contract.address, Uint8Array.of(3, ...bytes.subarray(0, 10)), { gasLimit: 100_000n }))
      assert.equal(r.status, 'reverted')
      assert.equal(PaychError.fromRevert(r.revertReason), undefined)
    })
  })
}
