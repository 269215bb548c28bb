/**
 * A prover worker of the farm (the `l2bench prover` command): it takes
 * batch-proving jobs from BullMQ queues in Redis and proves them with the
 * circuit each job names, on this machine.
 *
 * Which circuits it serves: every circuit a run announces (`need:<id>`) that
 * it can load — fetched by id from the shared circuit directory and checked
 * against its hashes, or (with `build`) built locally by the pipeline, which
 * gives the run's circuit only where the run's setup is in the local cache
 * (a Groth16 setup is random). A worker started for one circuit (`pinned`)
 * refuses every other circuit, and says why: in its log, and in its registry
 * entry, from which the run's error names it.
 *
 * What the engine does: a job's lock is renewed while the proof runs (the
 * proof runs in a worker thread, so this process's event loop stays free);
 * a worker that dies mid-job stops renewing it, and the stalled-job check
 * of any other worker puts the job back in the queue after `lockMs`. A proof
 * that outlives the job's timeout is abandoned (the prover thread is
 * terminated) and the job fails this attempt: BullMQ retries it, here or on
 * another worker, up to the run's attempts. A witness the circuit refuses is
 * not retried (deterministic).
 */
import { hostname } from 'node:os'
import { type Job, UnrecoverableError, Worker } from 'bullmq'
import { isCircuitRejection, WorkerProver } from '../prover.ts'
import { buildRollupCircuit } from '../rollup-circuit.ts'
import { type FarmCircuit, defaultCircuitCache, fetchCircuit, farmCircuitOf } from './circuit.ts'
import { decodeInput } from './codec.ts'
import { ProverFarmError } from './errors.ts'
import { BAD_JOB, CIRCUIT_MISMATCH, type ProveJobData, type ProveJobResult, WITNESS_REFUSED } from './protocol.ts'
import { type RedisLink, connectRedis, within } from './redis.ts'
import { DEFAULT_FARM, type NeedEntry, announceWorker, checkFarmName, farmPrefix, listNeeds, proveQueueName, withdrawWorker } from './registry.ts'

export interface ProverFarmWorkerOptions {
  redis: string
  farm?: string
  /** Shared directory runs publish their circuits to (default: the pipeline cache's farm/). */
  circuitCache?: string
  /** Serve this circuit only. */
  pinned?: FarmCircuit
  /** Build a needed circuit that is not in the shared directory with the local pipeline (serves it only if it comes out identical). */
  build?: boolean
  /** Worker name (default host:pid); BullMQ records it on every job it takes. */
  name?: string
  /** BullMQ lock duration: a dead worker's job is taken over after about this long (default 30,000 ms). */
  lockMs?: number
  /** How often to look for circuits runs need (default 1,000 ms). */
  discoverMs?: number
  /** Stop serving a circuit (other than `pinned`) no run has announced or used for this long (default 600,000 ms). */
  idleMs?: number
  connectTimeoutMs?: number
  /** Give up on a Redis that went away after this long (default 20,000 ms). */
  giveUpMs?: number
  log?: (line: string) => void
}

interface Served {
  circuit: FarmCircuit
  bull: Worker<ProveJobData, ProveJobResult>
  prover: WorkerProver
  /** When a run last announced it needs this circuit, or a job of it ended. */
  lastUsed: number
  busy: boolean
}

export class ProverFarmWorker {
  readonly name: string
  readonly farm: string
  /** Jobs completed and failed by this worker. */
  readonly stats = { proved: 0, witnesses: 0, failed: 0, timedOut: 0 }
  /** Jobs in hand now, and jobs started so far: a job that shared the process with another reports no CPU time. */
  private active = 0
  private started = 0
  /** Resolves when the worker stopped: undefined after close(), the error when Redis was lost. */
  readonly done: Promise<ProverFarmError | undefined>
  private finish: (e: ProverFarmError | undefined) => void = () => {}
  private readonly served = new Map<string, Served>()
  private readonly refused = new Map<string, { reason: string; at: number }>()
  private readonly loading = new Set<string>()
  private timer: ReturnType<typeof setInterval> | undefined
  private beat: ReturnType<typeof setInterval> | undefined
  private closing: Promise<void> | undefined
  private readonly log: (line: string) => void
  private readonly lockMs: number
  private readonly cacheDir: string
  private lastWarning = ''

  private constructor(
    private readonly link: RedisLink,
    private readonly o: ProverFarmWorkerOptions,
  ) {
    this.name = o.name ?? `${hostname()}:${process.pid}`
    this.farm = checkFarmName(o.farm ?? DEFAULT_FARM)
    this.log = o.log ?? (() => {})
    this.lockMs = o.lockMs ?? 30_000
    this.cacheDir = o.circuitCache ?? defaultCircuitCache()
    this.done = new Promise((resolve) => {
      this.finish = resolve
    })
  }

