/**
 * Worker half of SyncGroth16Verifier: verifies with snarkjs and reports
 * through shared memory (slot 1 = result, slot 0 = done, notified).
 * On 'close' it exits (its curve is single-threaded: no threads to end).
 */
import { parentPort } from 'node:worker_threads'
import { loadFfjavascript, loadSnarkjs } from './pipeline/index.ts'
import type { Groth16Proof, VerificationKey } from './pipeline/index.ts'

interface VerifyMessage {
  type: 'verify'
  vkey: VerificationKey
  publicSignals: string[]
  proof: Groth16Proof
  shared: SharedArrayBuffer
}

const port = parentPort
if (port === null) throw new Error('groth16-worker must run in a worker thread')

// Load everything verification needs before reporting ready: afterwards the
// caller blocks its own thread while waiting, so nothing may depend on it.
// ffjavascript cannot start threads inside a worker (see SNARK_WORKER_DATA):
// install a single-threaded curve where snarkjs looks for the shared one.
// (After loading snarkjs: loading ffjavascript resets that global.)
await loadSnarkjs()
const ff = await loadFfjavascript()
;(globalThis as { curve_bn128?: unknown }).curve_bn128 = await ff.buildBn128(true)
port.postMessage({ type: 'ready' })

// Messages are handled one at a time: the caller blocks until each answer.
let queue: Promise<void> = Promise.resolve()
port.on('message', (msg: VerifyMessage | { type: 'close' }) => {
  queue = queue.then(async () => {
    if (msg.type === 'close') {
      port.close()
      process.exit(0)
    }
    let ok = false
    try {
      const snarkjs = await loadSnarkjs()
      ok = await snarkjs.groth16.verify(msg.vkey, msg.publicSignals, msg.proof)
    } catch (err) {
      if (process.env.L2BENCH_DEBUG_VERIFY) console.error('groth16-worker:', err)
      ok = false
    }
    const flag = new Int32Array(msg.shared)
    Atomics.store(flag, 1, ok ? 1 : 0)
    Atomics.store(flag, 0, 1)
    Atomics.notify(flag, 0)
  })
})
