import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ManualClock } from '@l2bench/core'
import fc from 'fast-check'
import {
  AccountTree,
  type CircuitParams,
  L2Key,
  MAX_BALANCE,
  RollupError,
  Sequencer,
  type SignedOp,
  type UnsignedOp,
  applyBody,
  decodeBatchCalldata,
  signOp,
} from '../src/index.ts'

const params: CircuitParams = { n: 2, d: 1, depth: 4, mode: 'sha' }
const domain = { chainId: 31337n, contract: '0x00000000000000000000000000000000000000aa' as const }
const keys = Array.from({ length: 4 }, (_, i) => L2Key.fromSeed(`seq-${i}`))
const code = (c: string) => (e: unknown) => e instanceof RollupError && e.code === c

function fresh(options: Partial<ConstructorParameters<typeof Sequencer>[0]> = {}) {
  const clock = new ManualClock(0)
  const seq = new Sequencer({ params, domain, clock, batchTimeoutMs: 500, payeeExists: (id) => id < 3, ...options })
  return { seq, clock }
}

/** Deposits `amounts[i]` for keys[i] and closes/confirms until all are in. */
function funded(amounts: bigint[]) {
  const f = fresh()
  amounts.forEach((a, i) => {
    f.seq.addDeposit(i, { publicKey: keys[i]!.publicKey, amount: a })
  })
  while (f.seq.pendingDeposits > 0) {
    assert.ok(f.seq.closeBatch())
    f.seq.confirm()
  }
  return f
}

const sign = (k: number, op: UnsignedOp): SignedOp => signOp(keys[k]!, domain, params.depth, op)

describe('sequencer admission', () => {
  it('rejects bad ops with typed errors before queueing, and changes nothing', () => {
    const { seq } = funded([100n, 50n])
    const before = [seq.pendingAccount(0), seq.pendingAccount(1), seq.pendingOps]
    const t = (op: UnsignedOp) => sign(0, op)
    const cases: [string, string, SignedOp][] = [
      ['BAD_SIGNATURE', 'op.signature', sign(1, { kind: 'transfer', from: 0, to: 1, amount: 5n, nonce: 0n })],
      ['BAD_SIGNATURE', 'op.signature', { ...t({ kind: 'transfer', from: 0, to: 1, amount: 5n, nonce: 0n }), amount: 6n }],
      ['BAD_SIGNATURE', 'op.signature', { ...t({ kind: 'transfer', from: 0, to: 1, amount: 5n, nonce: 0n }), to: 2 }],
      ['BAD_NONCE', 'op.nonce', t({ kind: 'transfer', from: 0, to: 1, amount: 5n, nonce: 1n })],
      ['INSUFFICIENT_BALANCE', 'op.amount', t({ kind: 'transfer', from: 0, to: 1, amount: 101n, nonce: 0n })],
      ['UNKNOWN_ACCOUNT', 'op.to', t({ kind: 'transfer', from: 0, to: 7, amount: 5n, nonce: 0n })],
      ['UNKNOWN_ACCOUNT', 'op.from', sign(2, { kind: 'transfer', from: 2, to: 0, amount: 5n, nonce: 0n })],
      ['UNKNOWN_PAYEE', 'op.to', t({ kind: 'withdraw', from: 0, to: 9, amount: 5n, nonce: 0n })],
    ]
    for (const [c, field, op] of cases)
      assert.throws(() => seq.submit(op), (e: unknown) => e instanceof RollupError && e.code === c && e.field === field, `${c} naming ${field}`)
    assert.throws(() => seq.submit({ ...t({ kind: 'transfer', from: 0, to: 1, amount: 5n, nonce: 0n }), amount: 10n ** 12n + 1n }), code('AMOUNT_NOT_REPRESENTABLE'))
    assert.throws(() => seq.submit({ ...t({ kind: 'transfer', from: 0, to: 1, amount: 5n, nonce: 0n }), amount: -5n }), code('AMOUNT_RANGE'))
    assert.deepEqual([seq.pendingAccount(0), seq.pendingAccount(1), seq.pendingOps], before)
    // None of them reaches a batch.
    assert.equal(seq.closeBatch(), undefined)
  })

  it('replaying an admitted or included op fails on its nonce', () => {
    const { seq } = funded([100n, 50n])
    const op = sign(0, { kind: 'transfer', from: 0, to: 1, amount: 5n, nonce: 0n })
    seq.submit(op)
    assert.throws(() => seq.submit(op), code('BAD_NONCE'))
    seq.closeBatch()
    seq.confirm()
    assert.throws(() => seq.submit(op), code('BAD_NONCE'))
  })

  it('refuses a credit that would pass 2^128 (receiver overflow)', () => {
    const { seq } = funded([MAX_BALANCE, 10n])
    assert.throws(() => seq.submit(sign(1, { kind: 'transfer', from: 1, to: 0, amount: 1n, nonce: 0n })), code('BALANCE_OVERFLOW'))
  })

  it('a self-transfer only bumps the nonce', () => {
    const { seq } = funded([100n])
    seq.submit(sign(0, { kind: 'transfer', from: 0, to: 0, amount: 60n, nonce: 0n }))
    const closed = seq.closeBatch()
    assert.ok(closed)
    seq.confirm()
    assert.deepEqual({ ...seq.tree.get(0) }, { publicKey: keys[0]!.publicKey, balance: 100n, nonce: 1n })
  })

  it('MEMPOOL_FULL past maxMempool', () => {
    const f = fresh({ maxMempool: 1 })
    f.seq.addDeposit(0, { publicKey: keys[0]!.publicKey, amount: 10n })
    f.seq.closeBatch()
    f.seq.confirm()
    f.seq.submit(sign(0, { kind: 'transfer', from: 0, to: 0, amount: 1n, nonce: 0n }))
    assert.throws(() => f.seq.submit(sign(0, { kind: 'transfer', from: 0, to: 0, amount: 1n, nonce: 1n })), code('MEMPOOL_FULL'))
  })
})

