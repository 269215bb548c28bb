import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type InvalidInputError, NobleSigner, secretKeyFromSeed } from '@l2bench/core'
import { GAS_SCHEDULE, type Receipt, TxRejectedError, Wallet, signTx, txDigest, txHash, txIdentity } from '@l2bench/l1-mock'
import fc from 'fast-check'
import { ETH, snapshot, world } from './fixtures.ts'

test('a value transfer costs exactly 21,000 gas and moves the value', async () => {
  const { l1, wallets } = world(2)
  const [a, b] = wallets as [Wallet, Wallet]
  const before = l1.balanceOf(a.address)
  const r = await a.transfer(b.address, 5n)
  assert.equal(r.status, 'success')
  assert.equal(r.gasUsed, GAS_SCHEDULE.txBase)
  assert.deepEqual(r.breakdown, [{ op: 'txBase', label: 'tx', gas: 21_000 }])
  assert.equal(l1.balanceOf(b.address), 100n * ETH + 5n)
  assert.equal(l1.balanceOf(a.address), before - 5n - r.fee)
  assert.equal(r.fee, 21_000n * a.gasPrice)
})

test('receipts break gas down by operation and the parts add up', async () => {
  const { l1, wallets, store } = world(1)
  const a = wallets[0]!
  const r = await a.callOk(store, { type: 'set', key: 'a', value: 7 })
  const sum = r.breakdown.reduce((s, c) => s + c.gas, 0)
  assert.equal(sum, r.gasUsed)
  const ops = new Set(r.breakdown.map((c) => c.op))
  for (const op of ['txBase', 'calldataNonZeroByte', 'storageNew', 'logBase'] as const) assert.ok(ops.has(op), op)
  // Updating the same key costs an update, not a new slot.
  const r2 = await a.callOk(store, { type: 'set', key: 'a', value: 8 })
  assert.ok(r2.breakdown.some((c) => c.op === 'storageUpdate'))
  assert.equal(l1.readSync(store.address, 'get', ['a']), 8)
  assert.equal(r.calldataBytes, store.encodeCall({ type: 'set', key: 'a', value: 7 }).length)
})

test('a reverted transaction changes nothing but the sender nonce and the gas it paid', async () => {
  const { l1, wallets, store } = world(2)
  const a = wallets[0]!
  await a.callOk(store, { type: 'deposit' }, { value: 10n })
  const accounts = wallets.map((w) => w.address)
  const before = snapshot(l1, store, accounts)
  const r = await a.call(store, { type: 'failAfterWrites', key: 'a' }, { gasLimit: 200_000n })
  assert.equal(r.status, 'reverted')
  assert.equal(r.revertField, 'key')
  assert.equal(r.revertCode, 'REVERT')
  assert.match(r.revertReason ?? '', /deliberate/)
  assert.equal(r.events.length, 0)
  const after = snapshot(l1, store, accounts)
  assert.deepEqual(after.kv, before.kv)
  assert.deepEqual(after.deposits, before.deposits)
  assert.equal(after.contractBalance, before.contractBalance)
  assert.equal(after.events, before.events)
  assert.equal(after.nonces[0], before.nonces[0]! + 1n)
  assert.equal(after.balances[0], before.balances[0]! - r.fee)
  assert.equal(after.balances[1], before.balances[1])
})

test('out of gas consumes the whole limit and reverts', async () => {
  const { l1, wallets, store } = world(1)
  const a = wallets[0]!
  const r = await a.call(store, { type: 'burn', loops: 10_000 }, { gasLimit: 50_000n })
  assert.equal(r.status, 'reverted')
  assert.equal(r.gasUsed, 50_000)
  assert.equal(r.revertField, 'gasLimit')
  assert.equal(r.revertCode, 'OUT_OF_GAS')
  assert.equal(l1.totalBalances() + l1.totalBurnt(), l1.totalMinted())
})

test('malformed calldata reverts with a DecodeError reason', async () => {
  const { wallets, store } = world(1)
  const a = wallets[0]!
  const hash = await a.sendRaw(store.address, new Uint8Array([99, 1, 2]), { gasLimit: 100_000n })
  const r = await a.l1.receipt(hash)
  assert.equal(r.status, 'reverted')
  assert.match(r.revertReason ?? '', /malformed calldata/)
})

