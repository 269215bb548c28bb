/**
 * The farm's speed-up over one worker, measured inside the run that uses the
 * farm (QueueProver's `measureSpeedup`, `l2bench run --prover-speedup`).
 *
 * The first proofs of the run pass through a gate: a warm-up round of one
 * proof per worker (`workers` at a time, not counted: a worker's first proof
 * may pay for its prover thread's first use), then four blocks of
 * `blockBatches` proofs each, in ABBA order: A lets one job out at a time
 * (only one worker can be busy: the throughput of one worker), B lets out as
 * many at a time as the pool to compare (`workers`: the farm's throughput;
 * the blocks begin once that many workers serve the circuit). A block starts when the block before it has drained
 * (every proof of it back and verified) and ends when its last proof is back;
 * its time per batch is its wall time ÷ its batches. Speed-up = the mean time
 * per batch of the A blocks ÷ that of the B blocks — both measured here, on
 * the same machines under the same load, interleaved so that a drift in load
 * falls on both sides alike. After the four blocks the gate is open.
 *
 * It is not a measurement when the sequencer did not keep the farm busy (a
 * block found no job waiting while it had room: it measured the sequencer),
 * when the run proved fewer than workers + 4 × blockBatches batches, or when fewer
 * workers than the pool served the circuit; the result says which.
 */
import { loadavg } from 'node:os'

export interface SpeedupBlock {
  /** Jobs let out at once: 1 (A) or the workers (B). */
  cap: number
  batches: number
  wallMs: number
  /** Jobs of the block that needed a retry or were taken over from a dead worker. */
  retried: number
}

export type SpeedupResult =
  | {
      measured: true
      /** The pool compared with one worker (the B blocks' cap). */
      workers: number
      blockBatches: number
      /** Proofs of the warm-up round before the blocks (one per worker), not counted. */
      warmup: number
      /** In order: A, B, B, A. */
      blocks: SpeedupBlock[]
      /** Mean time per batch with one job at a time, ms. */
      oneWorkerMsPerBatch: number
      /** Mean time per batch with `workers` jobs at a time, ms. */
      poolMsPerBatch: number
      /** oneWorkerMsPerBatch ÷ poolMsPerBatch. */
      speedup: number
      /** This machine's 1-minute load average when the blocks began and ended. */
      loadAverage: { start: number; end: number }
    }
  | { measured: false; reason: string }

export interface SpeedupGateOptions {
  /** The pool to compare with one worker: the B blocks let this many jobs out at once (≥ 2). */
  workers: number
  /** Live workers serving the circuit; the blocks begin once `workers` of them do. */
  liveWorkers: () => Promise<number>
  /** How long the first proof waits for `workers` live workers before the measurement is given up (default 120,000 ms). */
  waitMs?: number
  /** Proofs per block (default 2 × workers: two full rounds of the pool per B block). */
  blockBatches?: number
  now?: () => number
  load?: () => number
  /** Called once, when the result is known (the blocks are done, or the measurement was given up). */
  onResult?: (r: SpeedupResult) => void
}

/** A job let out of the gate: call `done` once its proof is back (or it failed). */
export type Release = (o?: { retried?: boolean }) => void

const NOOP: Release = () => {}

export class SpeedupGate {
  private state: 'idle' | 'starting' | 'measuring' | 'open' = 'idle'
  private result_: SpeedupResult | undefined
  private readonly workers: number
  private readonly blockBatches: number
  /** The phases: the warm-up round, then A, B, B, A. */
  private phases: { cap: number; batches: number }[] = []
  private readonly blocks: SpeedupBlock[] = []
  private block = 0
  private released = 0
  private settled = 0
  private active = 0
  private t0 = 0
  private retried = 0
  private load0 = 0
  private starved = false
  private readonly waiting: { resolve: (r: Release) => void; reject: (e: Error) => void }[] = []
  private failure: Error | undefined
  private readonly now: () => number
  private readonly load: () => number

  constructor(private readonly o: SpeedupGateOptions) {
    this.now = o.now ?? (() => performance.now())
    this.load = o.load ?? (() => loadavg()[0] ?? 0)
    if (!Number.isSafeInteger(o.workers) || o.workers < 2 || o.workers > 1_000) throw new RangeError(`workers: expected an integer 2..1000, got ${o.workers}`)
    if (o.blockBatches !== undefined && (!Number.isSafeInteger(o.blockBatches) || o.blockBatches < 1 || o.blockBatches > 100_000))
      throw new RangeError(`blockBatches: expected an integer 1..100000, got ${o.blockBatches}`)
    this.workers = o.workers
    this.blockBatches = o.blockBatches ?? 2 * o.workers
  }