describe('sequencer batching', () => {
  it('closes on size or on timeout, never empty', () => {
    const { seq, clock } = funded([100n, 50n])
    assert.equal(seq.closeBatch(), undefined)
    seq.submit(sign(0, { kind: 'transfer', from: 0, to: 1, amount: 1n, nonce: 0n }))
    assert.equal(seq.isFull(), false)
    assert.equal(seq.isDue(), false)
    clock.advance(499)
    assert.equal(seq.isDue(), false)
    assert.equal(seq.msUntilDue(), 1)
    clock.advance(1)
    assert.equal(seq.isDue(), true)
    seq.submit(sign(0, { kind: 'transfer', from: 0, to: 1, amount: 1n, nonce: 1n }))
    assert.equal(seq.isFull(), true)
    const closed = seq.closeBatch()
    assert.equal(closed?.ops.length, 2)
    seq.confirm()
    assert.equal(seq.pendingOps, 0)
  })

  it('an op funded by a deposit that did not fit waits for the next batch', () => {
    const f = fresh()
    f.seq.addDeposit(0, { publicKey: keys[0]!.publicKey, amount: 10n })
    f.seq.addDeposit(1, { publicKey: keys[1]!.publicKey, amount: 20n })
    // Admitted against the pending view, where both deposits are in.
    f.seq.submit(sign(1, { kind: 'transfer', from: 1, to: 0, amount: 5n, nonce: 0n }))
    const first = f.seq.closeBatch()
    assert.equal(first?.deposits.length, 1)
    assert.equal(first?.ops.length, 0, 'account 1 does not exist yet in this batch')
    f.seq.confirm()
    const second = f.seq.closeBatch()
    assert.equal(second?.deposits.length, 1)
    assert.equal(second?.ops.length, 1)
    f.seq.confirm()
    assert.equal(f.seq.tree.get(0).balance, 15n)
    assert.equal(f.seq.tree.get(1).balance, 15n)
  })

  it('abandon() undoes the batch and requeues its items', () => {
    const { seq } = funded([100n, 50n])
    const root = seq.tree.root
    seq.submit(sign(0, { kind: 'transfer', from: 0, to: 1, amount: 30n, nonce: 0n }))
    const closed = seq.closeBatch()
    assert.ok(closed)
    assert.notEqual(seq.tree.root, root)
    assert.equal(seq.closeBatch(), undefined, 'nothing else waits')
    assert.deepEqual(seq.abandon(), [closed])
    assert.throws(() => seq.confirm(), /no batch in flight/)
    assert.throws(() => seq.abandon(), /no batch in flight/)
    assert.equal(seq.tree.root, root)
    assert.equal(seq.pendingOps, 1)
    assert.equal(seq.pendingAccount(0)?.balance, 70n)
    const again = seq.closeBatch()
    assert.equal(again?.batch.newRoot, closed.batch.newRoot)
  })

  it('several batches in flight: each builds on the one before; confirm() takes the oldest, abandon() undoes them all in order', () => {
    const { seq } = funded([100n, 50n])
    const root = seq.tree.root
    for (let i = 0n; i < 6n; i++) seq.submit(sign(0, { kind: 'transfer', from: 0, to: 1, amount: 5n, nonce: i }))
    const b1 = seq.closeBatch()
    const b2 = seq.closeBatch()
    const b3 = seq.closeBatch()
    assert.ok(b1 && b2 && b3)
    assert.equal(seq.inFlightCount, 3)
    assert.equal(b2.batch.oldRoot, b1.batch.newRoot)
    assert.equal(b3.batch.oldRoot, b2.batch.newRoot)
    assert.equal(seq.tree.get(0).balance, 70n)
    // Undo all three: the root and the queue are as before, the ops in their order.
    assert.deepEqual(seq.abandon(), [b1, b2, b3])
    assert.equal(seq.tree.root, root)
    assert.deepEqual(seq.pendingOpList().map((o) => o.nonce), [0n, 1n, 2n, 3n, 4n, 5n])
    // Again, then L1 accepts the first; the two others are then undone.
    const c1 = seq.closeBatch()
    const c2 = seq.closeBatch()
    assert.equal(c1?.batch.newRoot, b1.batch.newRoot)
    assert.equal(seq.confirm(), c1)
    assert.deepEqual(seq.abandon(), [c2])
    assert.equal(seq.tree.root, b1.batch.newRoot)
    assert.equal(seq.tree.get(0).nonce, 2n)
    assert.deepEqual(seq.pendingOpList().map((o) => o.nonce), [2n, 3n, 4n, 5n])
  })

  it('keepLocal(): a batch kept off L1 joins the batch before it (undone with it), or is final alone', () => {
    const { seq } = funded([100n, 50n])
    const root = seq.tree.root
    for (let i = 0n; i < 4n; i++) seq.submit(sign(0, { kind: 'transfer', from: 0, to: 1, amount: 5n, nonce: i }))
    const b1 = seq.closeBatch()
    const b2 = seq.closeBatch()
    assert.ok(b1 && b2)
    assert.throws(() => seq.keepLocal(b1), /newest/)
    seq.keepLocal(b2)
    assert.equal(seq.inFlightCount, 1)
    seq.abandon()
    assert.equal(seq.tree.root, root)
    assert.equal(seq.pendingOps, 2, "b2's ops were undone with b1 but are not requeued: only b1's")
    const alone = seq.closeBatch()
    assert.ok(alone)
    seq.keepLocal(alone)
    assert.equal(seq.busy, false)
    assert.equal(seq.tree.get(0).nonce, 2n)
  })

  it('an op waiting for a deposit does not hold back the ops behind it; what depends on it waits too', () => {
    // Account 0 is in; accounts 1 and 2 come with the next two deposits (one deposit slot per batch).
    const g = fresh()
    g.seq.addDeposit(0, { publicKey: keys[0]!.publicKey, amount: 100n })
    g.seq.closeBatch()
    g.seq.confirm()
    g.seq.addDeposit(1, { publicKey: keys[2]!.publicKey, amount: 5n })
    g.seq.addDeposit(2, { publicKey: keys[1]!.publicKey, amount: 10n })
    const waits = sign(0, { kind: 'transfer', from: 0, to: 2, amount: 20n, nonce: 0n }) // account 2 = keys[1], in the second deposit
    const sameSender = sign(0, { kind: 'transfer', from: 0, to: 1, amount: 1n, nonce: 1n })
    const dependent = sign(1, { kind: 'transfer', from: 2, to: 0, amount: 25n, nonce: 0n }) // 10 + 20 received
    const other = sign(2, { kind: 'transfer', from: 1, to: 0, amount: 2n, nonce: 0n })
    for (const op of [waits, sameSender, dependent, other]) g.seq.submit(op)
    const first = g.seq.closeBatch()
    assert.deepEqual(first?.ops, [other], 'the independent op goes ahead')
    g.seq.confirm()
    const second = g.seq.closeBatch()
    assert.deepEqual(second?.ops, [waits, sameSender])
    g.seq.confirm()
    const third = g.seq.closeBatch()
    assert.deepEqual(third?.ops, [dependent])
    g.seq.confirm()
    assert.equal(g.seq.tree.totalBalance(), 115n)
    assert.equal(g.seq.dropped.length, 0)
  })

  it('property: value is conserved and the tree replays from calldata alone', () => {
    const action = fc.oneof(
      fc.record({ t: fc.constant('deposit' as const), k: fc.integer({ min: 0, max: 3 }), amount: fc.bigInt({ min: 1n, max: 1000n }) }),
      fc.record({
        t: fc.constantFrom('transfer' as const, 'withdraw' as const),
        from: fc.integer({ min: 0, max: 3 }),
        to: fc.integer({ min: 0, max: 3 }),
        amount: fc.bigInt({ min: 1n, max: 400n }),
      }),
      fc.record({ t: fc.constant('close' as const) }),
    )
    fc.assert(
      fc.property(fc.array(action, { maxLength: 25 }), (actions) => {
        const { seq } = fresh()
        let deposited = 0n
        let withdrawn = 0n
        let queue = 0
        const replay = new AccountTree(params.depth)
        const closeAll = () => {
          for (;;) {
            const c = seq.closeBatch()
            if (c === undefined) return
            seq.confirm()
            const body = decodeBatchCalldata(params, c.batch.calldata)
            applyBody(replay, body)
            for (const op of body.ops) if (op.type === 2) withdrawn += op.amount
          }
        }
        for (const a of actions) {
          if (a.t === 'deposit') {
            seq.addDeposit(queue++, { publicKey: keys[a.k]!.publicKey, amount: a.amount })
            deposited += a.amount
          } else if (a.t === 'close') {
            closeAll()
          } else {
            const account = seq.pendingAccount(a.from)
            // Sign with the key that owns the account (indices follow deposit order).
            const k = Math.max(0, keys.findIndex((key) => key.publicKey[0] === account?.publicKey[0]))
            try {
              seq.submit(sign(k, { kind: a.t, from: a.from, to: a.to, amount: a.amount, nonce: account?.nonce ?? 0n }))
            } catch (err) {
              assert.ok(err instanceof RollupError, String(err))
            }
          }
        }
        closeAll()
        assert.equal(seq.pendingOps, 0)
        assert.equal(seq.tree.totalBalance() + withdrawn, deposited)
        assert.equal(replay.root, seq.tree.root)
      }),
      { numRuns: 25 },
    )
  })
})