test('rejected transactions are typed errors naming the field, and change nothing', async () => {
  const { l1, wallets, store } = world(2)
  const [a, b] = wallets as [Wallet, Wallet]
  const accounts = wallets.map((w) => w.address)
  const before = snapshot(l1, store, accounts)
  const body = { chainId: l1.chainId, nonce: 0n, to: b.address, value: 1n, gasLimit: 21_000n, gasPrice: 1n, data: new Uint8Array() }
  const cases: [string, () => unknown, string, string][] = [
    ['wrong chain', () => l1.sendSync(signTx(a.signer, { ...body, chainId: 5n })), 'WRONG_CHAIN', 'chainId'],
    ['gas too low', () => l1.sendSync(signTx(a.signer, { ...body, gasLimit: 20_000n })), 'GAS_TOO_LOW', 'gasLimit'],
    ['gas too high', () => l1.sendSync(signTx(a.signer, { ...body, gasLimit: 40_000_000n })), 'GAS_TOO_HIGH', 'gasLimit'],
    ['funds', () => l1.sendSync(signTx(a.signer, { ...body, value: 1000n * ETH })), 'INSUFFICIENT_FUNDS', 'value'],
    [
      'bad signature',
      () => {
        const tx = signTx(a.signer, body)
        return l1.sendSync({ ...tx, body: { ...body, value: 2n } })
      },
      'BAD_SIGNATURE',
      'signature',
    ],
    [
      'signed by another key',
      () => l1.sendSync({ ...signTx(a.signer, body), publicKey: b.signer.publicKey }),
      'BAD_SIGNATURE',
      'signature',
    ],
    ['malformed', () => l1.sendSync({ ...signTx(a.signer, body), signature: new Uint8Array(3) }), 'MALFORMED_TX', 'signature'],
  ]
  for (const [name, run, code, field] of cases) {
    assert.throws(run, (e: TxRejectedError) => e instanceof TxRejectedError && e.code === code && e.field === field, name)
  }
  assert.deepEqual(snapshot(l1, store, accounts), before)
  assert.equal(l1.head().height, 0)
  assert.throws(() => l1.mint(a.address, -1n), (e: InvalidInputError) => e.field === 'amount')
  assert.throws(() => l1.advance(-1), (e: InvalidInputError) => e.field === 'seconds')
  assert.throws(() => l1.delaySender('0x12' as `0x${string}`, 1), (e: InvalidInputError) => e.field === 'sender')
})

test('nonce replay is rejected', async () => {
  const { l1, wallets } = world(2)
  const [a, b] = wallets as [Wallet, Wallet]
  const tx = a.sign(b.address, new Uint8Array(), { value: 1n, gasLimit: 21_000n })
  l1.sendSync(tx)
  assert.throws(() => l1.sendSync(tx), (e: TxRejectedError) => e.code === 'NONCE_TOO_LOW' && e.field === 'nonce')
})

test("a delayed sender's transaction lands exactly k blocks later; dropped ones never land", async () => {
  for (const k of [1, 3, 10]) {
    const { l1, wallets } = world(2, { autoMine: false })
    const [a, b] = wallets as [Wallet, Wallet]
    l1.mine(5)
    l1.delaySender(a.address, k)
    const h = l1.head().height
    const hash = await a.sendRaw(b.address, new Uint8Array(), { value: 1n, gasLimit: 21_000n })
    const other = await b.sendRaw(a.address, new Uint8Array(), { value: 1n, gasLimit: 21_000n })
    let landed: Receipt | undefined
    void l1.receipt(hash).then((r) => {
      landed = r
    })
    for (let i = 0; i < k; i++) {
      l1.mine(1)
      await Promise.resolve()
      assert.equal(landed, undefined)
    }
    assert.equal(l1.receiptSync(other)?.height, h + 1)
    l1.mine(1)
    const r = await l1.receipt(hash)
    assert.equal(r.height, h + 1 + k)
  }
  const { l1, wallets } = world(2)
  const [a, b] = wallets as [Wallet, Wallet]
  l1.dropSender(a.address, 5)
  const before = l1.balanceOf(b.address)
  const hash = await a.sendRaw(b.address, new Uint8Array(), { value: 1n, gasLimit: 21_000n })
  await assert.rejects(l1.receipt(hash), (e: TxRejectedError) => e.code === 'DROPPED')
  assert.equal(l1.balanceOf(b.address), before)
  l1.mine(5)
  await a.transfer(b.address, 1n)
  assert.equal(l1.balanceOf(b.address), before + 1n)
})