  /** Waits for the job's turn; resolves with the function to call when its proof is back. */
  async acquire(): Promise<Release> {
    if (this.failure !== undefined) throw this.failure
    if (this.state === 'open') return NOOP
    const turn = new Promise<Release>((resolve, reject) => this.waiting.push({ resolve, reject }))
    if (this.state === 'idle') {
      this.state = 'starting'
      void this.start()
    } else this.pump()
    return turn
  }

  /** The measurement, once the four blocks are done (or why there is none). */
  result(proofs: number): SpeedupResult {
    if (this.result_ !== undefined) return this.result_
    if (this.state === 'idle') return { measured: false, reason: 'no batch was proven' }
    const need = this.workers + 4 * this.blockBatches
    return {
      measured: false,
      reason: `the run proved ${proofs} batch${proofs === 1 ? '' : 'es'}; the measurement needs ${need} (a warm-up round of ${this.workers}, then 4 blocks of ${this.blockBatches})`,
    }
  }

  /** Fails every job still waiting at the gate (Redis lost, prover closed). */
  fail(err: Error): void {
    this.failure ??= err
    for (const w of this.waiting.splice(0)) w.reject(err)
  }

  private async start(): Promise<void> {
    const waitMs = this.o.waitMs ?? 120_000
    const until = Date.now() + waitMs
    let live = 0
    try {
      for (;;) {
        live = await this.o.liveWorkers()
        if (live >= this.workers || Date.now() >= until || this.failure !== undefined) break
        await new Promise((r) => setTimeout(r, 250))
      }
    } catch (err) {
      this.fail(err as Error)
      return
    }
    if (this.failure !== undefined) return
    if (live < this.workers) {
      this.open({ measured: false, reason: `only ${live} of the ${this.workers} workers to compare served the circuit within ${Math.round(waitMs / 1000)} s of the first proof` })
      return
    }
    const m = this.blockBatches
    this.phases = [{ cap: this.workers, batches: this.workers }, ...[1, this.workers, this.workers, 1].map((cap) => ({ cap, batches: m }))]
    this.state = 'measuring'
    this.load0 = this.load()
    this.pump()
  }

  private open(result: SpeedupResult): void {
    this.result_ = result
    this.state = 'open'
    this.o.onResult?.(result)
    for (const w of this.waiting.splice(0)) w.resolve(NOOP)
  }

  private pump(): void {
    if (this.state !== 'measuring') return
    const { cap, batches } = this.phases[this.block] as { cap: number; batches: number }
    while (this.waiting.length > 0 && this.released < batches && this.active < cap) {
      if (this.released === 0) {
        this.t0 = this.now()
        this.retried = 0
      }
      this.released++
      this.active++
      const w = this.waiting.shift() as { resolve: (r: Release) => void }
      w.resolve(this.releaser())
    }
  }

  private releaser(): Release {
    let done = false
    return (o) => {
      if (done) return
      done = true
      this.active--
      this.settled++
      if (o?.retried === true) this.retried++
      const { batches } = this.phases[this.block] as { batches: number }
      if (this.settled === batches) this.endBlock()
      else if (this.block > 0 && this.released < batches && this.waiting.length === 0) this.starved = true
      this.pump()
    }
  }

  private endBlock(): void {
    const { cap, batches } = this.phases[this.block] as { cap: number; batches: number }
    if (this.block === 0) this.load0 = this.load()
    else this.blocks.push({ cap, batches, wallMs: this.now() - this.t0, retried: this.retried })
    this.block++
    this.released = 0
    this.settled = 0
    if (this.block < this.phases.length) return
    if (this.starved) {
      this.open({ measured: false, reason: 'the sequencer did not keep the farm busy during the measurement (a block had room and no batch waiting): it would have measured the sequencer' })
      return
    }
    const perBatch = (cap: number) => {
      const bs = this.blocks.filter((b, i) => b.cap === cap && (cap === 1 ? i === 0 || i === 3 : i === 1 || i === 2))
      return bs.reduce((a, b) => a + b.wallMs, 0) / bs.reduce((a, b) => a + b.batches, 0)
    }
    const one = perBatch(1)
    const pool = perBatch(this.workers)
    this.open({
      measured: true,
      workers: this.workers,
      blockBatches: this.blockBatches,
      warmup: this.workers,
      blocks: [...this.blocks],
      oneWorkerMsPerBatch: one,
      poolMsPerBatch: pool,
      speedup: one / pool,
      loadAverage: { start: this.load0, end: this.load() },
    })
  }
}
