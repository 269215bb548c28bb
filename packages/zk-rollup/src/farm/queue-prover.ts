/**
 * QueueProver: a Prover whose proofs are made by a farm of workers on other
 * processes or machines, through BullMQ queues in Redis (`l2bench prover`
 * runs a worker; see worker.ts).
 *
 * The sequencer side is unchanged: the node computes each batch's roots and
 * witness input in order and calls `prove(input)`; each call is one job.
 * Calls may be outstanding together, jobs are taken by whichever worker is
 * free, and proofs come back in any order — each call resolves with its own
 * proof, and the node submits in its order.
 *
 * What this side adds to the engine's retries and stalled-job recovery:
 *  - every proof is verified against the circuit's verification key, and its
 *    public signals against the input's, before `prove` resolves (BAD_PROOF
 *    otherwise, naming the worker): nothing unverified reaches L1;
 *  - no hang: a job with no live worker for its circuit for `workerWaitMs`
 *    fails with NO_WORKER (naming the workers present and why they refuse),
 *    a job past every attempt's timeout fails with JOB_TIMEOUT, and a Redis
 *    gone for longer than `giveUpMs` fails every outstanding call with
 *    REDIS_LOST.
 */
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { assertInt } from '@l2bench/core'
import { type Job, Queue } from 'bullmq'
import type { CircuitInput } from '../batch.ts'
import { RollupError } from '../errors.ts'
import { SyncGroth16Verifier } from '../groth16.ts'
import type { ProofResult, Prover } from '../prover.ts'
import { type FarmCircuit, defaultCircuitCache, publishCircuit } from './circuit.ts'
import { encodeInput } from './codec.ts'
import { ProverFarmError } from './errors.ts'
import { BAD_JOB, CIRCUIT_MISMATCH, type JobKind, type ProveJobData, type ProveJobResult, WITNESS_REFUSED } from './protocol.ts'
import { type RedisLink, checkRedisUrl, connectRedis, within } from './redis.ts'
import { DEFAULT_FARM, announceNeed, checkFarmName, farmPrefix, listWorkers, proveQueueName, withdrawNeed } from './registry.ts'
import { type Release, SpeedupGate, type SpeedupResult } from './speedup.ts'

export interface QueueProverOptions {
  redis: string
  /** The run's circuit (farmCircuitOf) and the path of its verification_key.json. */
  circuit: FarmCircuit
  vkeyPath: string
  farm?: string
  /** Shared directory to publish the circuit to (default: the pipeline cache's farm/). */
  circuitCache?: string
  /** Attempts per job, retries included (default 3). */
  attempts?: number
  /** Each attempt is abandoned after this long (default 600,000 ms). */
  jobTimeoutMs?: number
  /** Fail a job that has no live worker for its circuit for this long (default 60,000 ms). */
  workerWaitMs?: number
  /** The workers' lock duration, for the overall deadline (default 30,000 ms). */
  lockMs?: number
  connectTimeoutMs?: number
  /** Give up on a Redis that went away after this long (default 20,000 ms). */
  giveUpMs?: number
  /** How often outstanding jobs are checked (default 200 ms). */
  pollMs?: number
  /** Batches a node may have proving at once through this prover (its `size`, default 16): enough to keep a farm busy. */
  inFlight?: number
  /**
   * Measure the speed-up of `workers` workers over one inside this run: the
   * first 4 × blockBatches proofs go through the ABBA blocks of speedup.ts
   * (one job at a time, then `workers` at a time, twice, then one). Costs
   * the run the idle workers' time during the one-at-a-time blocks.
   */
  measureSpeedup?: { workers: number; blockBatches?: number; waitMs?: number }
  log?: (line: string) => void
}

interface Pending {
  jobId: string
  kind: JobKind
  label: string
  pub: string[]
  since: number
  deadline: number
  resolve: (r: ProofResult | undefined) => void
  reject: (e: Error) => void
  /** The speed-up gate's turn, given back when the job is settled. */
  release?: Release
}

export interface FarmStats {
  /** Proofs received and verified. */
  proofs: number
  witnesses: number
  /** Proofs per worker name. */
  byWorker: Record<string, number>
  /** Jobs that needed more than one attempt (a failure, a timeout, or a dead worker's job taken over). */
  retried: number
  /** Jobs the engine took back from a worker that stopped renewing its lock. */
  stalled: number
  /** Sum of the workers' witness + proving time, ms. */
  workerMs: number
}

