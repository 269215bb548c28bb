/**
 * Proving off the caller's thread: a worker that holds the circuit's wasm and
 * zkey and turns witness inputs into Groth16 proofs (snarkjs). One proof at a
 * time per worker (snarkjs already spreads one proof over every core).
 * Call close() when done: it ends the curve's threads and the worker.
 */
import type { Worker } from 'node:worker_threads'
import type { CircuitInput } from './batch.ts'
import { RollupError } from './errors.ts'
import type { Groth16Proof } from './pipeline/index.ts'
import { SNARK_WORKER_DATA, startWorker } from './worker-start.ts'

export interface ProofResult {
  proof: Groth16Proof
  publicSignals: string[]
  /** Witness computation (wasm), milliseconds. */
  witnessMs: number
  /** Groth16 proving, milliseconds. */
  proveMs: number
}

/**
 * A prover. A failure because the circuit refused the input (witness
 * generation hit a failed assert) is a RollupError('PROVER') with
 * `details.stage === 'witness'`; the node then looks for the op the circuit
 * refused (node.ts). Any other failure is not attributed to an op.
 */
export interface Prover {
  prove(input: CircuitInput): Promise<ProofResult>
  /** Computes the witness only (no proof): resolves when the circuit accepts the input. Optional; `prove` serves otherwise. */
  witness?(input: CircuitInput): Promise<void>
  close(): Promise<void>
}

/** Whether an error says the circuit refused the input (not a crash or an out-of-memory while proving). */
export function isCircuitRejection(err: unknown): boolean {
  return err instanceof RollupError && err.code === 'PROVER' && (err.details as { stage?: unknown } | undefined)?.stage === 'witness'
}

type Reply =
  | { type: 'ready'; multiThreaded: boolean }
  | ({ type: 'proof'; id: number } & ProofResult)
  | { type: 'witness'; id: number; witnessMs: number }
  | { type: 'error'; id: number; stage: 'witness' | 'prove'; message: string }

export class WorkerProver implements Prover {
  private worker: Worker | undefined
  private readyPromise: Promise<void> | undefined
  private nextId = 0
  private readonly pending = new Map<number, { resolve: (r: ProofResult | undefined) => void; reject: (e: Error) => void }>()
  /** Whether the worker's curve could use several threads. */
  multiThreaded = false

  constructor(readonly artifacts: { wasm: string; zkey: string }) {}

  ready(): Promise<void> {
    this.readyPromise ??= new Promise<void>((resolve, reject) => {
      const w = startWorker(new URL('./prover-worker.ts', import.meta.url), import.meta.url, {
        workerData: { ...SNARK_WORKER_DATA, wasm: this.artifacts.wasm, zkey: this.artifacts.zkey },
      })
      this.worker = w
      w.on('error', (err) => {
        reject(err)
        for (const p of this.pending.values()) p.reject(err)
        this.pending.clear()
      })
      w.on('message', (m: Reply) => {
        if (m.type === 'ready') {
          this.multiThreaded = m.multiThreaded
          resolve()
          return
        }
        const p = this.pending.get(m.id)
        if (p === undefined) return
        this.pending.delete(m.id)
        if (m.type === 'error')
          p.reject(new RollupError('PROVER', `${m.stage === 'witness' ? 'the circuit refused the batch' : 'proving failed'}: ${m.message}`, { details: { stage: m.stage } }))
        else if (m.type === 'witness') p.resolve(undefined)
        else p.resolve({ proof: m.proof, publicSignals: m.publicSignals, witnessMs: m.witnessMs, proveMs: m.proveMs })
        if (this.pending.size === 0) w.unref()
      })
    })
    return this.readyPromise
  }

  async prove(input: CircuitInput): Promise<ProofResult> {
    return (await this.request('prove', input)) as ProofResult
  }

  async witness(input: CircuitInput): Promise<void> {
    await this.request('witness', input)
  }

  private async request(type: 'prove' | 'witness', input: CircuitInput): Promise<ProofResult | undefined> {
    await this.ready()
    const w = this.worker as Worker
    const id = this.nextId++
    w.ref()
    return new Promise<ProofResult | undefined>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      w.postMessage({ type, id, input })
    })
  }

  /** Ends the worker at once: a proof in progress is abandoned and its caller gets a PROVER error (a timeout's way out). */
  async terminate(): Promise<void> {
    const w = this.worker
    this.worker = undefined
    this.readyPromise = undefined
    const err = new RollupError('PROVER', 'the prover was terminated', { details: { stage: 'prove' } })
    for (const p of this.pending.values()) p.reject(err)
    this.pending.clear()
    if (w !== undefined) await w.terminate()
  }

  async close(): Promise<void> {
    if (this.readyPromise === undefined) return
    await this.readyPromise.catch(() => undefined)
    const w = this.worker
    this.worker = undefined
    this.readyPromise = undefined
    if (w === undefined) return
    await new Promise<void>((resolve) => {
      w.once('exit', () => resolve())
      w.ref()
      w.postMessage({ type: 'close' })
    })
  }
}
