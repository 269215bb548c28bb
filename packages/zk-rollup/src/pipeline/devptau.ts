/**
 * The fast development powers-of-tau generator.
 *
 * A ptau file is a list of points k·G1 / k·G2 whose scalars k are polynomials
 * in secret field elements τ, α, β. A real ceremony never lets anyone know them;
 * a development file may: we draw τ, α, β from the OS CSPRNG, compute every
 * scalar in the field (cheap), multiply the generators by them in worker threads
 * (fixedbase.ts), write the file, and drop the secrets. Anyone who had them
 * could forge proofs, which is why the result is for development only.
 *
 * snarkjs's `powersoftau prepare phase2` derives the Lagrange-basis sections
 * 12–15 from sections 2–5 with an inverse FFT *over the group*: (n/2)·log n
 * variable-base multiplications per level. Knowing τ, we do the same inverse
 * FFT over the scalar field instead — with ffjavascript's own Fr.ifft, the
 * identical linear map on the same roots of unity — and pay one fixed-base
 * multiplication per output point. The output is byte-identical to what
 * snarkjs writes (the tests check the whole file against
 * `preparePhase2` run on the unprepared file emitted from the same secrets).
 *
 * File layout (iden3 binfile "ptau" v1, as snarkjs writes a prepared file):
 *   1 header: n8=32, q, power, ceremonyPower
 *   2 tauG1        τ^i·G1,     i < 2^(p+1)−1
 *   3 tauG2        τ^i·G2,     i < 2^p
 *   4 alphaTauG1   α·τ^i·G1,   i < 2^p
 *   5 betaTauG1    β·τ^i·G1,   i < 2^p
 *   6 betaG2       β·G2
 *   7 contributions: count 0 (like a fresh `powersoftau new` file)
 *  12 lagrange tauG1: for each level m = 0..p+1 (level p+1 from the 2^(p+1)−1
 *     tauG1 points padded with one zero point), IFFT_m(τ^i)·G1
 *  13 lagrange tauG2, 14 alphaTauG1, 15 betaTauG1: levels m = 0..p
 */
import { randomBytes } from 'node:crypto'
import { open, rm } from 'node:fs/promises'
import { InvalidInputError } from '@l2bench/core'
import { type Phase2Params, deriveZkey } from './devzkey.ts'
import { BN128_Q, BN128_R, readLE, writeLE } from './field.ts'
import { G1_BYTES, G2_BYTES, FixedBasePool, bestWindow } from './fixedbase.ts'
import { loadFfjavascript } from './libs.ts'
import { type ProgressFn, silent, throttle } from './progress.ts'

export { BN128_Q, BN128_R } from './field.ts'

/** Largest power this generator accepts (snarkjs's lagrangeEvaluations handles bits ≤ Fr.s = 28 with a plain IFFT; level p+1 must fit). */
export const MAX_DEV_POWER = 27

export interface DevPtauSecrets {
  tau: bigint
  alpha: bigint
  beta: bigint
}

export interface GenerateDevPtauOptions {
  power: number
  /** Where to write the prepared ptau (sections 1–7 and 12–15). */
  out: string
  /** Also write the unprepared ptau (sections 1–7) from the same secrets: for checking against snarkjs. */
  unpreparedOut?: string
  /** Fixed toxic waste, for reproducible tests only. Default: fresh CSPRNG draws. */
  secrets?: DevPtauSecrets
  workers?: number
  onProgress?: ProgressFn
  /**
   * Circuits to derive zkeys for while the secrets are known (see devzkey.ts):
   * each `out` becomes the file `snarkjs zkey new <r1cs> <this ptau>` would write,
   * or with `phase2` that file after `zkey contribute` (a secret key) and an
   * optional `zkey beacon`.
   */
  zkeys?: readonly { r1cs: string; out: string; phase2?: Phase2Params }[]
}

