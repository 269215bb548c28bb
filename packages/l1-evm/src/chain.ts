/**
 * Either backend behind one small interface, for code that runs the same
 * script on both (the shared test suites, the parity table): `Chain` awaits
 * the mock's synchronous extras, and `backends(make)` gives a world builder
 * that runs on a fresh MockL1 every time, or on one anvil snapshotted after
 * the first build and reverted before every later one (fast, and nothing
 * leaks from one use to the next).
 */
import type { Address } from '@l2bench/core'
import { type Contract, type L1, MockL1, Wallet } from '@l2bench/l1-mock'
import { BINDINGS } from './contracts/index.ts'
import { EvmL1, type EvmSnapshot } from './evm.ts'

export type BackendName = 'mock' | 'evm'

/** What a test may do to either chain (the mock's synchronous extras, awaited). */
export interface Chain {
  readonly backend: BackendName
  readonly l1: L1
  deploy<C extends Contract>(c: C): Promise<C>
  mint(a: Address, v: bigint): Promise<void>
  mine(n?: number): Promise<void>
  advanceTo(height: number): Promise<void>
}

export interface Backend<W> {
  readonly name: BackendName
  /** A world as `make` builds it, in a chain no other test touched. */
  world(): Promise<W>
  close(): Promise<void>
}

export function mockChain(l1: MockL1): Chain {
  return {
    backend: 'mock',
    l1,
    deploy: async (c) => l1.deploy(c),
    mint: async (a, v) => l1.mint(a, v),
    mine: async (n = 1) => l1.mine(n),
    advanceTo: async (h) => l1.advanceTo(h),
  }
}

export function evmChain(l1: EvmL1): Chain {
  return {
    backend: 'evm',
    l1,
    deploy: (c) => l1.deploy(c),
    mint: (a, v) => l1.mint(a, v),
    mine: (n = 1) => l1.mine(n),
    advanceTo: (h) => l1.advanceTo(h),
  }
}

/** Resyncs every Wallet reachable from `value` within `depth` levels of properties. */
function resyncWallets(value: unknown, depth: number): void {
  if (value instanceof Wallet) {
    value.resyncNonce()
    return
  }
  if (depth === 0 || typeof value !== 'object' || value === null) return
  for (const v of Object.values(value)) resyncWallets(v, depth - 1)
}

export function backends<W extends object>(make: (chain: Chain) => Promise<W>): Backend<W>[] {
  let evm: EvmL1 | undefined
  let built: { world: W; snap: EvmSnapshot } | undefined
  return [
    {
      name: 'mock',
      world: () => make(mockChain(new MockL1())),
      close: async () => {},
    },
    {
      name: 'evm',
      async world() {
        if (evm === undefined) evm = await EvmL1.start({ bindings: BINDINGS })
        if (built === undefined) {
          const world = await make(evmChain(evm))
          built = { world, snap: await evm.snapshot() }
          return world
        }
        await evm.revert(built.snap)
        built.snap = await evm.snapshot()
        // Wallets remember their next nonce; the chain just went back.
        resyncWallets(built.world, 2)
        return built.world
      },
      close: async () => {
        await evm?.stop()
      },
    },
  ]
}
