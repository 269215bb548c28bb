/**
 * The L1 seam itself, one suite on both backends: blocks and time, plain
 * transfers, admission errors, manual mining, and the client-side faults
 * (delay, drop, offline) the adversarial scenarios use. What a design sees
 * must not depend on the backend.
 */
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import { type L1Event, type MockL1, TxRejectedError, Wallet, signTx } from '@l2bench/l1-mock'
import { PaychContract } from '@l2bench/paych-manager'
import { type Chain, type EvmL1, backends } from '../src/index.ts'

const ETH = 10n ** 18n

interface World {
  chain: Chain
  l1: MockL1 | EvmL1
  paych: PaychContract
  alice: Wallet
  bob: Wallet
  carol: Wallet
}

async function make(chain: Chain): Promise<World> {
  const paych = await chain.deploy(new PaychContract())
  const wallet = (n: string) => new Wallet(new NodeSigner(secretKeyFromSeed(`evm-seam/${n}`)), chain.l1)
  const w = { chain, l1: chain.l1 as MockL1 | EvmL1, paych, alice: wallet('alice'), bob: wallet('bob'), carol: wallet('carol') }
  for (const x of [w.alice, w.bob, w.carol]) await chain.mint(x.address, 100n * ETH)
  return w
}

async function fresh(b: { world(): Promise<World> }): Promise<World> {
  const w = await b.world()
  w.l1.autoMine = true
  return w
}

const rejects = (code: string) => (e: unknown) => {
  assert.ok(e instanceof TxRejectedError, String(e))
  assert.equal(e.code, code, e.message)
  return true
}

