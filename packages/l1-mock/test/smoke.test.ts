import assert from 'node:assert/strict'
import { test } from 'node:test'
import { NobleSigner, codec, secretKeyFromSeed } from '@l2bench/core'
import { Contract, type CallContext, MockL1, Wallet } from '@l2bench/l1-mock'

const abi = codec.messages({ inc: [1, codec.struct({ by: codec.u32 })], fail: [2, codec.struct({})] })
type Call = codec.Infer<typeof abi>
class Counter extends Contract<Call> {
  readonly name = 'Counter'
  readonly abi = abi
  execute(ctx: CallContext, call: Call) {
    if (call.type === 'fail') {
      ctx.sstore('n', 999)
      ctx.revert('nope', 'x')
    }
    const n = ctx.sload<number>('n') ?? 0
    ctx.sstore('n', n + call.by)
    ctx.emit('Inc', { n: n + 1 })
    return n + 1
  }
}

test('smoke', async () => {
  const l1 = new MockL1()
  const a = new Wallet(new NobleSigner(secretKeyFromSeed('a')), l1)
  const b = new Wallet(new NobleSigner(secretKeyFromSeed('b')), l1)
  l1.mint(a.address, 10n ** 18n)
  const r = await a.transfer(b.address, 5n)
  assert.equal(r.status, 'success')
  assert.equal(r.gasUsed, 21000)
  assert.equal(l1.balanceOf(b.address), 5n)
  const c = l1.deploy(new Counter())
  const r2 = await a.call(c, { type: 'inc', by: 3 })
  assert.equal(r2.status, 'success', r2.revertReason)
  const r3 = await a.call(c, { type: 'fail' }, { gasLimit: 100000n })
  assert.equal(r3.status, 'reverted')
  assert.equal(r3.revertField, 'x')
  assert.equal(l1.totalBalances() + l1.totalBurnt(), l1.totalMinted())
})