/** One job's outcome, kept for reports and tests. */
export interface JobRecord {
  label: string
  kind: JobKind
  /** The worker that finished it. */
  worker: string
  /** Times a worker started it (2+ after a retry or a takeover). */
  attemptsStarted: number
  /** Times the engine took it back from a worker that stopped renewing its lock. */
  stalled: number
  witnessMs: number
  proveMs: number
  /** From enqueue to verified result, ms. */
  turnaroundMs: number
}

export class QueueProver implements Prover {
  readonly farm: string
  readonly circuit: FarmCircuit
  /** How many proofs a node should keep outstanding (RollupNode reads it as its default `maxInFlight`). */
  readonly size: number
  readonly stats: FarmStats = { proofs: 0, witnesses: 0, byWorker: {}, retried: 0, stalled: 0, workerMs: 0 }
  /** Completed jobs in completion order (the last 10,000). */
  readonly jobs: JobRecord[] = []
  private readonly o: QueueProverOptions
  private link: RedisLink | undefined
  private queue: Queue<ProveJobData, ProveJobResult> | undefined
  private verifier: SyncGroth16Verifier | undefined
  private readyPromise: Promise<void> | undefined
  private readonly pending = new Map<string, Pending>()
  private readonly runId = randomBytes(6).toString('hex')
  private seq = 0
  private failure: ProverFarmError | undefined
  private pollTimer: ReturnType<typeof setTimeout> | undefined
  private needTimer: ReturnType<typeof setInterval> | undefined
  private noWorkerSince: number | undefined
  private lastWorkerCheck = 0
  private closed = false
  private readonly log: (line: string) => void
  private lastWarning = ''
  private readonly gate: SpeedupGate | undefined

  constructor(options: QueueProverOptions) {
    checkRedisUrl(options.redis)
    this.farm = checkFarmName(options.farm ?? DEFAULT_FARM)
    this.o = options
    this.circuit = options.circuit
    this.size = options.inFlight ?? 16
    assertInt('inFlight', this.size, 1, 1_000)
    this.log = options.log ?? (() => {})
    const m = options.measureSpeedup
    this.gate =
      m === undefined
        ? undefined
        : new SpeedupGate({
            ...m,
            liveWorkers: async () => (this.queue as Queue).getWorkersCount(),
            onResult: (r) =>
              this.log(
                r.measured
                  ? `speed-up of ${r.workers} workers over one: ${r.speedup.toFixed(2)}× (${(r.oneWorkerMsPerBatch / 1000).toFixed(1)} s ÷ ${(r.poolMsPerBatch / 1000).toFixed(1)} s per batch, blocks ${r.blocks.map((b) => `${b.cap}: ${(b.wallMs / 1000).toFixed(1)} s`).join(', ')}; load ${r.loadAverage.start.toFixed(1)} → ${r.loadAverage.end.toFixed(1)})`
                  : `speed-up not measured: ${r.reason}`,
              ),
          })
  }

  /** Workers that returned a proof so far: the farm's size as the run saw it. */
  get workersUsed(): number {
    return Object.keys(this.stats.byWorker).length
  }

  /** The speed-up over one worker measured in this run (with `measureSpeedup`), or why there is none. */
  speedup(): SpeedupResult | undefined {
    return this.gate?.result(this.stats.proofs)
  }

  private get attempts(): number {
    return this.o.attempts ?? 3
  }

