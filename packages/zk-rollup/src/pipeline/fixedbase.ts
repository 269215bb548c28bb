/**
 * A pool of worker threads computing k·G1 / k·G2 in batches (see
 * fixedbase-worker.ts). Callers hand over scalars as 32-byte little-endian
 * integers and get affine points in snarkjs's LEM layout back, in order.
 */
import { availableParallelism } from 'node:os'
import type { Worker } from 'node:worker_threads'
import { startWorker } from '@l2bench/core'
import type { WasmCode, WorkerRequest, WorkerResponse } from './fixedbase-worker.ts'
import { loadFfjavascript } from './libs.ts'

export const G1_BYTES = 64
export const G2_BYTES = 128

export interface PoolOptions {
  /** Worker threads (default: available parallelism). */
  workers?: number
  /** Window width in bits per group; larger windows mean fewer additions per point but a bigger table (2^w·⌈254/w⌉ points). */
  window?: { 1: number; 2: number }
}

/**
 * Window width minimising table building plus per-point additions, for about
 * `pointsPerWorker` multiplications (a Jacobian addition while building the
 * table costs about 2.7 batched affine additions).
 */
export function bestWindow(pointsPerWorker: number): number {
  let best = 8
  let bestCost = Number.POSITIVE_INFINITY
  for (let w = 4; w <= 16; w++) {
    const windows = Math.ceil(254 / w)
    const cost = 2.7 * windows * ((1 << w) - 1) + pointsPerWorker * windows * (1 - 2 ** -w)
    if (cost < bestCost) {
      bestCost = cost
      best = w
    }
  }
  return best
}

let wasmCode: Promise<WasmCode> | undefined

/** ffjavascript's bn128 wasm (built once per process by a single-threaded curve, which starts no workers). */
function bn128Wasm(): Promise<WasmCode> {
  wasmCode ??= (async () => {
    const ff = await loadFfjavascript()
    const curve = (await ff.buildBn128(true)) as unknown as { tm: { code: Uint8Array; pG1gen: number; pG2gen: number } }
    return { code: curve.tm.code, pG1gen: curve.tm.pG1gen, pG2gen: curve.tm.pG2gen, pages: 25 }
  })()
  return wasmCode
}

interface Pending {
  resolve: (points: Uint8Array) => void
  reject: (err: Error) => void
}

interface Job {
  msg: Extract<WorkerRequest, { type: 'mul' }>
  pending: Pending
}

/** Starts the worker (core's startWorker bootstraps tsx when running from source). */
function startFixedBaseWorker(): Worker {
  return startWorker(new URL('./fixedbase-worker.ts', import.meta.url), import.meta.url)
}

export class FixedBasePool {
  readonly size: number
  private readonly workers: Worker[] = []
  private readonly idle: Worker[] = []
  private readonly queue: Job[] = []
  private readonly inflight = new Map<number, Pending>()
  private readonly busy = new Map<Worker, number>()
  private nextId = 0
  private failure: Error | undefined
  private readonly ready: Promise<void>

  constructor(opts: PoolOptions = {}) {
    this.size = Math.max(1, opts.workers ?? availableParallelism())
    this.ready = this.start(opts.window ?? { 1: 8, 2: 8 })
    // A rejected `ready` is reported through mul(); keep it from surfacing as unhandled.
    this.ready.catch(() => {})
  }

  private async start(window: { 1: number; 2: number }): Promise<void> {
    const wasm = await bn128Wasm()
    const readies: Promise<void>[] = []
    for (let i = 0; i < this.size; i++) {
      const w = startFixedBaseWorker()
      this.workers.push(w)
      readies.push(
        new Promise<void>((resolve, reject) => {
          const onMsg = (m: WorkerResponse) => {
            if (m.type === 'ready') {
              w.off('message', onMsg)
              w.on('message', (r: WorkerResponse) => this.onMessage(w, r))
              this.idle.push(w)
              resolve()
            } else if (m.type === 'error') reject(new Error(m.message))
          }
          w.on('message', onMsg)
          w.on('error', (err) => {
            this.fail(err)
            reject(err)
          })
        }),
      )
      w.postMessage({ type: 'init', window, wasm } satisfies WorkerRequest)
    }
    await Promise.all(readies)
  }

  /** k·G for each 32-byte scalar; resolves with the affine points, concatenated in input order. */
  async mul(group: 1 | 2, scalars: Uint8Array): Promise<Uint8Array> {
    await this.ready
    if (this.failure !== undefined) throw this.failure
    const id = this.nextId++
    // The scalars' buffer is transferred to the worker: never detach a buffer the caller still shares.
    const own = scalars.byteOffset === 0 && scalars.byteLength === scalars.buffer.byteLength ? scalars : scalars.slice()
    return new Promise<Uint8Array>((resolve, reject) => {
      this.queue.push({ msg: { type: 'mul', id, group, scalars: own }, pending: { resolve, reject } })
      this.pump()
    })
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!
      const job = this.queue.shift()!
      this.inflight.set(job.msg.id, job.pending)
      this.busy.set(w, job.msg.id)
      w.postMessage(job.msg, [job.msg.scalars.buffer as ArrayBuffer])
    }
  }

  private onMessage(w: Worker, m: WorkerResponse): void {
    if (m.type === 'ready') return
    const pending = this.inflight.get(m.id)
    this.inflight.delete(m.id)
    this.busy.delete(w)
    this.idle.push(w)
    if (pending !== undefined) {
      if (m.type === 'done') pending.resolve(m.points)
      else pending.reject(new Error(`fixed-base worker failed: ${m.message}`))
    }
    this.pump()
  }

  private fail(err: Error): void {
    this.failure = err
    for (const p of this.inflight.values()) p.reject(err)
    this.inflight.clear()
    for (const j of this.queue.splice(0)) j.pending.reject(err)
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}