export interface DevPtauResult {
  path: string
  unprepared?: string
  power: number
  g1Points: number
  g2Points: number
  workers: number
  window: { 1: number; 2: number }
  /** Circuit hashes of the derived zkeys, in `zkeys` order. */
  zkeys: { out: string; csHash: Uint8Array }[]
  /** Time spent writing the ptau alone. */
  ptauMs: number
  durationMs: number
}

function randomScalar(): bigint {
  for (;;) {
    // 64 bytes reduced mod r: bias below 2^-250.
    const v = BigInt(`0x${randomBytes(64).toString('hex')}`) % BN128_R
    if (v !== 0n) return v
  }
}

/** Scalars as 32-byte LE normal-form integers. */
function scalarsOf(values: readonly bigint[], factor = 1n): Uint8Array {
  const out = new Uint8Array(values.length * 32)
  for (let i = 0; i < values.length; i++) writeLE(out, i * 32, factor === 1n ? values[i]! : (values[i]! * factor) % BN128_R)
  return out
}

function scale(scalars: Uint8Array, factor: bigint): Uint8Array {
  const out = new Uint8Array(scalars.length)
  for (let o = 0; o < scalars.length; o += 32) writeLE(out, o, (readLE(scalars, o) * factor) % BN128_R)
  return out
}

interface Block {
  label: string
  group: 1 | 2
  /** Absolute file offset of the first point. */
  offset: number
  /** Produces the block's scalars (called just before the block is computed, to bound memory). */
  scalars: () => Promise<Uint8Array>
  count: number
}

/** Builds the 12-byte file header and 12-byte section headers of a binfile. */
function binHeader(nSections: number): Uint8Array {
  const b = Buffer.alloc(12)
  b.write('ptau', 0, 'latin1')
  b.writeUInt32LE(1, 4)
  b.writeUInt32LE(nSections, 8)
  return b
}

function sectionHeader(id: number, size: number): Uint8Array {
  const b = Buffer.alloc(12)
  b.writeUInt32LE(id, 0)
  b.writeBigUInt64LE(BigInt(size), 4)
  return b
}

function ptauHeaderBody(power: number): Uint8Array {
  const b = Buffer.alloc(44)
  b.writeUInt32LE(32, 0)
  writeLE(b, 4, BN128_Q)
  b.writeUInt32LE(power, 36)
  b.writeUInt32LE(power, 40)
  return b
}

