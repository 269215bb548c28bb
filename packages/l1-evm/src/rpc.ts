/**
 * JSON-RPC to anvil, asynchronous (a viem transport) and synchronous (for the
 * `L1` seam's synchronous reads: balanceOf, nonceOf).
 *
 * Neither ever hangs on a dead node: a call races the process's exit and a
 * timeout, and fails with AnvilError ANVIL_DIED (naming the exit code or
 * signal and anvil's last output) or ANVIL_TIMEOUT.
 *
 * The synchronous client runs fetch in a worker thread and blocks on
 * Atomics.wait until the worker has written the answer into shared memory;
 * it costs one loopback round trip (about a millisecond) per call.
 */
import { Worker } from 'node:worker_threads'
import { type EIP1193RequestFn, custom } from 'viem'
import { type AnvilProcess, describeExit } from './anvil.ts'
import { AnvilError } from './errors.ts'

export interface RpcOptions {
  /** Per-call timeout (default 60 s: a Groth16 verify or a large block is fast, but the machine is shared). */
  timeoutMs?: number
}

interface JsonRpcResponse {
  result?: unknown
  error?: { code: number; message: string; data?: unknown }
}

export function diedError(node: AnvilProcess): AnvilError {
  const exit = node.exited
  const how = exit === undefined ? 'is unreachable' : `died (${describeExit(exit)})`
  return new AnvilError('ANVIL_DIED', `anvil at ${node.url} ${how}; last output:\n${node.output() || '(none)'}`, {
    details: exit === undefined ? undefined : { code: exit.code, signal: exit.signal },
  })
}

/** A JSON-RPC error object from the node (the call reached it and it refused). */
export class RpcCallError extends AnvilError {
  override name = 'RpcCallError'
  constructor(
    readonly method: string,
    readonly rpcCode: number,
    message: string,
    readonly data: unknown,
  ) {
    super('ANVIL_RPC', `${method}: ${message}`, { details: { rpcCode, data } })
  }
}

let nextId = 1

/** One JSON-RPC call; rejects with a typed error, never hangs. */
export async function rpcCall(node: AnvilProcess, method: string, params: unknown[], options: RpcOptions = {}): Promise<unknown> {
  if (node.exited !== undefined) throw diedError(node)
  const timeoutMs = options.timeoutMs ?? 60_000
  const controller = new AbortController()
  let onExit: (() => void) | undefined
  const died = new Promise<never>((_, reject) => {
    onExit = () => {
      controller.abort()
      reject(diedError(node))
    }
    node.onExit(onExit)
  })
  died.catch(() => {})
  const timer = setTimeout(() => controller.abort(new AnvilError('ANVIL_TIMEOUT', `${method}: no answer within ${timeoutMs} ms`)), timeoutMs)
  try {
    const res = await Promise.race([
      fetch(node.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }, (_, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)),
        signal: controller.signal,
      }).then((r) => r.json() as Promise<JsonRpcResponse>),
      died,
    ])
    if (res.error !== undefined) throw new RpcCallError(method, res.error.code, res.error.message, res.error.data)
    return res.result
  } catch (err) {
    if (err instanceof AnvilError) throw err
    if (controller.signal.aborted && controller.signal.reason instanceof AnvilError) throw controller.signal.reason
    if (node.exited !== undefined) throw diedError(node)
    throw new AnvilError('ANVIL_RPC', `${method}: ${(err as Error).message}`, { cause: err })
  } finally {
    clearTimeout(timer)
  }
}

/** A viem transport over `rpcCall` (so viem's actions get the same typed failures). */
export function anvilTransport(node: AnvilProcess, options: RpcOptions = {}) {
  const request: EIP1193RequestFn = async ({ method, params }) =>
    rpcCall(node, method, (params ?? []) as unknown[], options) as never
  return custom({ request }, { retryCount: 0 })
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { state, data } = workerData
const enc = new TextEncoder()
// One request at a time: the answer buffer is shared.
let queue = Promise.resolve()
parentPort.on('message', (msg) => { queue = queue.then(() => answer(msg)) })
async function answer({ url, body, timeoutMs }) {
  let out
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(timeoutMs) })
    out = await res.text()
  } catch (err) {
    out = JSON.stringify({ transportError: String(err && err.message || err) })
  }
  let bytes = enc.encode(out)
  if (bytes.length > data.length) bytes = enc.encode(JSON.stringify({ transportError: 'response of ' + bytes.length + ' bytes exceeds the sync buffer' }))
  data.set(bytes)
  Atomics.store(state, 1, bytes.length)
  Atomics.store(state, 0, 1)
  Atomics.notify(state, 0)
}
`

/** Blocking JSON-RPC for the few reads the L1 seam declares synchronous. */
export class SyncRpc {
  private readonly worker: Worker
  private readonly state = new Int32Array(new SharedArrayBuffer(8))
  private readonly data = new Uint8Array(new SharedArrayBuffer(1 << 20))
  private readonly dec = new TextDecoder()

  constructor(
    private readonly node: AnvilProcess,
    private readonly timeoutMs = 30_000,
  ) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { state: this.state, data: this.data } })
    this.worker.unref()
  }

  call(method: string, params: unknown[]): unknown {
    if (this.node.exited !== undefined) throw diedError(this.node)
    const id = nextId++
    Atomics.store(this.state, 0, 0)
    this.worker.postMessage({ url: this.node.url, body: JSON.stringify({ jsonrpc: '2.0', id, method, params }), timeoutMs: this.timeoutMs })
    const deadline = Date.now() + this.timeoutMs + 1000
    let res: JsonRpcResponse & { id?: number; transportError?: string }
    for (;;) {
      const waited = Atomics.wait(this.state, 0, 0, Math.max(1, deadline - Date.now()))
      if (waited === 'timed-out') throw new AnvilError('ANVIL_TIMEOUT', `${method}: no answer within ${this.timeoutMs} ms`)
      res = JSON.parse(this.dec.decode(this.data.slice(0, Atomics.load(this.state, 1))))
      // Only this call's answer counts (a late answer to an earlier call is skipped).
      if (res.transportError !== undefined || res.id === id) break
      Atomics.store(this.state, 0, 0)
    }
    if (res.transportError !== undefined) {
      if (this.node.exited !== undefined || /ECONNREFUSED|fetch failed/.test(res.transportError)) throw diedError(this.node)
      throw new AnvilError('ANVIL_RPC', `${method}: ${res.transportError}`)
    }
    if (res.error !== undefined) throw new RpcCallError(method, res.error.code, res.error.message, res.error.data)
    return res.result
  }

  close(): Promise<number> {
    return this.worker.terminate()
  }
}
