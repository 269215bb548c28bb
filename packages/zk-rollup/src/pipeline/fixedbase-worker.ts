/**
 * Worker thread: fixed-base scalar multiplication of the bn128 generators.
 *
 * Every point of a development ptau is k·G1 or k·G2 for the standard
 * generators, so the work is "many scalars, two fixed bases". Each worker owns
 * a single-threaded instance of ffjavascript's bn128 wasm (the same code
 * snarkjs computes with, hence the same Montgomery byte layout), precomputes a
 * windowed table T[j][d] = d·2^(w·j)·G once per group, and then evaluates each
 * k·G as one mixed addition per non-zero w-bit digit of k, calling the wasm
 * exports directly — no per-point copies through JavaScript. A batch ends with
 * one batched Jacobian→affine conversion (a single field inversion).
 *
 * Input scalars are 32-byte little-endian integers in normal (not Montgomery)
 * form, below the group order. Output points are affine, Montgomery form,
 * little-endian: exactly snarkjs's LEM layout in .ptau files.
 */
import { parentPort } from 'node:worker_threads'

/** The compiled bn128 wasm of ffjavascript and the addresses of its generators (see fixedbase.ts). */
export interface WasmCode {
  code: Uint8Array
  pG1gen: number
  pG2gen: number
  /** Initial memory in 64 KiB pages, as ffjavascript uses. */
  pages: number
}

export type WorkerRequest =
  | { type: 'init'; window: { 1: number; 2: number }; wasm: WasmCode }
  | { type: 'mul'; id: number; group: 1 | 2; scalars: Uint8Array }

export type WorkerResponse =
  | { type: 'ready' }
  | { type: 'done'; id: number; points: Uint8Array }
  | { type: 'error'; id: number; message: string }

type WasmFn = (...args: number[]) => number

// The project's lib settings (ES2022, no DOM) carry no WebAssembly types: declare the little used here.
interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory
  compile(code: Uint8Array): Promise<object>
  instantiate(module: object, imports: object): Promise<{ exports: Record<string, unknown> }>
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

interface Runtime {
  ex: Record<string, WasmFn>
  memory: WasmMemory
  pG1gen: number
  pG2gen: number
  free: number
}

interface Table {
  prefix: 'g1m' | 'g2m'
  w: number
  windows: number
  pTable: number
  sA: number
  sJ: number
}

const SCALAR_BITS = 254

let rt: Runtime | undefined
const tables = new Map<1 | 2, Table>()
let windowBits: { 1: number; 2: number } = { 1: 8, 2: 8 }
let scratch = { p: 0, size: 0 }

/**
 * Instantiates the wasm handed over by the parent. (ffjavascript itself cannot
 * be imported in a worker thread: its `web-worker` dependency then believes it
 * is one of its own workers and fails.)
 */
async function instantiate(w: WasmCode): Promise<Runtime> {
  const memory = new WA.Memory({ initial: w.pages })
  const module = await WA.compile(w.code)
  const instance = await WA.instantiate(module, { env: { memory } })
  rt = {
    ex: instance.exports as unknown as Record<string, WasmFn>,
    memory,
    pG1gen: w.pG1gen,
    pG2gen: w.pG2gen,
    // The wasm keeps its free-memory pointer at address 0; everything above it is ours.
    free: new Uint32Array(memory.buffer, 0, 1)[0]!,
  }
  return rt
}

function runtime(): Runtime {
  if (rt === undefined) throw new Error('worker not initialised')
  return rt
}

/**
 * Bump allocator over the wasm memory. The wasm code itself takes scratch space
 * for its temporaries (batch inversions) from the free-memory pointer at
 * address 0, so that pointer is moved past every allocation, and the memory is
 * kept `headroom` bytes larger than what is allocated.
 */
function alloc(r: Runtime, n: number, headroom = 1 << 22): number {
  r.free = (r.free + 7) & ~7
  const p = r.free
  r.free += n
  ensure(r, r.free + headroom)
  new Uint32Array(r.memory.buffer, 0, 1)[0] = (r.free + 7) & ~7
  return p
}

function ensure(r: Runtime, bytes: number): void {
  const need = bytes - r.memory.buffer.byteLength
  if (need > 0) r.memory.grow(Math.ceil(need / 65536))
}