/** Generates a development ptau of 2^power. The secrets exist only inside this call. */
export async function generateDevPtau(opts: GenerateDevPtauOptions): Promise<DevPtauResult> {
  const t0 = performance.now()
  const { power } = opts
  if (!Number.isInteger(power) || power < 1 || power > MAX_DEV_POWER) {
    throw new InvalidInputError('power', `must be an integer in [1, ${MAX_DEV_POWER}]`)
  }
  if (opts.secrets !== undefined) {
    for (const k of ['tau', 'alpha', 'beta'] as const) {
      const v = opts.secrets[k]
      if (typeof v !== 'bigint' || v <= 0n || v >= BN128_R) throw new InvalidInputError(`secrets.${k}`, 'must be a bigint in [1, r)')
    }
  }
  const progress = throttle(opts.onProgress ?? silent)
  const N = 2 ** power

  // The toxic waste lives in these three locals (and the scalar arrays derived from them) until this call returns.
  const { tau, alpha, beta } = opts.secrets ?? { tau: randomScalar(), alpha: randomScalar(), beta: randomScalar() }

  // τ^i for i < 2N−1 (section 2 needs that many; the others a prefix).
  const powers: bigint[] = new Array(2 * N - 1)
  let acc = 1n
  for (let i = 0; i < 2 * N - 1; i++) {
    powers[i] = acc
    acc = (acc * tau) % BN128_R
  }

  // ffjavascript's Fr inverse FFT, single-threaded (no worker threads to terminate), Montgomery in and out.
  const ff = await loadFfjavascript()
  const frCurve = (await ff.buildBn128(true)) as unknown as {
    Fr: {
      batchToMontgomery(b: Uint8Array): Promise<Uint8Array>
      batchFromMontgomery(b: Uint8Array): Promise<Uint8Array>
      ifft(b: Uint8Array): Promise<Uint8Array>
    }
  }
  const Fr = frCurve.Fr
  /** Lagrange-basis scalars of level m: IFFT over the size-2^m domain of (τ^0..τ^(2^m−1)), last entry zeroed if `padZero`. */
  const lagrange = async (m: number, padZero: boolean): Promise<Uint8Array> => {
    const n = 2 ** m
    const input = new Uint8Array(n * 32)
    for (let i = 0; i < n; i++) if (!(padZero && i === n - 1)) writeLE(input, i * 32, powers[i]!)
    const out = await Fr.batchFromMontgomery(await Fr.ifft(await Fr.batchToMontgomery(input)))
    return new Uint8Array(out)
  }

  // Lay out the file.
  const sizes: [number, number][] = [
    [1, 44],
    [2, (2 * N - 1) * G1_BYTES],
    [3, N * G2_BYTES],
    [4, N * G1_BYTES],
    [5, N * G1_BYTES],
    [6, G2_BYTES],
    [7, 4],
    [12, (2 ** (power + 2) - 1) * G1_BYTES],
    [13, (2 ** (power + 1) - 1) * G2_BYTES],
    [14, (2 ** (power + 1) - 1) * G1_BYTES],
    [15, (2 ** (power + 1) - 1) * G1_BYTES],
  ]
  const dataOffset = new Map<number, number>()
  let pos = 12
  for (const [id, size] of sizes) {
    dataOffset.set(id, pos + 12)
    pos += 12 + size
  }
  const endOfSection7 = dataOffset.get(7)! + 4
  const blocks: Block[] = [
    { label: 'tauG1', group: 1, offset: dataOffset.get(2)!, count: 2 * N - 1, scalars: async () => scalarsOf(powers) },
    { label: 'tauG2', group: 2, offset: dataOffset.get(3)!, count: N, scalars: async () => scalarsOf(powers.slice(0, N)) },
    { label: 'alphaTauG1', group: 1, offset: dataOffset.get(4)!, count: N, scalars: async () => scalarsOf(powers.slice(0, N), alpha) },
    { label: 'betaTauG1', group: 1, offset: dataOffset.get(5)!, count: N, scalars: async () => scalarsOf(powers.slice(0, N), beta) },
    { label: 'betaG2', group: 2, offset: dataOffset.get(6)!, count: 1, scalars: async () => scalarsOf([beta]) },
  ]
  // Lagrange levels; the level-m scalars are shared by sections 12–15, so compute them once per level.
  let levelCache: { m: number; s: Uint8Array } | undefined
  const level = async (m: number) => {
    if (levelCache?.m !== m) levelCache = { m, s: await lagrange(m, false) }
    return levelCache.s
  }
  for (let m = 0; m <= power + 1; m++) {
    const n = 2 ** m
    const before = n - 1 // points of levels 0..m−1
    blocks.push({
      label: 'lagrange tauG1',
      group: 1,
      offset: dataOffset.get(12)! + before * G1_BYTES,
      count: n,
      scalars: () => (m === power + 1 ? lagrange(m, true) : level(m)),
    })
    if (m <= power) {
      blocks.push(
        { label: 'lagrange tauG2', group: 2, offset: dataOffset.get(13)! + before * G2_BYTES, count: n, scalars: () => level(m) },
        { label: 'lagrange alphaTauG1', group: 1, offset: dataOffset.get(14)! + before * G1_BYTES, count: n, scalars: async () => scale(await level(m), alpha) },
        { label: 'lagrange betaTauG1', group: 1, offset: dataOffset.get(15)! + before * G1_BYTES, count: n, scalars: async () => scale(await level(m), beta) },
      )
    }
  }

  const g1Points = blocks.filter((b) => b.group === 1).reduce((a, b) => a + b.count, 0)
  const g2Points = blocks.filter((b) => b.group === 2).reduce((a, b) => a + b.count, 0)
  const workers = Math.max(1, opts.workers ?? (await import('node:os')).availableParallelism())
  const window = { 1: bestWindow(g1Points / workers), 2: bestWindow(g2Points / workers) } as const
  const pool = new FixedBasePool({ workers, window })
  const fh = await open(opts.out, 'w')
  let open_ = true
  let ptauMs = 0
  const zkeys: DevPtauResult['zkeys'] = []
  try {
    await fh.write(binHeader(sizes.length), 0, 12, 0)
    for (const [id, size] of sizes) await fh.write(sectionHeader(id, size), 0, 12, dataOffset.get(id)! - 12)
    await fh.write(ptauHeaderBody(power), 0, 44, dataOffset.get(1)!)
    await fh.write(new Uint8Array(4), 0, 4, dataOffset.get(7)!)

    // Weight G2 work ~3x G1 for progress.
    const total = g1Points + 3 * g2Points
    let done = 0
    progress({ stage: 'ptau', message: `generating 2^${power}: ${g1Points} G1 + ${g2Points} G2 points on ${workers} workers (window ${window[1]}/${window[2]} bits)`, done, total })
    const CHUNK = 4096
    const inflight = new Set<Promise<void>>()
    const maxInflight = workers * 3
    for (const block of blocks) {
      const scalars = await block.scalars()
      const size = block.group === 1 ? G1_BYTES : G2_BYTES
      for (let start = 0; start < block.count; start += CHUNK) {
        const n = Math.min(CHUNK, block.count - start)
        const p = pool.mul(block.group, scalars.slice(start * 32, (start + n) * 32)).then(async (points) => {
          await fh.write(points, 0, n * size, block.offset + start * size)
          done += block.group === 1 ? n : 3 * n
          progress({ stage: 'ptau', message: block.label, done, total })
        })
        const tracked = p.finally(() => inflight.delete(tracked))
        inflight.add(tracked)
        if (inflight.size >= maxInflight) await Promise.race(inflight)
      }
    }
    await Promise.all(inflight)
    open_ = false
    await fh.close()
    ptauMs = performance.now() - t0

    for (const z of opts.zkeys ?? []) {
      const csHash = await deriveZkey({
        r1csPath: z.r1cs,
        ptauPath: opts.out,
        out: z.out,
        power,
        level: (m, padZero) => (padZero ? lagrange(m, true) : level(m)),
        ...(z.phase2 !== undefined ? { phase2: z.phase2 } : {}),
        alpha,
        beta,
        pool,
        ...(opts.onProgress !== undefined ? { onProgress: progress } : {}),
      })
      zkeys.push({ out: z.out, csHash })
    }
  } catch (err) {
    if (open_) await fh.close()
    await rm(opts.out, { force: true })
    for (const z of opts.zkeys ?? []) await rm(z.out, { force: true })
    throw err
  } finally {
    // Drop the derived scalars early; they determine the secrets.
    powers.length = 0
    levelCache = undefined
    await pool.close()
  }

  let unprepared: string | undefined
  if (opts.unpreparedOut !== undefined) {
    unprepared = opts.unpreparedOut
    const src = await open(opts.out, 'r')
    const dst = await open(unprepared, 'w')
    try {
      const body = Buffer.alloc(endOfSection7 - 12)
      await src.read(body, 0, body.length, 12)
      await dst.write(binHeader(7), 0, 12, 0)
      await dst.write(body, 0, body.length, 12)
    } finally {
      await src.close()
      await dst.close()
    }
  }
  return {
    path: opts.out,
    ...(unprepared !== undefined ? { unprepared } : {}),
    power,
    g1Points,
    g2Points,
    workers,
    window,
    zkeys,
    ptauMs,
    durationMs: performance.now() - t0,
  }
}