  /** Connects, publishes the circuit and announces it to the workers. REDIS_UNREACHABLE when Redis cannot be reached. */
  ready(): Promise<void> {
    this.readyPromise ??= (async () => {
      const c = this.circuit
      const dir = this.o.circuitCache ?? defaultCircuitCache()
      await publishCircuit(dir, c, this.o.vkeyPath)
      const link = await connectRedis(this.o.redis, {
        name: `l2bench-run-${process.pid}`,
        ...(this.o.connectTimeoutMs !== undefined ? { connectTimeoutMs: this.o.connectTimeoutMs } : {}),
        ...(this.o.giveUpMs !== undefined ? { giveUpMs: this.o.giveUpMs } : {}),
      })
      this.link = link
      void link.lost.then((err) => this.failAll(err))
      this.queue = new Queue<ProveJobData, ProveJobResult>(proveQueueName(c.id), { connection: link.client, prefix: farmPrefix(this.farm) })
      this.queue.on('error', (err) => this.warn(err.message))
      const need = { circuit: { id: c.id, name: c.name, params: c.params, sha256: c.sha256 }, by: `${hostname()} ${process.pid}`, at: Date.now() }
      await announceNeed(link.client, this.farm, need, 30_000)
      this.needTimer = setInterval(() => void announceNeed(link.client, this.farm, { ...need, at: Date.now() }, 30_000).catch(() => {}), 10_000)
      this.verifier = new SyncGroth16Verifier()
      await this.verifier.ready()
      this.log(`prover farm ${this.farm} on ${link.label}: circuit ${c.id} (${c.name}) published in ${dir}`)
    })()
    return this.readyPromise
  }

  prove(input: CircuitInput): Promise<ProofResult> {
    return this.enqueue('prove', input) as Promise<ProofResult>
  }

  async witness(input: CircuitInput): Promise<void> {
    await this.enqueue('witness', input)
  }

  /** Live workers serving this circuit (BullMQ's view: connections on the queue). */
  async liveWorkers(): Promise<number> {
    await this.ready()
    return (this.queue as Queue).getWorkersCount()
  }

  private async enqueue(kind: JobKind, input: CircuitInput): Promise<ProofResult | undefined> {
    if (this.closed) throw new ProverFarmError('CLOSED', 'the prover is closed')
    await this.ready()
    if (this.failure !== undefined) throw this.failure
    // With measureSpeedup, a proof waits here for its turn in the measurement's blocks.
    const release = kind === 'prove' ? await this.gate?.acquire() : undefined
    if (this.failure !== undefined || this.closed) {
      release?.()
      throw this.failure ?? new ProverFarmError('CLOSED', 'the prover is closed')
    }
    const n = ++this.seq
    const label = `${kind === 'prove' ? 'batch' : 'witness check'} ${n} of run ${this.runId}`
    const jobId = `${this.runId}-${n}`
    const pub = Array.isArray(input.pub) ? (input.pub as bigint[]).map(String) : []
    const timeoutMs = this.o.jobTimeoutMs ?? 600_000
    const data: ProveJobData = { circuit: this.circuit.id, label, input: encodeInput(input), timeoutMs }
    const since = Date.now()
    const deadline = since + this.attempts * (timeoutMs + 2 * (this.o.lockMs ?? 30_000) + 1_000) + (this.o.workerWaitMs ?? 60_000)
    const result = new Promise<ProofResult | undefined>((resolve, reject) => {
      this.pending.set(jobId, { jobId, kind, label, pub, since, deadline, resolve, reject, ...(release !== undefined ? { release } : {}) })
    })
    // Redis may go away while the job is being added: failAll then rejects `result` before anyone holds it,
    // and the add's own failure is what the caller gets (not an unhandled rejection of the process).
    result.catch(() => {})
    try {
      await (this.queue as Queue<ProveJobData, ProveJobResult>).add(kind, data, {
        jobId,
        attempts: this.attempts,
        backoff: { type: 'fixed', delay: 1_000 },
        removeOnComplete: { age: 3_600 },
        removeOnFail: { age: 86_400 },
      })
    } catch (err) {
      this.pending.delete(jobId)
      release?.()
      throw this.failure ?? new ProverFarmError('REDIS_LOST', `cannot enqueue ${label} on ${this.link?.label}: ${(err as Error).message}`, { field: 'redis', cause: err })
    }
    this.schedulePoll()
    return result
  }

  private schedulePoll(): void {
    if (this.pollTimer !== undefined || this.pending.size === 0 || this.closed) return
    this.pollTimer = setTimeout(() => {
      void this.poll()
        .catch((err: Error) => this.warn(err.message))
        .finally(() => {
          this.pollTimer = undefined
          this.schedulePoll()
        })
    }, this.o.pollMs ?? 200)
  }

