/**
 * Worker thread of `measureScaling`: opens its pairs, reports ready, waits for
 * 'go', runs every pair's updates concurrently and reports the count.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { VerifierName } from '@l2bench/core'
import { openBenchPair, runUpdates } from './bench.ts'

const { pairs, updatesPerPair, backend, seed } = workerData as { pairs: number; updatesPerPair: number; backend: VerifierName; seed: string }
const port = parentPort
if (port === null) throw new Error('bench-worker must run in a worker thread')
const all = await Promise.all(Array.from({ length: pairs }, (_, i) => openBenchPair(backend, 'memory', `${seed}-${i}`)))
await Promise.all(all.map((p) => runUpdates(p, 10)))
port.once('message', async () => {
  await Promise.all(all.map((p) => runUpdates(p, updatesPerPair)))
  for (const p of all) p.cleanup()
  port.postMessage({ updates: pairs * updatesPerPair })
})
port.postMessage({ ready: true })
