/** A small test contract: a key-value store with a payable deposit and a payout, enough to exercise the host. */
import { type Address, NobleSigner, codec, secretKeyFromSeed } from '@l2bench/core'
import { type CallContext, Contract, MockL1, type MockL1Options, type ReadContext, Wallet } from '@l2bench/l1-mock'

const abi = codec.messages({
  set: [1, codec.struct({ key: codec.string(32), value: codec.u32 })],
  deposit: [2, codec.struct({})],
  withdraw: [3, codec.struct({ amount: codec.amount })],
  failAfterWrites: [4, codec.struct({ key: codec.string(32) })],
  burn: [5, codec.struct({ loops: codec.u32 })],
})
export type StoreCall = codec.Infer<typeof abi>

export class Store extends Contract<StoreCall> {
  readonly name = 'Store'
  readonly abi = abi
  execute(ctx: CallContext, call: StoreCall): unknown {
    switch (call.type) {
      case 'set':
        ctx.sstore(`kv:${call.key}`, call.value)
        ctx.emit('Set', { key: call.key, value: call.value })
        return call.value
      case 'deposit': {
        const have = ctx.sload<bigint>(`dep:${ctx.sender}`) ?? 0n
        ctx.sstore(`dep:${ctx.sender}`, have + ctx.value)
        ctx.emit('Deposited', { who: ctx.sender, value: ctx.value })
        return undefined
      }
      case 'withdraw': {
        const have = ctx.sload<bigint>(`dep:${ctx.sender}`) ?? 0n
        if (call.amount > have) ctx.revert('withdraw above deposit', 'amount')
        ctx.sstore(`dep:${ctx.sender}`, have - call.amount)
        ctx.transfer(ctx.sender, call.amount)
        return undefined
      }
      case 'failAfterWrites':
        ctx.sstore(`kv:${call.key}`, 12345)
        ctx.transfer(ctx.sender, ctx.balanceOf(ctx.self))
        ctx.emit('Never', {})
        return ctx.revert('deliberate failure', 'key')
      case 'burn':
        for (let i = 0; i < call.loops; i++) ctx.charge('keccakBase', 'burn')
        return undefined
    }
  }
  override view(ctx: ReadContext, method: string, args: unknown[]): unknown {
    if (method === 'get') return ctx.sload<number>(`kv:${String(args[0])}`)
    if (method === 'deposit') return ctx.sload<bigint>(`dep:${String(args[0])}`) ?? 0n
    return super.view(ctx, method, args)
  }
}

export const ETH = 10n ** 18n

export function world(n: number, options: MockL1Options = {}) {
  const l1 = new MockL1(options)
  const wallets = Array.from({ length: n }, (_, i) => new Wallet(new NobleSigner(secretKeyFromSeed(`l1-test-${i}`)), l1))
  for (const w of wallets) l1.mint(w.address, 100n * ETH)
  const store = l1.deploy(new Store())
  return { l1, wallets, store }
}

/** Everything observable about the chain, for "nothing changed" checks. */
export function snapshot(l1: MockL1, store: Store, accounts: Address[]) {
  return {
    balances: accounts.map((a) => l1.balanceOf(a)),
    contractBalance: l1.balanceOf(store.address),
    nonces: accounts.map((a) => l1.nonceOf(a)),
    events: l1.events().length,
    kv: ['a', 'b', 'c'].map((k) => l1.readSync(store.address, 'get', [k])),
    deposits: accounts.map((a) => l1.readSync(store.address, 'deposit', [a])),
  }
}