function buildTable(r: Runtime, group: 1 | 2): Table {
  const prefix = group === 1 ? 'g1m' : 'g2m'
  const n8 = group === 1 ? 32 : 64
  const sA = n8 * 2
  const sJ = n8 * 3
  const w = windowBits[group]
  const windows = Math.ceil(SCALAR_BITS / w)
  const D = (1 << w) - 1
  const { ex } = r
  const add = ex[`${prefix}_add`]!
  const copy = ex[`${prefix}_copy`]!
  const pTable = alloc(r, windows * D * sA)
  // Jacobian rows are built one window at a time in a reused buffer, then converted to affine in place in the table.
  const pRow = alloc(r, D * sJ)
  const pBase = alloc(r, sJ)
  copy(group === 1 ? r.pG1gen : r.pG2gen, pBase)
  for (let j = 0; j < windows; j++) {
    copy(pBase, pRow)
    for (let d = 2; d <= D; d++) add(pRow + (d - 2) * sJ, pBase, pRow + (d - 1) * sJ)
    // next base = 2^w · base = (D·base) + base
    add(pRow + (D - 1) * sJ, pBase, pBase)
    ex[`${prefix}_batchToAffine`]!(pRow, D, pTable + j * D * sA)
  }
  const t: Table = { prefix, w, windows, pTable, sA, sJ }
  tables.set(group, t)
  return t
}

function mul(r: Runtime, group: 1 | 2, scalars: Uint8Array): Uint8Array {
  const t = tables.get(group) ?? buildTable(r, group)
  const n = scalars.length / 32
  const { ex } = r
  const zero = ex[`${t.prefix}_zero`]!
  const addMixed = ex[`${t.prefix}_addMixed`]!
  const need = n * (32 + 4 + t.sJ + t.sA)
  if (scratch.size < need) scratch = { p: alloc(r, need), size: need }
  // batchToAffine keeps about n field elements of temporaries above the free pointer.
  ensure(r, r.free + 4 * n * t.sJ + (1 << 20))
  // Scalars are copied with 4 bytes of zero padding so a digit read never leaves the scalar.
  const pS = scratch.p
  const stride = 36
  const pJ = pS + n * stride
  const pOut = pJ + n * t.sJ
  let u8 = new Uint8Array(r.memory.buffer)
  for (let i = 0; i < n; i++) {
    u8.set(scalars.subarray(i * 32, i * 32 + 32), pS + i * stride)
    u8[pS + i * stride + 32] = 0
    u8[pS + i * stride + 33] = 0
    u8[pS + i * stride + 34] = 0
    u8[pS + i * stride + 35] = 0
  }
  const mask = (1 << t.w) - 1
  const D = mask
  for (let i = 0; i < n; i++) {
    const acc = pJ + i * t.sJ
    zero(acc)
    const base = pS + i * stride
    for (let j = 0; j < t.windows; j++) {
      const bit = j * t.w
      const byte = base + (bit >>> 3)
      const word = u8[byte]! | (u8[byte + 1]! << 8) | (u8[byte + 2]! << 16)
      const d = (word >>> (bit & 7)) & mask
      if (d !== 0) addMixed(acc, t.pTable + (j * D + d - 1) * t.sA, acc)
    }
  }
  ex[`${t.prefix}_batchToAffine`]!(pJ, n, pOut)
  u8 = new Uint8Array(r.memory.buffer)
  return u8.slice(pOut, pOut + n * t.sA)
}

const port = parentPort
if (port !== null) {
  port.on('message', (msg: WorkerRequest) => {
    if (msg.type === 'init') {
      windowBits = msg.window
      instantiate(msg.wasm).then(
        () => port.postMessage({ type: 'ready' } satisfies WorkerResponse),
        (err: unknown) => port.postMessage({ type: 'error', id: -1, message: String(err) } satisfies WorkerResponse),
      )
      return
    }
    try {
      const points = mul(runtime(), msg.group, msg.scalars)
      port.postMessage({ type: 'done', id: msg.id, points } satisfies WorkerResponse, [points.buffer as ArrayBuffer])
    } catch (err) {
      port.postMessage({ type: 'error', id: msg.id, message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies WorkerResponse)
    }
  })
}