  private async poll(): Promise<void> {
    const queue = this.queue as Queue<ProveJobData, ProveJobResult>
    for (const p of [...this.pending.values()]) {
      if (this.failure !== undefined) return
      const job = (await queue.getJob(p.jobId)) as Job<ProveJobData, ProveJobResult> | undefined
      if (!this.pending.has(p.jobId)) continue
      if (job === undefined) {
        this.settle(p, new ProverFarmError('JOB_FAILED', `${p.label} vanished from the queue (removed by someone else)`))
        continue
      }
      if (job.finishedOn !== undefined) {
        const state = await job.getState()
        if (state === 'completed') this.complete(p, job)
        else if (state === 'failed') this.settle(p, this.failureOf(p, job))
        continue
      }
      if (Date.now() > p.deadline)
        this.settle(p, new ProverFarmError('JOB_TIMEOUT', `${p.label} is not done after ${Math.round((Date.now() - p.since) / 1000)} s (${this.attempts} attempts of at most ${this.o.jobTimeoutMs ?? 600_000} ms each)`), job)
    }
    await this.checkWorkers()
  }

  /** NO_WORKER for every outstanding job once no live worker served the circuit for workerWaitMs. */
  private async checkWorkers(): Promise<void> {
    if (this.pending.size === 0 || Date.now() - this.lastWorkerCheck < 1_000) return
    this.lastWorkerCheck = Date.now()
    const live = await (this.queue as Queue).getWorkersCount()
    if (live > 0) {
      this.noWorkerSince = undefined
      return
    }
    const waitMs = this.o.workerWaitMs ?? 60_000
    if (this.noWorkerSince === undefined) {
      this.noWorkerSince = Date.now()
      this.log(`waiting up to ${Math.round(waitMs / 1000)} s for a prover worker of circuit ${this.circuit.id} (start one: l2bench prover --redis ${this.link?.label})`)
      return
    }
    if (Date.now() - this.noWorkerSince < waitMs) return
    const others = await listWorkers((this.link as RedisLink).client, this.farm).catch(() => [])
    const why = others.map((w) => {
      const r = w.refused.find((x) => x.id === this.circuit.id)
      return `${w.name}: ${r !== undefined ? `refuses it (${r.reason})` : `serves ${w.serves.length === 0 ? 'nothing yet' : w.serves.join(', ')}`}`
    })
    const err = new ProverFarmError(
      'NO_WORKER',
      `no prover worker has served circuit ${this.circuit.id} (${this.circuit.name}) on ${this.link?.label} (farm ${this.farm}) for ${Math.round(waitMs / 1000)} s; ` +
        (why.length === 0 ? 'no worker is registered: start one with `l2bench prover --redis <url>`' : `workers present: ${why.join('; ')}`),
      { field: 'workers' },
    )
    this.failAll(err, false)
  }

  private complete(p: Pending, job: Job<ProveJobData, ProveJobResult>): void {
    const r = job.returnvalue
    const worker = typeof r?.worker === 'string' ? r.worker : (job.processedBy ?? 'unknown worker')
    const record = (witnessMs: number, proveMs: number) => {
      if (job.attemptsStarted > 1 || job.stalledCounter > 0) this.stats.retried++
      if (job.stalledCounter > 0) this.stats.stalled++
      this.jobs.push({ label: p.label, kind: p.kind, worker, attemptsStarted: job.attemptsStarted, stalled: job.stalledCounter, witnessMs, proveMs, turnaroundMs: Date.now() - p.since })
      if (this.jobs.length > 10_000) this.jobs.shift()
    }
    if (p.kind === 'witness') {
      record(Number(r?.witnessMs) || 0, 0)
      this.stats.witnesses++
      this.settle(p, { ok: undefined }, job)
      return
    }
    const problem = this.checkProof(p, r)
    if (problem !== undefined) {
      this.settle(p, new ProverFarmError('BAD_PROOF', `the proof of ${p.label} from worker ${worker} ${problem}: not submitted`, { field: 'proof', details: { worker } }), job)
      return
    }
    if (r.proof === undefined || r.publicSignals === undefined) return
    const witnessMs = Number(r.witnessMs) || 0
    const proveMs = Number(r.proveMs) || 0
    // A worker's own figure: kept only when it is a plausible CPU time.
    const cpuMs = typeof r.cpuMs === 'number' && Number.isFinite(r.cpuMs) && r.cpuMs > 0 ? r.cpuMs : undefined
    record(witnessMs, proveMs)
    this.stats.proofs++
    this.stats.byWorker[worker] = (this.stats.byWorker[worker] ?? 0) + 1
    this.stats.workerMs += witnessMs + proveMs
    this.settle(p, { ok: { proof: r.proof, publicSignals: r.publicSignals, witnessMs, proveMs, ...(cpuMs === undefined ? {} : { cpuMs }) } }, job)
  }