test('an offline account cannot send and its subscriptions hear nothing', async () => {
  const { l1, wallets, store } = world(2)
  const [a, b] = wallets as [Wallet, Wallet]
  const heardA: string[] = []
  const heardAll: string[] = []
  l1.subscribe({ address: store.address }, (e) => heardA.push(e.name), { owner: a.address })
  l1.subscribe({ address: store.address, name: 'Set' }, (e) => heardAll.push(e.name))
  l1.setOffline(a.address, true)
  await assert.rejects(a.transfer(b.address, 1n), (e: TxRejectedError) => e.code === 'OFFLINE')
  await b.callOk(store, { type: 'set', key: 'b', value: 1 })
  assert.deepEqual(heardA, [])
  assert.deepEqual(heardAll, ['Set'])
  l1.setOffline(a.address, false)
  await b.callOk(store, { type: 'set', key: 'b', value: 2 })
  assert.deepEqual(heardA, ['Set'])
  assert.equal(l1.events({ name: 'Set' }).length, 2)
})

test('advance lets simulated time pass in whole blocks, cheaply', () => {
  const { l1 } = world(0)
  const t0 = l1.head()
  l1.advance(14 * 24 * 3600) // a two-week dispute window
  const t1 = l1.head()
  assert.equal(t1.height - t0.height, (14 * 24 * 3600) / 12)
  assert.equal(t1.timestamp - t0.timestamp, 14 * 24 * 3600)
  l1.advance(5)
  l1.advance(7)
  assert.equal(l1.head().height, t1.height + 1)
})

type Op =
  | { kind: 'transfer'; from: number; to: number; value: bigint }
  | { kind: 'deposit'; from: number; value: bigint }
  | { kind: 'withdraw'; from: number; amount: bigint }
  | { kind: 'fail'; from: number }
  | { kind: 'burn'; from: number }
  | { kind: 'mine'; n: number }
  | { kind: 'advance'; seconds: number }
  | { kind: 'replay' }

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('transfer' as const), from: fc.nat(3), to: fc.nat(3), value: fc.bigInt({ min: 1n, max: 10n * ETH }) }),
  fc.record({ kind: fc.constant('deposit' as const), from: fc.nat(3), value: fc.bigInt({ min: 0n, max: ETH }) }),
  fc.record({ kind: fc.constant('withdraw' as const), from: fc.nat(3), amount: fc.bigInt({ min: 0n, max: 2n * ETH }) }),
  fc.record({ kind: fc.constant('fail' as const), from: fc.nat(3) }),
  fc.record({ kind: fc.constant('burn' as const), from: fc.nat(3) }),
  fc.record({ kind: fc.constant('mine' as const), n: fc.nat(3) }),
  fc.record({ kind: fc.constant('advance' as const), seconds: fc.nat(100) }),
  fc.record({ kind: fc.constant('replay' as const) }),
)

test('MockL1 invariants over random transaction sequences', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(arbOp, { maxLength: 40 }), fc.boolean(), async (ops, autoMine) => {
      const { l1, wallets, store } = world(4, { autoMine })
      const accounts = [...wallets.map((w) => w.address), store.address]
      const sent: ReturnType<Wallet['sign']>[] = []
      let last = l1.head()
      for (const op of ops) {
        const pre = snapshot(l1, store, wallets.map((w) => w.address))
        let hash: `0x${string}` | undefined
        try {
          switch (op.kind) {
            case 'transfer': {
              const w = wallets[op.from]!
              const tx = w.sign(wallets[op.to]!.address, new Uint8Array(), { value: op.value, gasLimit: 21_000n })
              sent.push(tx)
              hash = l1.sendSync(tx)
              break
            }
            case 'deposit':
              hash = await wallets[op.from]!.sendRaw(store.address, store.encodeCall({ type: 'deposit' }), { value: op.value, gasLimit: 200_000n })
              break
            case 'withdraw':
              hash = await wallets[op.from]!.sendRaw(store.address, store.encodeCall({ type: 'withdraw', amount: op.amount }), { gasLimit: 200_000n })
              break
            case 'fail':
              hash = await wallets[op.from]!.sendRaw(store.address, store.encodeCall({ type: 'failAfterWrites', key: 'c' }), { gasLimit: 200_000n })
              break
            case 'burn':
              hash = await wallets[op.from]!.sendRaw(store.address, store.encodeCall({ type: 'burn', loops: 5000 }), { gasLimit: 60_000n })
              break
            case 'mine':
              l1.mine(op.n)
              break
            case 'advance':
              l1.advance(op.seconds)
              break
            case 'replay': {
              const tx = sent[0]
              if (tx !== undefined) {
                const h = txHash(tx)
                assert.throws(() => l1.sendSync(tx), (e: TxRejectedError) => ['NONCE_TOO_LOW', 'DUPLICATE', 'NONCE_PENDING'].includes(e.code))
                void h
              }
              break
            }
          }
        } catch (e) {
          assert.ok(e instanceof TxRejectedError, String(e))
          assert.deepEqual(snapshot(l1, store, wallets.map((w) => w.address)), pre, 'a rejected send changes nothing')
        }
        if (autoMine && hash !== undefined) {
          const r = l1.receiptSync(hash)
          if (r !== undefined && r.status === 'reverted') {
            const post = snapshot(l1, store, wallets.map((w) => w.address))
            const i = wallets.findIndex((w) => w.address === r.from)
            assert.deepEqual(post.kv, pre.kv)
            assert.deepEqual(post.deposits, pre.deposits)
            assert.equal(post.contractBalance, pre.contractBalance)
            assert.equal(post.events, pre.events)
            assert.equal(post.balances[i], pre.balances[i]! - r.fee)
            assert.equal(post.nonces[i], pre.nonces[i]! + 1n)
          }
        }
        // Conservation: Σ balances + burnt = minted.
        let total = l1.totalBurnt()
        for (const a of accounts) total += l1.balanceOf(a)
        assert.equal(total, l1.totalMinted())
        // Height and time only grow.
        const h = l1.head()
        assert.ok(h.height >= last.height && h.timestamp >= last.timestamp)
        last = h
      }
      l1.mine(1)
      // The contract holds exactly the deposits it recorded.
      const deposits = wallets.reduce((s, w) => s + (l1.readSync<bigint>(store.address, 'deposit', [w.address]) ?? 0n), 0n)
      assert.equal(l1.balanceOf(store.address), deposits)
    }),
    { numRuns: 60 },
  )
})

