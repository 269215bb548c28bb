/**
 * `npm run bench [-- --quick]`: channel update throughput against the crypto
 * bound (noble and node:crypto; memory, SQLite FULL and NORMAL stores),
 * scaling over worker threads, and adjudicator gas. Prints tables; `--json`
 * prints the raw result instead.
 */
import { formatChannelBench, runChannelBench } from '../src/index.ts'

const quick = process.argv.includes('--quick')
const result = await runChannelBench({ quick })
if (process.argv.includes('--json')) console.log(JSON.stringify(result, null, 2))
else console.log(formatChannelBench(result))
