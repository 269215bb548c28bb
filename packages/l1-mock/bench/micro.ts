/**
 * Micro suite for @l2bench/l1-mock: how fast the mock itself processes value
 * transfers (the L1 baseline design), so its overhead can be told apart from
 * a design's. Run: `npm run bench -w @l2bench/l1-mock` (`-- --quick`).
 */
import { NobleSigner, NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import { Bench } from 'tinybench'
import { MockL1, Wallet, signTx } from '../src/index.ts'
import type { MicroRow } from '../../core/bench/micro.ts'

export async function runL1Micro(options: { quick?: boolean } = {}): Promise<MicroRow[]> {
  const time = options.quick ? 200 : 1000
  const bench = new Bench({ time, warmupTime: options.quick ? 20 : 100 })
  const mk = (autoMine: boolean) => {
    const l1 = new MockL1({ autoMine })
    const a = new Wallet(new NodeSigner(secretKeyFromSeed('l1-micro-a')), l1)
    const b = new NobleSigner(secretKeyFromSeed('l1-micro-b'))
    l1.mint(a.address, 10n ** 30n)
    return { l1, a, b }
  }
  const auto = mk(true)
  const manual = mk(false)
  const BLOCK = 500
  let nonce = 0n
  const presign = () =>
    signTx(manual.a.signer, {
      chainId: manual.l1.chainId,
      nonce: nonce++,
      to: manual.b.address,
      value: 1n,
      gasLimit: 21_000n,
      gasPrice: 1n,
      data: new Uint8Array(),
    })
  let next = presign()
  bench
    .add('transfer: sign + send + mine (auto-mine, 1 tx/block)', () => {
      auto.l1.sendSync(auto.a.sign(auto.b.address, new Uint8Array(), { value: 1n, gasLimit: 21_000n }))
    })
    .add(
      'transfer: admit a presigned tx (verify + checks)',
      () => {
        manual.l1.sendSync(next)
      },
      {
        beforeEach() {
          next = presign()
        },
      },
    )
    .add(
      `transfer: execute (per block of ${BLOCK})`,
      () => manual.l1.mine(1),
      {
        beforeEach() {
          // Queue a block's worth; admission is not measured here.
          for (let i = 0; i < BLOCK; i++) manual.l1.sendSync(presign())
        },
      },
    )
  await bench.run()
  return bench.tasks.map((t) => {
    const r = t.result as unknown as { throughput: { mean: number }; latency: { mean: number; p99: number; rme: number; samplesCount?: number } }
    const perBlock = t.name.includes('per block')
    return {
      suite: 'l1-mock',
      name: perBlock ? `transfer: execute in ${BLOCK}-tx blocks (per tx)` : t.name,
      opsPerSec: perBlock ? r.throughput.mean * BLOCK : r.throughput.mean,
      meanMs: perBlock ? r.latency.mean / BLOCK : r.latency.mean,
      p99Ms: perBlock ? r.latency.p99 / BLOCK : r.latency.p99,
      rmePercent: r.latency.rme,
      samples: r.latency.samplesCount ?? 0,
    }
  })
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { printRows } = await import('../../core/bench/micro.ts')
  printRows(await runL1Micro({ quick: process.argv.includes('--quick') }))
}