for (const backend of backends(make)) {
  describe(`L1 seam on ${backend.name}`, () => {
    after(() => backend.close())

    test('a transfer: one block, 21,000 gas, the fee burnt from the sender, 12 s per block', async () => {
      const w = await fresh(backend)
      const h0 = w.l1.head()
      const a0 = w.l1.balanceOf(w.alice.address)
      const b0 = w.l1.balanceOf(w.bob.address)
      const r = await w.alice.transfer(w.bob.address, 3n * ETH)
      assert.equal(r.status, 'success')
      assert.equal(r.gasUsed, 21_000)
      assert.equal(r.calldataBytes, 0)
      assert.equal(r.fee, 21_000n * r.gasPrice)
      assert.equal(r.height, h0.height + 1)
      assert.deepEqual(w.l1.head(), { height: h0.height + 1, timestamp: h0.timestamp + 12 })
      assert.equal(r.timestamp, h0.timestamp + 12)
      assert.equal(w.l1.balanceOf(w.alice.address), a0 - 3n * ETH - r.fee)
      assert.equal(w.l1.balanceOf(w.bob.address), b0 + 3n * ETH)
      assert.equal(w.l1.nonceOf(w.alice.address), 1n)
    })

    test('admission: wrong chain, bad signature, replayed nonce, pending nonce, too little gas or funds — typed, nothing queued', async () => {
      const w = await fresh(backend)
      const body = { chainId: w.l1.chainId, nonce: 0n, to: w.bob.address, value: 1n, gasLimit: 21_000n, gasPrice: 10n ** 9n, data: new Uint8Array() }
      const s = w.alice.signer
      await assert.rejects(w.l1.send(signTx(s, { ...body, chainId: 5n })), rejects('WRONG_CHAIN'))
      const tx = signTx(s, body)
      const forged = { ...tx, body: { ...tx.body, value: 2n } }
      await assert.rejects(w.l1.send(forged), rejects('BAD_SIGNATURE'))
      await assert.rejects(w.l1.send(signTx(s, { ...body, gasLimit: 20_000n })), rejects('GAS_TOO_LOW'))
      await assert.rejects(w.l1.send(signTx(s, { ...body, value: 1000n * ETH })), rejects('INSUFFICIENT_FUNDS'))
      w.l1.autoMine = false
      await w.l1.send(tx)
      await assert.rejects(w.l1.send(signTx(s, { ...body, value: 5n })), rejects('NONCE_PENDING'))
      await assert.rejects(w.l1.send(tx), rejects('NONCE_PENDING'))
      await w.chain.mine(1)
      await assert.rejects(w.l1.send(tx), rejects('NONCE_TOO_LOW'))
      assert.equal(w.l1.nonceOf(w.alice.address), 1n)
    })

    test('manual mining: transactions wait for mine(), share a block, and a nonce gap waits for the missing nonce', async () => {
      const w = await fresh(backend)
      w.l1.autoMine = false
      const h = w.l1.head().height
      const gasPrice = 10n ** 9n
      const t1 = signTx(w.alice.signer, { chainId: w.l1.chainId, nonce: 1n, to: w.bob.address, value: 2n, gasLimit: 21_000n, gasPrice, data: new Uint8Array() })
      const t0 = signTx(w.alice.signer, { chainId: w.l1.chainId, nonce: 0n, to: w.bob.address, value: 1n, gasLimit: 21_000n, gasPrice, data: new Uint8Array() })
      const h1 = await w.l1.send(t1)
      const hc = await w.carol.sendRaw(w.bob.address, new Uint8Array(), { value: 3n, gasLimit: 21_000n })
      let gapMined = false
      const p1 = w.l1.receipt(h1).then((r) => {
        gapMined = true
        return r
      })
      assert.equal(w.l1.head().height, h)
      await w.chain.mine(1)
      const rc = await w.l1.receipt(hc)
      assert.equal(rc.height, h + 1)
      await Promise.resolve()
      assert.equal(gapMined, false, 'nonce 1 waits for nonce 0')
      const h0 = await w.l1.send(t0)
      await w.chain.mine(1)
      const [r0, r1] = await Promise.all([w.l1.receipt(h0), p1])
      assert.equal(r0.height, h + 2)
      assert.equal(r1.height, h + 2)
    })

    test('faults: a delayed sender lands k blocks later; a dropped one never lands and keeps its nonce; offline sends nothing and hears nothing', async () => {
      const w = await fresh(backend)
      // delay
      w.l1.delaySender(w.alice.address, 3)
      const h = w.l1.head().height
      const hd = await w.alice.sendRaw(w.bob.address, new Uint8Array(), { value: 1n, gasLimit: 21_000n })
      assert.equal(w.l1.head().height, h, 'nothing mined yet')
      await w.chain.mine(5)
      assert.equal((await w.l1.receipt(hd)).height, h + 4)
      w.l1.delaySender(w.alice.address, 0)
      // drop
      w.l1.dropSender(w.bob.address, 2)
      const hx = await w.bob.sendRaw(w.alice.address, new Uint8Array(), { value: 1n, gasLimit: 21_000n })
      await assert.rejects(w.l1.receipt(hx), rejects('DROPPED'))
      assert.equal(w.l1.nonceOf(w.bob.address), 0n)
      await w.chain.mine(2)
      const ok = await w.bob.transfer(w.alice.address, 1n)
      assert.equal(ok.status, 'success')
      assert.equal(w.l1.nonceOf(w.bob.address), 1n)
      // offline
      const heard: L1Event[] = []
      const all: L1Event[] = []
      const unsub = w.l1.subscribe({ address: w.paych.address, name: 'Create' }, (e) => heard.push(e), { owner: w.carol.address })
      const unsubAll = w.l1.subscribe({ address: w.paych.address }, (e) => all.push(e))
      w.l1.setOffline(w.carol.address, true)
      await assert.rejects(w.carol.transfer(w.alice.address, 1n), rejects('OFFLINE'))
      const r = await w.alice.callOk(w.paych, { type: 'create', to: w.carol.address, fromPublicKey: w.alice.signer.publicKey }, { value: ETH })
      assert.equal(heard.length, 0, 'offline: no events delivered')
      assert.deepEqual(all.map((e) => e.name), ['Create'])
      const logged = w.l1.events({ address: w.paych.address, name: 'Create' }, r.height)
      assert.equal(logged.length, 1, 'but the log has it, to catch up from')
      assert.equal(logged[0]?.txHash, r.txHash)
      w.l1.setOffline(w.carol.address, false)
      await w.alice.callOk(w.paych, { type: 'create', to: w.carol.address, fromPublicKey: w.alice.signer.publicKey }, { value: ETH })
      assert.equal(heard.length, 1)
      unsub()
      unsubAll()
    })

    test('advance and advanceTo: one block per 12 s, the remainder carried', async () => {
      const w = await fresh(backend)
      const h = w.l1.head()
      await w.chain.advanceTo(h.height + 100)
      assert.deepEqual(w.l1.head(), { height: h.height + 100, timestamp: h.timestamp + 1200 })
      const blocks: number[] = []
      const off = (w.l1 as MockL1).onBlock((head) => blocks.push(head.height))
      await (w.l1 as MockL1 | EvmL1).advance(30)
      await (w.l1 as MockL1 | EvmL1).advance(6)
      off()
      assert.deepEqual(blocks, [h.height + 101, h.height + 102, h.height + 103])
      // Contracts see the same heights and times as the client.
      const r = await w.alice.callOk(w.paych, { type: 'create', to: w.bob.address, fromPublicKey: w.alice.signer.publicKey }, { value: ETH })
      assert.equal(r.height, h.height + 104)
      assert.equal(r.timestamp, h.timestamp + 104 * 12)
    })
  })
}
