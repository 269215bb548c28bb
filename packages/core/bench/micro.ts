/**
 * Micro suite for @l2bench/core: signing and verification with noble vs
 * OpenSSL (node:crypto), hashing, and the codec. Run: `npm run bench -w @l2bench/core`
 * (add `-- --quick` for a short run). `runCoreMicro` returns the rows for the
 * harness (`l2bench micro`).
 */
import { Bench } from 'tinybench'
import {
  NobleSigner,
  NodeSigner,
  codec,
  decode,
  encode,
  keccak256,
  nobleVerifier,
  nodeVerifier,
  secretKeyFromSeed,
  sha256,
  taggedHash,
} from '@l2bench/core'

export interface MicroRow {
  suite: string
  name: string
  opsPerSec: number
  meanMs: number
  p99Ms: number
  rmePercent: number
  samples: number
}

const State = codec.struct({
  channel: codec.fixedBytes(32),
  version: codec.u64,
  balances: codec.list(codec.amount, 2),
  locked: codec.list(codec.struct({ hash: codec.fixedBytes(32), amount: codec.amount, expiry: codec.u32 }), 16),
  isFinal: codec.bool,
})

export async function runCoreMicro(options: { quick?: boolean } = {}): Promise<MicroRow[]> {
  const time = options.quick ? 150 : 1000
  const bench = new Bench({ time, warmupTime: options.quick ? 20 : 100 })
  const sk = secretKeyFromSeed('micro')
  const noble = new NobleSigner(sk)
  const node = new NodeSigner(sk)
  const digest = taggedHash('micro', new Uint8Array([1, 2, 3]))
  const sig = noble.sign(digest)
  const msg64 = new Uint8Array(64).fill(7)
  const state = {
    channel: new Uint8Array(32).fill(1),
    version: 123456n,
    balances: [10n ** 18n, 5n * 10n ** 17n],
    locked: [{ hash: new Uint8Array(32).fill(9), amount: 1000n, expiry: 500 }],
    isFinal: false,
  }
  const bytes = encode(State, state)
  bench
    .add('sign (noble)', () => noble.sign(digest))
    .add('sign (node:crypto)', () => node.sign(digest))
    .add('verify (noble)', () => nobleVerifier.verify(sig, digest, noble.publicKey))
    .add('verify (node:crypto)', () => nodeVerifier.verify(sig, digest, noble.publicKey))
    .add('sha256 64 B', () => sha256(msg64))
    .add('keccak256 64 B', () => keccak256(msg64))
    .add('encode channel state', () => encode(State, state))
    .add('decode channel state', () => decode(State, bytes))
  await bench.run()
  return bench.tasks.map((t) => {
    const r = t.result as unknown as {
      throughput: { mean: number }
      latency: { mean: number; p99: number; rme: number; samplesCount?: number }
    }
    return {
      suite: 'core',
      name: t.name,
      opsPerSec: r.throughput.mean,
      meanMs: r.latency.mean,
      p99Ms: r.latency.p99,
      rmePercent: r.latency.rme,
      samples: r.latency.samplesCount ?? 0,
    }
  })
}

export function printRows(rows: MicroRow[]): void {
  console.table(
    rows.map((r) => ({
      suite: r.suite,
      task: r.name,
      'ops/s': Math.round(r.opsPerSec).toLocaleString('en-US'),
      'mean µs': (r.meanMs * 1000).toFixed(1),
      'p99 µs': (r.p99Ms * 1000).toFixed(1),
      '±%': r.rmePercent.toFixed(1),
    })),
  )
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await runCoreMicro({ quick: process.argv.includes('--quick') })
  printRows(rows)
  const find = (n: string) => rows.find((r) => r.name === n)?.opsPerSec ?? Number.NaN
  const nobleVerify = find('verify (noble)')
  const nodeVerify = find('verify (node:crypto)')
  console.log(`node:crypto verify is ${(nodeVerify / nobleVerify).toFixed(1)}× noble's in this run`)
  const bound = (s: number, v: number) => 1 / (2 / s + 2 / v)
  console.log(
    `two-party update bound (2 signs + 2 verifies): noble ${bound(find('sign (noble)'), nobleVerify).toFixed(0)}/s, ` +
      `noble sign + node verify ${bound(find('sign (noble)'), nodeVerify).toFixed(0)}/s`,
  )
}
