/**
 * `npm run bench [-- --quick]`: channel update throughput against the crypto
 * bound (noble and node:crypto; memory, SQLite FULL and NORMAL stores),
 * scaling over worker threads, durable (SQLite FULL) payments/s under a
 * saturating load — one pair and eight channels, merging and group commit off
 * and on, beside the crypto and fsync bounds measured in the same rounds —
 * and adjudicator gas. Prints tables; `--json` prints the raw result instead.
 * `-- --durable` runs only the durable section (`--rounds N`, `--round-ms M`,
 * `--normal` for synchronous=NORMAL).
 */
import { formatChannelBench, formatDurableBench, runChannelBench, runDurableBench } from '../src/index.ts'

const args = process.argv.slice(2)
const num = (flag: string) => {
  const i = args.indexOf(flag)
  return i < 0 ? undefined : Number(args[i + 1])
}
const quick = args.includes('--quick')
const json = args.includes('--json')
if (args.includes('--durable')) {
  const rounds = num('--rounds')
  const roundMs = num('--round-ms')
  const result = await runDurableBench({
    synchronous: args.includes('--normal') ? 'NORMAL' : 'FULL',
    ...(rounds === undefined ? (quick ? { rounds: 3 } : {}) : { rounds }),
    ...(roundMs === undefined ? (quick ? { roundMs: 400 } : {}) : { roundMs }),
  })
  console.log(json ? JSON.stringify(result, null, 2) : formatDurableBench(result))
} else {
  const result = await runChannelBench({ quick })
  console.log(json ? JSON.stringify(result, null, 2) : formatChannelBench(result))
}