  /** Connects (REDIS_UNREACHABLE when it cannot), registers and starts serving. */
  static async start(o: ProverFarmWorkerOptions): Promise<ProverFarmWorker> {
    checkFarmName(o.farm ?? DEFAULT_FARM)
    const link = await connectRedis(o.redis, {
      name: `l2bench-prover-${process.pid}`,
      ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
      ...(o.giveUpMs !== undefined ? { giveUpMs: o.giveUpMs } : {}),
    })
    const w = new ProverFarmWorker(link, o)
    void link.lost.then(async (err) => {
      w.log(`error: ${err.message}`)
      await w.stop(true)
      w.finish(err)
    })
    if (o.pinned !== undefined) await w.serve(o.pinned)
    await w.heartbeat()
    await w.discover()
    w.beat = setInterval(() => void w.heartbeat().catch(() => {}), 3_000)
    w.timer = setInterval(() => void w.discover().catch((err: Error) => w.warn(err.message)), o.discoverMs ?? 1_000)
    w.log(`worker ${w.name} on ${link.label} (farm ${w.farm})${o.pinned !== undefined ? `, built for circuit ${o.pinned.id} (${o.pinned.name})` : `, circuits from ${w.cacheDir}`}`)
    return w
  }

  /** Circuit ids this worker proves for. */
  servedCircuits(): string[] {
    return [...this.served.keys()]
  }

  /** Stops taking jobs, lets the job in hand finish, deregisters. */
  async close(): Promise<void> {
    await this.stop(false)
    this.finish(undefined)
  }

