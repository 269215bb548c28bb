/**
 * Worker thread: fixed-base scalar multiplication of the bn128 generators.
 *
 * Every point of a development ptau is k·G1 or k·G2 for the standard
 * generators, so the work is "many scalars, two fixed bases". Each worker owns
 * an instance of ffjavascript's bn128 wasm (the same code snarkjs computes
 * with, hence the same Montgomery byte layout), precomputes a windowed table
 * T[j][d] = d·2^(w·j)·G once per group, and evaluates each k·G as one
 * addition per non-zero w-bit digit of k, calling the wasm exports directly —
 * no per-point copies through JavaScript — with affine accumulators whose
 * slope denominators are inverted in one batch per window (see mul()).
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

/** The w-bit digits of each scalar, window-major: digits[j·n + i] is digit j of scalar i. */
function digitsOf(scalars: Uint8Array, n: number, w: number, windows: number): Uint16Array {
  const out = new Uint16Array(windows * n)
  const mask = (1 << w) - 1
  for (let i = 0; i < n; i++) {
    const base = i * 32
    for (let j = 0; j < windows; j++) {
      const bit = j * w
      const byte = base + (bit >>> 3)
      // Bytes past the scalar's 32 read as zero (the scalar is below 2^254).
      const b0 = (bit >>> 3) < 32 ? scalars[byte]! : 0
      const b1 = (bit >>> 3) + 1 < 32 ? scalars[byte + 1]! : 0
      const b2 = (bit >>> 3) + 2 < 32 ? scalars[byte + 2]! : 0
      out[j * n + i] = ((b0 | (b1 << 8) | (b2 << 16)) >>> (bit & 7)) & mask
    }
  }
  return out
}

/**
 * k·G for each scalar with affine accumulators. Window by window, every
 * accumulator that gets a non-zero digit adds its table point; the slopes'
 * denominators are inverted together (one field inversion per window for the
 * whole batch, Montgomery's trick), so an addition costs about 6 field
 * multiplications instead of the 11 of a mixed Jacobian addition. An
 * accumulator whose x equals the table point's (doubling or cancellation:
 * only for degenerate scalars) takes a Jacobian detour.
 */
function mul(r: Runtime, group: 1 | 2, scalars: Uint8Array): Uint8Array {
  const t = tables.get(group) ?? buildTable(r, group)
  const n = scalars.length / 32
  const { ex } = r
  const f = group === 1 ? 'f1m' : 'f2m'
  const n8 = t.sA / 2
  const fSub = ex[`${f}_sub`]!
  const fMul = ex[`${f}_mul`]!
  const fSquare = ex[`${f}_square`]!
  const fCopy = ex[`${f}_copy`]!
  const fIsZero = ex[`${f}_isZero`]!
  const batchInverse = ex[`${f}_batchInverse`]!
  const copyAffine = ex[`${t.prefix}_copyAffine`]!
  const D = (1 << t.w) - 1
  for (let i = 0; i < n; i++) {
    // The windows cover 254 bits: larger scalars would be silently truncated.
    if (scalars[i * 32 + 31]! >= 0x40) throw new RangeError(`scalar ${i} is not below 2^254`)
  }
  const digits = digitsOf(scalars, n, t.w, t.windows)

  const need = n * (t.sA + 2 * n8) + 4 * n8 + 2 * t.sJ
  if (scratch.size < need) scratch = { p: alloc(r, need), size: need }
  const pAcc = scratch.p
  const pDx = pAcc + n * t.sA
  const pInv = pDx + n * n8
  const lam = pInv + n * n8
  const x3 = lam + n8
  const tt = x3 + n8
  const pJac = tt + 2 * n8
  // batchInverse keeps a few field elements of temporaries above the free pointer.
  ensure(r, r.free + 4 * n * n8 + (1 << 20))

  const started = new Uint8Array(n)
  const idx = new Int32Array(n)
  const tp = new Int32Array(n)
  for (let j = 0; j < t.windows; j++) {
    const row = t.pTable + (j * D - 1) * t.sA
    let k = 0
    for (let i = 0; i < n; i++) {
      const d = digits[j * n + i]!
      if (d === 0) continue
      const T = row + d * t.sA
      const A = pAcc + i * t.sA
      if (started[i] === 0) {
        started[i] = 1
        copyAffine(T, A)
        continue
      }
      const dx = pDx + k * n8
      fSub(T, A, dx)
      if (fIsZero(dx) !== 0) {
        // Same x: A = ±T. Add in Jacobian coordinates, then back to affine (or to "not started" for the identity).
        ex[`${t.prefix}_toJacobian`]!(A, pJac)
        ex[`${t.prefix}_addMixed`]!(pJac, T, pJac)
        if (ex[`${t.prefix}_isZero`]!(pJac) !== 0) started[i] = 0
        else ex[`${t.prefix}_toAffine`]!(pJac, A)
        continue
      }
      idx[k] = i
      tp[k] = T
      k++
    }
    if (k === 0) continue
    batchInverse(pDx, n8, k, pInv, n8)
    for (let q = 0; q < k; q++) {
      const A = pAcc + idx[q]! * t.sA
      const T = tp[q]!
      // λ = (yT − yA)/(xT − xA); x3 = λ² − xA − xT; y3 = λ(xA − x3) − yA
      fSub(T + n8, A + n8, tt)
      fMul(tt, pInv + q * n8, lam)
      fSquare(lam, x3)
      fSub(x3, A, x3)
      fSub(x3, T, x3)
      fSub(A, x3, tt)
      fMul(lam, tt, tt)
      fSub(tt, A + n8, A + n8)
      fCopy(x3, A)
    }
  }
  // Scalars that were zero (or summed to the identity) get the identity, in the bytes batchToAffine gives it.
  if (started.includes(0)) {
    ex[`${t.prefix}_zero`]!(pJac)
    ex[`${t.prefix}_batchToAffine`]!(pJac, 1, pJac)
    for (let i = 0; i < n; i++) if (started[i] === 0) copyAffine(pJac, pAcc + i * t.sA)
  }
  return new Uint8Array(r.memory.buffer).slice(pAcc, pAcc + n * t.sA)
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
