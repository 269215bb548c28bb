/**
 * Starting a worker thread on a sibling module, from source or from dist.
 * From source (.ts), Node 20 does not apply the parent's `--import tsx` hooks
 * inside workers, so a tiny bootstrap registers tsx first; after `tsc` the
 * sibling is plain .js.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads'

export function startWorker(moduleUrl: URL, fromUrl: string, options: WorkerOptions = {}): Worker {
  if (!fromUrl.endsWith('.ts')) return new Worker(new URL(moduleUrl.href.replace(/\.ts$/, '.js')), options)
  const api = import.meta.resolve('tsx/esm/api')
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(moduleUrl.href)}) })`
  return new Worker(boot, { ...options, eval: true })
}

/**
 * workerData for a worker that loads snarkjs/ffjavascript. Their `web-worker`
 * dependency, when imported inside any worker thread, assumes it is its own
 * worker and reads `workerData.mod` (the script to run); this gives it an
 * empty module. Inside such a worker ffjavascript cannot spawn threads, so
 * build a single-threaded curve there (see singleThreadCurve).
 */
export const SNARK_WORKER_DATA = { mod: 'data:text/javascript,', type: 'module', name: 'l2bench-snark' }