  /**
   * Graceful: the job in hand finishes and is reported. Forced (Redis lost):
   * the proof in hand is abandoned — it could not be reported anyway, and
   * BullMQ hands the job to another worker once Redis is back — and nothing
   * waits on the dead connection for longer than a moment.
   */
  private stop(force: boolean): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer)
      clearInterval(this.beat)
      const served = [...this.served.values()]
      if (force) {
        await Promise.all(served.map((s) => s.prover.terminate().catch(() => {})))
        await within(2_000, Promise.all(served.map((s) => s.bull.close(true).catch(() => {}))))
      } else {
        await Promise.all(served.map((s) => s.bull.close().catch(() => {})))
        await Promise.all(served.map((s) => s.prover.close().catch(() => {})))
        await withdrawWorker(this.link.client, this.farm, this.name).catch(() => {})
      }
      await within(2_000, this.link.close())
    })()
    return this.closing
  }

  private warn(message: string): void {
    if (message === this.lastWarning) return
    this.lastWarning = message
    this.log(`warning: ${message}`)
  }

  private async heartbeat(): Promise<void> {
    await announceWorker(
      this.link.client,
      this.farm,
      {
        name: this.name,
        host: hostname(),
        pid: process.pid,
        serves: this.servedCircuits(),
        refused: [...this.refused].map(([id, r]) => ({ id, reason: r.reason })),
        ...(this.o.pinned !== undefined ? { pinned: this.o.pinned.id } : {}),
        at: Date.now(),
      },
      10_000,
    )
  }

  private async discover(): Promise<void> {
    if (this.closing !== undefined) return
    const needs = await listNeeds(this.link.client, this.farm)
    const now = Date.now()
    for (const need of needs) {
      const id = need.circuit.id
      const served = this.served.get(id)
      if (served !== undefined) served.lastUsed = now
      if (served !== undefined || this.loading.has(id)) continue
      const refused = this.refused.get(id)
      if (refused !== undefined && (this.o.pinned !== undefined || Date.now() - refused.at < 15_000)) continue
      this.loading.add(id)
      void this.load(need)
        .catch((err: Error) => this.refuse(id, err.message))
        .finally(() => this.loading.delete(id))
    }
    // A circuit no run has needed for a while is let go (its prover thread holds the zkey in memory).
    for (const [id, s] of this.served)
      if (id !== this.o.pinned?.id && !s.busy && now - s.lastUsed > (this.o.idleMs ?? 600_000)) {
        this.served.delete(id)
        this.log(`circuit ${id} (${s.circuit.name}) not needed for ${Math.round((now - s.lastUsed) / 1000)} s: no longer served`)
        void s.bull
          .close()
          .then(() => s.prover.close())
          .catch(() => {})
        void this.heartbeat().catch(() => {})
      }
  }

  private async load(need: NeedEntry): Promise<void> {
    const id = need.circuit.id
    const pinned = this.o.pinned
    if (pinned !== undefined) {
      this.refuse(id, `built for circuit ${pinned.id} (${pinned.name}), not for ${id} (${need.circuit.name}) needed by ${need.by}`)
      return
    }
    let circuit: FarmCircuit
    try {
      circuit = await fetchCircuit(this.cacheDir, id)
    } catch (err) {
      if (!(err instanceof ProverFarmError) || this.o.build !== true) throw err
      this.log(`circuit ${id} (${need.circuit.name}) is not in ${this.cacheDir}: building it with the local pipeline`)
      const built = await buildRollupCircuit(need.circuit.params)
      circuit = await farmCircuitOf(built, need.circuit.params)
      if (circuit.id !== id)
        throw new ProverFarmError(
          'CIRCUIT_MISMATCH',
          `built ${need.circuit.name} locally and got circuit ${circuit.id}, but the run needs ${id}: a Groth16 setup is random per build, so share the run's circuit directory (--circuit-cache)`,
          { field: 'circuit' },
        )
    }
    await this.serve(circuit)
  }

  private refuse(id: string, reason: string): void {
    if (this.refused.get(id)?.reason !== reason) this.log(`error: refusing circuit ${id}: ${reason}`)
    this.refused.set(id, { reason, at: Date.now() })
    void this.heartbeat().catch(() => {})
  }

  private async serve(circuit: FarmCircuit): Promise<void> {
    if (this.served.has(circuit.id) || this.closing !== undefined) return
    const prover = new WorkerProver({ wasm: circuit.wasm, zkey: circuit.zkey })
    await prover.ready()
    const entry = { circuit, prover, lastUsed: Date.now(), busy: false } as Served
    entry.bull = new Worker<ProveJobData, ProveJobResult>(proveQueueName(circuit.id), (job) => this.process(entry, job), {
      connection: this.link.client,
      prefix: farmPrefix(this.farm),
      name: this.name,
      concurrency: 1,
      lockDuration: this.lockMs,
      stalledInterval: this.lockMs,
      maxStalledCount: 2,
      autorun: true,
    })
    entry.bull.on('error', (err) => this.warn(err.message))
    this.served.set(circuit.id, entry)
    this.refused.delete(circuit.id)
    this.log(`serving circuit ${circuit.id} (${circuit.name})`)
    await this.heartbeat().catch(() => {})
  }

  private async process(served: Served, job: Job<ProveJobData, ProveJobResult>): Promise<ProveJobResult> {
    const { circuit } = served
    const d = job.data
    if (d?.circuit !== circuit.id)
      throw new UnrecoverableError(`${CIRCUIT_MISMATCH}worker ${this.name} serves circuit ${circuit.id} (${circuit.name}) on this queue; the job is for ${String(d?.circuit)}`)
    let input: ReturnType<typeof decodeInput>
    try {
      input = decodeInput(d.input)
    } catch (err) {
      throw new UnrecoverableError(`${BAD_JOB}${(err as Error).message}`)
    }
    const timeoutMs = Number.isSafeInteger(d.timeoutMs) && d.timeoutMs > 0 ? d.timeoutMs : 600_000
    const kind = job.name === 'witness' ? 'witness' : 'prove'
    this.log(`job ${job.id} ${d.label}: ${kind} (attempt ${job.attemptsStarted}${job.stalledCounter > 0 ? `, taken over after ${job.stalledCounter} stall(s)` : ''})`)
    served.busy = true
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ProverFarmError('JOB_TIMEOUT', `${kind} of ${d.label} timed out after ${timeoutMs} ms on worker ${this.name}`)), timeoutMs)
    })
    const t0 = performance.now()
    const cpu0 = process.cpuUsage()
    const alone = this.active++ === 0
    const startNo = ++this.started
    try {
      if (kind === 'witness') {
        await Promise.race([served.prover.witness(input), timeout])
        this.stats.witnesses++
        return { witnessMs: performance.now() - t0, proveMs: 0, worker: this.name }
      }
      const r = await Promise.race([served.prover.prove(input), timeout])
      this.stats.proved++
      this.log(`job ${job.id} ${d.label}: proved in ${((r.witnessMs + r.proveMs) / 1000).toFixed(1)} s`)
      // The prover thread is multi-threaded here (the curve's threads are the process's), so its own CPU
      // clock misses most of the work: the process's CPU over the job is the proof's, unless another job overlapped.
      const cpu = process.cpuUsage(cpu0)
      const cpuMs = r.cpuMs ?? (alone && this.started === startNo ? (cpu.user + cpu.system) / 1000 : undefined)
      return { proof: r.proof, publicSignals: r.publicSignals, witnessMs: r.witnessMs, proveMs: r.proveMs, ...(cpuMs === undefined ? {} : { cpuMs }), worker: this.name }
    } catch (err) {
      this.stats.failed++
      if (err instanceof ProverFarmError && err.code === 'JOB_TIMEOUT') {
        this.stats.timedOut++
        this.log(`job ${job.id}: ${err.message}; restarting the prover thread`)
        await served.prover.terminate()
        await served.prover.ready()
        throw new Error(err.message)
      }
      if (isCircuitRejection(err)) throw new UnrecoverableError(`${WITNESS_REFUSED}${(err as Error).message}`)
      throw err
    } finally {
      this.active--
      clearTimeout(timer)
      served.busy = false
      served.lastUsed = Date.now()
    }
  }
}