test('the same calls give the same hashes, receipts and events (determinism)', async () => {
  async function script() {
    const { l1, wallets, store } = world(3)
    const out: unknown[] = []
    for (let i = 0; i < 5; i++) {
      const r = await wallets[i % 3]!.callOk(store, { type: 'set', key: 'a', value: i })
      out.push(r.txHash, r.gasUsed, r.height)
    }
    out.push(l1.events().map((e) => [e.name, e.height, e.logIndex]))
    return out
  }
  assert.deepEqual(await script(), await script())
})

test('signer and chain are separate: a fresh key has no funds and cannot pay gas', async () => {
  const { l1, wallets } = world(1)
  const poor = new Wallet(new NobleSigner(secretKeyFromSeed('poor')), l1)
  await assert.rejects(poor.transfer(wallets[0]!.address, 1n), (e: TxRejectedError) => e.code === 'INSUFFICIENT_FUNDS')
})

test('txIdentity gives the signed digest and the hash of one encoding', () => {
  const { l1, wallets } = world(2)
  const tx = wallets[0]!.sign(wallets[1]!.address, new Uint8Array([1, 0, 2]), { value: 1n, gasLimit: 30_000n })
  const id = txIdentity(tx)
  assert.deepEqual(id.digest, txDigest(tx.body))
  assert.equal(id.hash, txHash(tx))
  assert.equal(l1.sendSync(tx), id.hash)
})

test('Wallet.sign with an explicit nonce: that nonce is used and the counter moves past it', async () => {
  const { wallets } = world(2, { autoMine: false })
  const [a, b] = wallets as [Wallet, Wallet]
  const first = a.sign(b.address, new Uint8Array(), { value: 1n, gasLimit: 21_000n, nonce: 2n })
  assert.equal(first.body.nonce, 2n)
  assert.equal(a.sign(b.address, new Uint8Array(), { value: 1n, gasLimit: 21_000n }).body.nonce, 3n)
  assert.equal(a.sign(b.address, new Uint8Array(), { value: 1n, gasLimit: 21_000n, nonce: 0n }).body.nonce, 0n)
  assert.equal(a.sign(b.address, new Uint8Array(), { value: 1n, gasLimit: 21_000n }).body.nonce, 4n, 'a lower explicit nonce does not move the counter back')
  assert.throws(() => a.sign(b.address, new Uint8Array(), { nonce: -1n }), (e: InvalidInputError) => e.field === 'nonce')
})

test('a dropped transaction sent again is live again: it lands and its receipt says so', async () => {
  const { l1, wallets } = world(2)
  const [a, b] = wallets as [Wallet, Wallet]
  l1.dropSender(a.address, 2)
  const tx = a.sign(b.address, new Uint8Array(), { value: 5n, gasLimit: 21_000n })
  const hash = l1.sendSync(tx)
  await assert.rejects(l1.receipt(hash), (e: TxRejectedError) => e.code === 'DROPPED')
  l1.mine(2)
  const before = l1.balanceOf(b.address)
  assert.equal(l1.sendSync(tx), hash)
  assert.equal((await l1.receipt(hash)).status, 'success')
  assert.equal(l1.balanceOf(b.address), before + 5n)
  assert.throws(() => l1.sendSync(tx), (e: TxRejectedError) => e.code === 'NONCE_TOO_LOW')
})