  /** Why a returned proof must not be used, or undefined when it verifies for the batch's public inputs. */
  private checkProof(p: Pending, r: ProveJobResult | null | undefined): string | undefined {
    if (r === null || typeof r !== 'object' || r.proof === undefined || !Array.isArray(r.publicSignals)) return 'is missing'
    if (r.publicSignals.length !== p.pub.length || r.publicSignals.some((s, i) => s !== p.pub[i])) return "is for other public inputs than the batch's"
    try {
      if ((this.verifier as SyncGroth16Verifier).verify(this.circuit.vkey, r.publicSignals, r.proof)) return undefined
    } catch {
      // a malformed proof: refused below
    }
    return "does not verify against the circuit's verification key"
  }

  private failureOf(p: Pending, job: Job<ProveJobData, ProveJobResult>): Error {
    const reason = job.failedReason ?? 'unknown reason'
    const details = { job: p.jobId, attempts: job.attemptsStarted, stalled: job.stalledCounter, worker: job.processedBy }
    if (reason.startsWith(WITNESS_REFUSED))
      return new RollupError('PROVER', `the circuit refused the batch: ${reason.slice(WITNESS_REFUSED.length)}`, { details: { ...details, stage: 'witness' } })
    if (reason.startsWith(CIRCUIT_MISMATCH)) return new ProverFarmError('CIRCUIT_MISMATCH', reason.slice(CIRCUIT_MISMATCH.length), { field: 'circuit', details })
    if (reason.startsWith(BAD_JOB)) return new ProverFarmError('JOB_FAILED', `a worker could not read ${p.label}: ${reason.slice(BAD_JOB.length)}`, { details })
    if (/timed out/.test(reason)) return new ProverFarmError('JOB_TIMEOUT', `${p.label}: ${reason} (after ${job.attemptsStarted} attempts)`, { details })
    if (/stalled more than/.test(reason))
      return new ProverFarmError('JOB_FAILED', `${p.label}: its workers died or stopped renewing the job's lock ${job.stalledCounter} times (${reason})`, { details })
    return new ProverFarmError('JOB_FAILED', `${p.label} failed after ${job.attemptsStarted} attempt(s): ${reason}`, { details })
  }

  private settle(p: Pending, outcome: Error | { ok: ProofResult | undefined }, job?: Job): void {
    if (!this.pending.delete(p.jobId)) return
    p.release?.({ retried: job !== undefined && (job.attemptsStarted > 1 || job.stalledCounter > 0) })
    if (outcome instanceof Error) p.reject(outcome)
    else p.resolve(outcome.ok)
    // The outcome is ours now; a failed job is kept (removeOnFail) for inspection.
    if (job !== undefined && !(outcome instanceof Error)) void job.remove().catch(() => {})
  }

  private failAll(err: ProverFarmError, sticky = true): void {
    if (sticky) this.failure ??= err
    if (sticky || this.closed) this.gate?.fail(err)
    for (const p of [...this.pending.values()]) {
      this.pending.delete(p.jobId)
      p.release?.()
      p.reject(err)
      if (!sticky) void this.queue?.remove(p.jobId).catch(() => {})
    }
  }

  private warn(message: string): void {
    if (message === this.lastWarning) return
    this.lastWarning = message
    this.log(`warning: ${message}`)
  }

  /** Withdraws the circuit, fails outstanding calls (CLOSED), disconnects. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.pollTimer)
    clearInterval(this.needTimer)
    if (this.readyPromise !== undefined) await this.readyPromise.catch(() => undefined)
    this.failAll(new ProverFarmError('CLOSED', 'the prover was closed with this job outstanding'), false)
    const link = this.link
    if (link !== undefined && this.failure === undefined) await withdrawNeed(link.client, this.farm, this.circuit.id).catch(() => {})
    if (this.queue !== undefined) await within(2_000, this.queue.close().catch(() => {}))
    await this.verifier?.close()
    if (link !== undefined) await within(2_000, link.close())
  }
}
