/**
 * Proving off the caller's thread: a worker that holds the circuit's wasm and
 * zkey and turns witness inputs into Groth16 proofs (snarkjs). One proof at a
 * time per worker; by default snarkjs spreads that proof over every core.
 * `ProverPool` runs one single-threaded worker per core instead, so batches
 * whose witnesses are ready prove side by side (a batch's witness needs only
 * the roots the sequencer computed, not the previous batch's proof).
 * Call close() when done: it ends the curve's threads and the workers.
 */
import { availableParallelism } from 'node:os'
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
  /**
   * CPU time spent on witness + proof, ms: the proving thread's (single-threaded
   * workers on Linux), or a farm worker's process over the job; absent otherwise.
   */
  cpuMs?: number
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

export interface WorkerProverOptions {
  /** Run the curve in the worker's own thread (no nested threads): one core per proof. Default false. */
  singleThread?: boolean
}

export class WorkerProver implements Prover {
  private worker: Worker | undefined
  private readyPromise: Promise<void> | undefined
  private nextId = 0
  private readonly pending = new Map<number, { resolve: (r: ProofResult | undefined) => void; reject: (e: Error) => void }>()
  /** Whether the worker's curve could use several threads. */
  multiThreaded = false

  constructor(
    readonly artifacts: { wasm: string; zkey: string },
    readonly options: WorkerProverOptions = {},
  ) {}

  ready(): Promise<void> {
    this.readyPromise ??= new Promise<void>((resolve, reject) => {
      const w = startWorker(new URL('./prover-worker.ts', import.meta.url), import.meta.url, {
        workerData: { ...SNARK_WORKER_DATA, wasm: this.artifacts.wasm, zkey: this.artifacts.zkey, singleThread: this.options.singleThread === true },
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
        else
          p.resolve({
            proof: m.proof,
            publicSignals: m.publicSignals,
            witnessMs: m.witnessMs,
            proveMs: m.proveMs,
            ...(m.cpuMs !== undefined ? { cpuMs: m.cpuMs } : {}),
          })
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

export interface ProverPoolOptions {
  /** Workers (default: the machine's available parallelism). */
  size?: number
}

/**
 * Several WorkerProvers, each single-threaded when there is more than one
 * (one core per proof), taking proofs in arrival order as workers free up.
 * With one worker it is a WorkerProver whose curve uses every core.
 */
export class ProverPool implements Prover {
  readonly size: number
  private readonly workers: WorkerProver[]
  private idle: WorkerProver[]
  private readonly waiting: { resolve: (w: WorkerProver) => void; reject: (e: Error) => void }[] = []
  private closed = false

  constructor(
    readonly artifacts: { wasm: string; zkey: string },
    options: ProverPoolOptions = {},
  ) {
    this.size = options.size ?? availableParallelism()
    if (!Number.isSafeInteger(this.size) || this.size < 1) throw new RollupError('PROVER', `pool size must be a positive integer, got ${String(options.size)}`, { field: 'size' })
    this.workers = Array.from({ length: this.size }, () => new WorkerProver(artifacts, { singleThread: this.size > 1 }))
    this.idle = [...this.workers]
  }

  /** Starts every worker (loads wasm and zkey); proving starts them on demand otherwise. */
  async ready(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.ready()))
  }

  /** Proofs queued for a free worker. */
  get queued(): number {
    return this.waiting.length
  }

  private acquire(): Promise<WorkerProver> {
    if (this.closed) return Promise.reject(new RollupError('PROVER', 'the prover pool is closed', { field: 'prover' }))
    const w = this.idle.pop()
    if (w !== undefined) return Promise.resolve(w)
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }))
  }

  private release(w: WorkerProver): void {
    const next = this.waiting.shift()
    if (next !== undefined) next.resolve(w)
    else this.idle.push(w)
  }

  private async use<T>(f: (w: WorkerProver) => Promise<T>): Promise<T> {
    const w = await this.acquire()
    try {
      return await f(w)
    } finally {
      this.release(w)
    }
  }

  prove(input: CircuitInput): Promise<ProofResult> {
    return this.use((w) => w.prove(input))
  }

  witness(input: CircuitInput): Promise<void> {
    return this.use((w) => w.witness(input))
  }

  async close(): Promise<void> {
    this.closed = true
    for (const q of this.waiting.splice(0)) q.reject(new RollupError('PROVER', 'the prover pool closed before a worker was free', { field: 'prover' }))
    await Promise.all(this.workers.map((w) => w.close()))
  }
}
