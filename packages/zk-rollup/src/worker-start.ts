/**
 * Worker helpers for snarkjs in worker threads. `startWorker` (the tsx
 * bootstrap for workers run from source) lives in core.
 */
export { startWorker } from '@l2bench/core'

/**
 * workerData for a worker that loads snarkjs/ffjavascript. Their `web-worker`
 * dependency, when imported inside any worker thread, assumes it is its own
 * worker and reads `workerData.mod` (the script to run); this gives it an
 * empty module. Inside such a worker ffjavascript cannot spawn threads, so
 * build a single-threaded curve there (see singleThreadCurve).
 */
export const SNARK_WORKER_DATA = { mod: 'data:text/javascript,', type: 'module', name: 'l2bench-snark' }
