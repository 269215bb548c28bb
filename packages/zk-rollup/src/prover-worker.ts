/**
 * Worker half of WorkerProver: computes the witness with the circuit's wasm
 * and a Groth16 proof with snarkjs, off the caller's thread. On 'close' it
 * terminates the curve's threads (curve.terminate()) and exits.
 *
 * snarkjs's curve (ffjavascript) starts its own threads through the
 * `web-worker` package, which only does so when it believes it runs on the
 * main thread; it is told so before it loads, so proving here still uses every
 * core. (Threads it starts are nested workers of this one.) With
 * `singleThread` the curve runs in this thread only — a pool of such workers
 * proves several batches at once, one per core — and every proof reports the
 * CPU time this thread spent on it (Linux: /proc/thread-self/schedstat).
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type * as WorkerThreads from 'node:worker_threads'
import type { Groth16Proof } from './pipeline/index.ts'

// The CommonJS exports object of worker_threads (the one `web-worker` reads), not the frozen ESM namespace.
const threads = createRequire(import.meta.url)('node:worker_threads') as typeof WorkerThreads & { isMainThread: boolean }
const port = threads.parentPort
if (port === null) throw new Error('prover-worker must run in a worker thread')

const { wasm, zkey, singleThread } = threads.workerData as { wasm: string; zkey: string; singleThread?: boolean }
if (singleThread !== true) threads.isMainThread = true
const multiThreaded = singleThread !== true && threads.isMainThread

const { getCurve, loadFfjavascript, loadSnarkjs } = await import('./pipeline/index.ts')
const snarkjs = await loadSnarkjs()
if (multiThreaded) {
  await getCurve()
} else {
  const ff = await loadFfjavascript()
  ;(globalThis as { curve_bn128?: unknown }).curve_bn128 = await ff.buildBn128(true)
}
port.postMessage({ type: 'ready', multiThreaded })

interface ProveMessage {
  /** 'witness' computes the witness only (the circuit's asserts run there): a cheap validity check. */
  type: 'prove' | 'witness'
  id: number
  input: Record<string, unknown>
}

/**
 * CPU time of this thread so far, ms: the kernel's run time of the calling
 * thread (schedstat, nanoseconds), else utime + stime (stat, clock ticks of
 * 10 ms). Undefined off Linux, and for a multi-threaded curve (its threads
 * are others).
 */
function threadCpuMs(): number | undefined {
  if (multiThreaded) return undefined
  try {
    const ns = Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0])
    if (Number.isFinite(ns) && ns > 0) return ns / 1e6
  } catch {}
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    if (Number.isFinite(ticks)) return ticks * 10
  } catch {}
  return undefined
}

let queue: Promise<void> = Promise.resolve()
port.on('message', (msg: ProveMessage | { type: 'close' }) => {
  queue = queue.then(async () => {
    if (msg.type === 'close') {
      const curve = (globalThis as { curve_bn128?: { terminate(): Promise<void> } | null }).curve_bn128
      if (curve !== undefined && curve !== null) await curve.terminate()
      port.close()
      process.exit(0)
    }
    const t0 = performance.now()
    const cpu0 = threadCpuMs()
    const wtns: { type: 'mem'; data?: Uint8Array } = { type: 'mem' }
    try {
      await snarkjs.wtns.calculate(msg.input, wasm, wtns)
    } catch (err) {
      // The circuit refused the input (an assert failed): deterministic, unlike a failure while proving.
      port.postMessage({ type: 'error', id: msg.id, stage: 'witness', message: (err as Error)?.message ?? String(err) })
      return
    }
    if (msg.type === 'witness') {
      port.postMessage({ type: 'witness', id: msg.id, witnessMs: performance.now() - t0 })
      return
    }
    try {
      const t1 = performance.now()
      const { proof, publicSignals } = (await snarkjs.groth16.prove(zkey, wtns as unknown as Uint8Array)) as {
        proof: Groth16Proof
        publicSignals: string[]
      }
      const t2 = performance.now()
      const cpu1 = threadCpuMs()
      const cpuMs = cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined
      port.postMessage({ type: 'proof', id: msg.id, proof, publicSignals, witnessMs: t1 - t0, proveMs: t2 - t1, ...(cpuMs !== undefined ? { cpuMs } : {}) })
    } catch (err) {
      port.postMessage({ type: 'error', id: msg.id, stage: 'prove', message: (err as Error)?.message ?? String(err) })
    }
  })
})
