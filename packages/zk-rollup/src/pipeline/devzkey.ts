/**
 * Direct derivation of a Groth16 zkey while the development secrets are known.
 *
 * `snarkjs zkey new` builds each of the nVars points of sections A, B1, B2 and
 * C/IC as a multi-exponentiation over the ptau's Lagrange points, one term per
 * non-zero of the r1cs matrices — about a million variable-base
 * multiplications for a 2^16 Poseidon circuit (several minutes here). Knowing
 * τ, α, β we sum those terms in the scalar field instead, using the very
 * Lagrange scalars the ptau's points were made from, and pay one fixed-base
 * multiplication per point.
 *
 * The file written is, byte for byte, what `snarkjs zkey new <r1cs> <ptau>`
 * writes for the ptau generated alongside (the tests compare whole files):
 * the same sections in the same order, points in LEM layout, the coefficient
 * section, the H section copied from the ptau, and the same blake2b circuit
 * hash — including snarkjs's quirk of hashing H points in 2^14-point chunks
 * of full size, which for domains above 2^14 hashes one point past the
 * declared count (read from wherever the file's bytes are).
 *
 * With `phase2` the phase-2 contributions are folded in: first a secret one
 * (a key from a CSPRNG-seeded stream that exists only inside this call), then
 * optionally a public beacon. The bytes are those of `snarkjs zkey
 * contribute` (given the same random stream) followed by `snarkjs zkey
 * beacon` on the `zkey new` output; the tests compare whole files. A beacon
 * alone would not do: its key is recomputable from the beacon value recorded
 * in the file, and with δ known anyone can forge proofs.
 */
import { createHash, randomBytes } from 'node:crypto'
import { open, readFile } from 'node:fs/promises'
import { BN128_Q, BN128_R, readLE, writeLE } from './field.ts'
import { PipelineError } from './errors.ts'
import { type FixedBasePool, G1_BYTES, G2_BYTES } from './fixedbase.ts'
import { loadFfjavascript } from './libs.ts'
import type { ProgressFn } from './progress.ts'

/** R² mod r where R = 2^256: snarkjs stores coefficients as n·R² in normal form. */
const R2 = (((1n << 256n) % BN128_R) * ((1n << 256n) % BN128_R)) % BN128_R
const CHUNK = 4096

interface R1cs {
  nVars: number
  nPublic: number
  nConstraints: number
  /** Coefficient triples per matrix: constraint, signal, value (normal form). */
  a: { c: Uint32Array; s: Uint32Array; v: bigint[] }
  b: { c: Uint32Array; s: Uint32Array; v: bigint[] }
  cm: { c: Uint32Array; s: Uint32Array; v: bigint[] }
  /** Raw coefficient bytes of A and B in file order, for section 4. */
  abOrder: { m: number; c: number; s: number; raw: Uint8Array }[]
}

/** Parses the r1cs header and constraint sections. */
export async function readR1cs(path: string): Promise<R1cs> {
  const file = await readFile(path)
  if (file.toString('latin1', 0, 4) !== 'r1cs') throw new PipelineError('CACHE_CORRUPT', `${path}: not an r1cs file`)
  const nSections = file.readUInt32LE(8)
  const sec = new Map<number, { start: number; size: number }>()
  let pos = 12
  for (let i = 0; i < nSections; i++) {
    sec.set(file.readUInt32LE(pos), { start: pos + 12, size: Number(file.readBigUInt64LE(pos + 4)) })
    pos += 12 + Number(file.readBigUInt64LE(pos + 4))
  }
  const h = sec.get(1)
  const cs = sec.get(2)
  if (h === undefined || cs === undefined) throw new PipelineError('CACHE_CORRUPT', `${path}: r1cs lacks header or constraints`)
  const n8 = file.readUInt32LE(h.start)
  if (n8 !== 32 || readLE(file, h.start + 4) !== BN128_R) throw new PipelineError('SETUP_FAILED', `${path}: r1cs is not over the bn128 scalar field`)
  let o = h.start + 4 + n8
  const nVars = file.readUInt32LE(o)
  const nOutputs = file.readUInt32LE(o + 4)
  const nPubInputs = file.readUInt32LE(o + 8)
  o += 16 + 8 // nPrvInputs, nLabels
  const nConstraints = file.readUInt32LE(o)
  const lists = [
    { c: [] as number[], s: [] as number[], v: [] as bigint[] },
    { c: [] as number[], s: [] as number[], v: [] as bigint[] },
    { c: [] as number[], s: [] as number[], v: [] as bigint[] },
  ]
  const abOrder: R1cs['abOrder'] = []
  let p = cs.start
  for (let c = 0; c < nConstraints; c++) {
    for (let m = 0; m < 3; m++) {
      const n = file.readUInt32LE(p)
      p += 4
      const l = lists[m]!
      for (let k = 0; k < n; k++) {
        const s = file.readUInt32LE(p)
        const raw = file.subarray(p + 4, p + 36)
        l.c.push(c)
        l.s.push(s)
        l.v.push(readLE(raw, 0))
        if (m < 2) abOrder.push({ m, c, s, raw })
        p += 36
      }
    }
  }
  const pack = (l: (typeof lists)[number]) => ({ c: Uint32Array.from(l.c), s: Uint32Array.from(l.s), v: l.v })
  return { nVars, nPublic: nOutputs + nPubInputs, nConstraints, a: pack(lists[0]!), b: pack(lists[1]!), cm: pack(lists[2]!), abOrder }
}

/** snarkjs's circuit power: log2(nConstraints + nPublic) + 1 with log2 = floor (zkey_new.js). */
export function circuitPower(r: { nConstraints: number; nPublic: number }): number {
  return Math.floor(Math.log2(r.nConstraints + r.nPublic)) + 1
}

interface PtauLayout {
  sections: Map<number, { start: number; size: number }>
}

async function ptauLayout(fh: import('node:fs/promises').FileHandle): Promise<PtauLayout> {
  const head = Buffer.alloc(12)
  await fh.read(head, 0, 12, 0)
  const n = head.readUInt32LE(8)
  const sections = new Map<number, { start: number; size: number }>()
  let pos = 12
  for (let i = 0; i < n; i++) {
    const sh = Buffer.alloc(12)
    await fh.read(sh, 0, 12, pos)
    const size = Number(sh.readBigUInt64LE(4))
    sections.set(sh.readUInt32LE(0), { start: pos + 12, size })
    pos += 12 + size
  }
  return { sections }
}

async function readAt(fh: import('node:fs/promises').FileHandle, pos: number, len: number): Promise<Buffer> {
  const b = Buffer.alloc(len)
  await fh.read(b, 0, len, pos)
  return b
}

/** The members of a single-threaded ffjavascript bn128 curve used here. */
interface CurveGroup {
  g: Uint8Array
  oneAffine: Uint8Array
  batchLEMtoU(b: Uint8Array): Promise<Uint8Array>
  fromRng(rng: unknown): Uint8Array
  timesFr(p: Uint8Array, k: Uint8Array): Uint8Array
  toAffine(p: Uint8Array): Uint8Array
  toRprLEM(buff: Uint8Array, o: number, p: Uint8Array): void
  toRprUncompressed(buff: Uint8Array, o: number, p: Uint8Array): void
}
interface SingleCurve {
  G1: CurveGroup
  G2: CurveGroup
  Fr: { fromRng(rng: unknown): Uint8Array; inv(a: Uint8Array): Uint8Array; mul(a: Uint8Array, b: Uint8Array): Uint8Array; toObject(a: Uint8Array): bigint }
  tm: { queueAction(task: unknown[]): Promise<Uint8Array[]> }
}

export interface DeriveZkeyOptions {
  r1csPath: string
  ptauPath: string
  out: string
  /** Power of the ptau. */
  power: number
  /** Lagrange scalars (32-byte LE, normal form) of level m, as used for the ptau's sections 12–15 (top level of 12: zero-padded). */
  level: (m: number, padZero: boolean) => Promise<Uint8Array>
  alpha: bigint
  beta: bigint
  pool: FixedBasePool
  /**
   * Also make the phase-2 contributions, exactly as `snarkjs zkey contribute`
   * (then `zkey beacon`, if given) would on the `zkey new` output: the file
   * written is then the last contribution's output, and C and H are computed
   * once, already divided by δ. Without it the file is `zkey new`'s (δ = 1:
   * an intermediate, never a key to prove with).
   */
  phase2?: Phase2Params
  onProgress?: ProgressFn
}

export interface Phase2Params {
  /** Name recorded with the secret contribution. */
  name: string
  /**
   * Seed of the secret contribution's ChaCha stream (32 bytes; snarkjs seeds
   * its stream with the first 32 bytes of blake2b(64 random bytes ‖ entropy)).
   * Default: 32 bytes from the OS CSPRNG, used once and dropped with the call.
   * Pass one only to reproduce a known snarkjs run in a test: whoever knows
   * the seed knows δ.
   */
  secretSeed?: Uint8Array
  /** A public beacon contribution after the secret one (optional). */
  beacon?: BeaconParams
}

export interface BeaconParams {
  /** Beacon value (1–255 bytes). */
  hash: Uint8Array
  /** log2 of the sha256 iterations applied to it (10–63, as snarkjs). */
  iterationsExp: number
  /** Contribution name recorded in the zkey. */
  name: string
}

/** Writes the zkey `snarkjs zkey new` would write; returns its circuit hash. */
export async function deriveZkey(opts: DeriveZkeyOptions): Promise<Uint8Array> {
  const r1cs = await readR1cs(opts.r1csPath)
  const cirPower = circuitPower(r1cs)
  if (cirPower > opts.power) {
    throw new PipelineError('PTAU_TOO_SMALL', `circuit needs 2^${cirPower}, ptau has 2^${opts.power}`)
  }
  const domainSize = 2 ** cirPower
  const { nVars, nPublic, nConstraints } = r1cs
  const progress = opts.onProgress ?? (() => {})

  // Per-variable scalars: A_s, B_s, C_s as sums of coefficient · L_c(τ).
  const lagr = await opts.level(cirPower, false)
  const L = (i: number) => readLE(lagr, i * 32)
  const A: bigint[] = new Array(nVars).fill(0n)
  const B: bigint[] = new Array(nVars).fill(0n)
  const C: bigint[] = new Array(nVars).fill(0n)
  const accumulate = (target: bigint[], m: R1cs['a']) => {
    const lc: bigint[] = []
    for (let k = 0; k < m.v.length; k++) {
      const c = m.c[k]!
      const l = lc[c] ?? L(c)
      lc[c] = l
      const s = m.s[k]!
      target[s] = (target[s]! + m.v[k]! * l) % BN128_R
    }
  }
  accumulate(A, r1cs.a)
  accumulate(B, r1cs.b)
  accumulate(C, r1cs.cm)
  // snarkjs adds one row per public signal (and the constant): A[s] += L_{nConstraints+s}.
  for (let s = 0; s <= nPublic; s++) A[s] = (A[s]! + L(nConstraints + s)) % BN128_R
  const { alpha, beta } = opts
  const ICC = A.map((a, s) => (beta * a + alpha * B[s]! + C[s]!) % BN128_R)

  const scalars = (vals: readonly bigint[]) => {
    const out = new Uint8Array(vals.length * 32)
    for (let i = 0; i < vals.length; i++) writeLE(out, i * 32, vals[i]!)
    return out
  }
  const total = 4 * nVars
  let done = 0
  const compute = async (label: string, group: 1 | 2, vals: readonly bigint[]): Promise<Uint8Array> => {
    const size = group === 1 ? G1_BYTES : G2_BYTES
    const out = new Uint8Array(vals.length * size)
    const s = scalars(vals)
    await Promise.all(
      Array.from({ length: Math.ceil(vals.length / CHUNK) }, async (_, k) => {
        const start = k * CHUNK
        const n = Math.min(CHUNK, vals.length - start)
        const pts = await opts.pool.mul(group, s.slice(start * 32, (start + n) * 32))
        out.set(pts, start * size)
        done += n
        progress({ stage: 'setup', message: `zkey ${label}`, done, total })
      }),
    )
    return out
  }
  progress({ stage: 'setup', message: `deriving zkey directly: ${nVars} variables, domain 2^${cirPower}`, done: 0, total })
  const [ptsIC, ptsC, ptsA, ptsB1, ptsB2] = await Promise.all([
    compute('IC', 1, ICC.slice(0, nPublic + 1)),
    compute('C', 1, ICC.slice(nPublic + 1)),
    compute('A', 1, A),
    compute('B1', 1, B),
    compute('B2', 2, B),
  ])

  // Conversions and the H-hash points, with ffjavascript's wasm (single-threaded: starts no workers).
  const ff = await loadFfjavascript()
  const curve = (await ff.buildBn128(true)) as unknown as SingleCurve

  const fh = await open(opts.ptauPath, 'r')
  let hPoints: Buffer
  let hHashPoints: Uint8Array
  let alpha1: Buffer
  let beta1: Buffer
  let beta2: Buffer
  try {
    const { sections } = await ptauLayout(fh)
    const s2 = sections.get(2)!
    const s12 = sections.get(12)!
    alpha1 = await readAt(fh, sections.get(4)!.start, G1_BYTES)
    beta1 = await readAt(fh, sections.get(5)!.start, G1_BYTES)
    beta2 = await readAt(fh, sections.get(6)!.start, G2_BYTES)
    // H: odd entries of Lagrange level cirPower+1.
    const level = await readAt(fh, s12.start + (domainSize * 2 - 1) * G1_BYTES, domainSize * 2 * G1_BYTES)
    hPoints = Buffer.alloc(domainSize * G1_BYTES)
    for (let i = 0; i < domainSize; i++) level.copy(hPoints, i * G1_BYTES, (2 * i + 1) * G1_BYTES, (2 * i + 2) * G1_BYTES)
    // Circuit-hash H points exactly as zkey_new.js hashHPoints does (chunks of min(domainSize−1, 2^14)).
    const HCHUNK = 1 << 14
    const parts: Uint8Array[] = []
    for (let i = 0; i < domainSize - 1; i += HCHUNK) {
      const n = Math.min(domainSize - 1, HCHUNK)
      const b1 = await readAt(fh, s2.start + (i + domainSize) * G1_BYTES, n * G1_BYTES)
      const b2 = await readAt(fh, s2.start + i * G1_BYTES, n * G1_BYTES)
      const task: unknown[] = [
        { cmd: 'ALLOCSET', var: 0, buff: b1 },
        { cmd: 'ALLOCSET', var: 1, buff: b2 },
        { cmd: 'ALLOC', var: 2, len: n * 96 },
      ]
      for (let k = 0; k < n; k++) {
        task.push({ cmd: 'CALL', fnName: 'g1m_subAffine', params: [{ var: 0, offset: k * 64 }, { var: 1, offset: k * 64 }, { var: 2, offset: k * 96 }] })
      }
      task.push({ cmd: 'CALL', fnName: 'g1m_batchToAffine', params: [{ var: 2 }, { val: n }, { var: 2 }] })
      task.push({ cmd: 'CALL', fnName: 'g1m_batchLEMtoU', params: [{ var: 2 }, { val: n }, { var: 2 }] })
      task.push({ cmd: 'GET', out: 0, var: 2, len: n * 64 })
      parts.push((await curve.tm.queueAction(task))[0]!)
    }
    hHashPoints = Buffer.concat(parts)
  } finally {
    await fh.close()
  }

  const u32be = (n: number) => {
    const b = Buffer.alloc(4)
    b.writeUInt32BE(n)
    return b
  }
  // blake2b-512 unkeyed = snarkjs's blake2b.create({ dkLen: 64 }).
  const hasher = createHash('blake2b512')
  hasher.update(await curve.G1.batchLEMtoU(alpha1))
  hasher.update(await curve.G1.batchLEMtoU(beta1))
  hasher.update(await curve.G2.batchLEMtoU(beta2))
  const g1 = curve.G1.oneAffine.slice()
  const g2 = curve.G2.oneAffine.slice()
  const g1U = await curve.G1.batchLEMtoU(g1)
  const g2U = await curve.G2.batchLEMtoU(g2)
  hasher.update(g2U)
  hasher.update(g1U)
  hasher.update(g2U)
  const hashPoints = async (G: typeof curve.G1, pts: Uint8Array, count: number) => {
    hasher.update(u32be(count))
    hasher.update(await G.batchLEMtoU(pts))
  }
  await hashPoints(curve.G1, ptsIC, nPublic + 1)
  hasher.update(u32be(domainSize - 1))
  hasher.update(hHashPoints)
  await hashPoints(curve.G1, ptsC, nVars - nPublic - 1)
  await hashPoints(curve.G1, ptsA, nVars)
  await hashPoints(curve.G1, ptsB1, nVars)
  await hashPoints(curve.G2, ptsB2, nVars)
  const csHash = new Uint8Array(hasher.digest())

  // Section 4: coefficients of A and B (file order), then the public rows.
  const nCoefs = r1cs.abOrder.length + nPublic + 1
  const coefs = Buffer.alloc(4 + nCoefs * 44)
  coefs.writeUInt32LE(nCoefs, 0)
  let cp = 4
  const putCoef = (m: number, c: number, s: number, v: bigint) => {
    coefs.writeUInt32LE(m, cp)
    coefs.writeUInt32LE(c, cp + 4)
    coefs.writeUInt32LE(s, cp + 8)
    writeLE(coefs, cp + 12, (v * R2) % BN128_R)
    cp += 44
  }
  for (const e of r1cs.abOrder) putCoef(e.m, e.c, e.s, readLE(e.raw, 0) % BN128_R)
  for (let s = 0; s <= nPublic; s++) putCoef(0, nConstraints + s, s, 1n)

  // Section 2: Groth16 header.
  const header = Buffer.alloc(4 + 32 + 4 + 32 + 12)
  header.writeUInt32LE(32, 0)
  writeLE(header, 4, BN128_Q)
  header.writeUInt32LE(32, 36)
  writeLE(header, 40, BN128_R)
  header.writeUInt32LE(nVars, 72)
  header.writeUInt32LE(nPublic, 76)
  header.writeUInt32LE(domainSize, 80)
  // alpha1, beta1, beta2, gamma2 (= G2); delta1, delta2 follow (G1, G2 before any contribution).
  const sec2 = Buffer.concat([header, alpha1, beta1, beta2, g2])

  const one = Buffer.alloc(4)
  one.writeUInt32LE(1)
  let order: [number, Uint8Array][]
  if (opts.phase2 === undefined) {
    const sec10 = Buffer.alloc(68)
    Buffer.from(csHash).copy(sec10, 0)
    // zkey_new.js writes the sections in this order.
    order = [
      [1, one],
      [2, Buffer.concat([sec2, g1, g2])],
      [4, coefs],
      [3, ptsIC],
      [9, hPoints],
      [8, ptsC],
      [5, ptsA],
      [6, ptsB1],
      [7, ptsB2],
      [10, sec10],
    ]
  } else {
    // zkey_contribute.js (then zkey_beacon.js): δ and the contribution records, then C and H divided by δ.
    const c = await phase2Contributions(curve, csHash, opts.phase2)
    const divide = async (label: string, scalars: Uint8Array) => {
      const vals: bigint[] = []
      for (let i = 0; i < scalars.length; i += 32) vals.push((readLE(scalars, i) * c.invDelta) % BN128_R)
      return compute(label, 1, vals)
    }
    const hLevel = await opts.level(cirPower + 1, cirPower === opts.power)
    const hScalars = new Uint8Array(domainSize * 32)
    for (let i = 0; i < domainSize; i++) hScalars.set(hLevel.subarray((2 * i + 1) * 32, (2 * i + 2) * 32), i * 32)
    const cScalars = scalars(ICC.slice(nPublic + 1))
    const [ptsCd, ptsHd] = await Promise.all([divide('C/δ', cScalars), divide('H/δ', hScalars)])
    order = [
      [1, one],
      [2, Buffer.concat([sec2, c.delta1, c.delta2])],
      [3, ptsIC],
      [4, coefs],
      [5, ptsA],
      [6, ptsB1],
      [7, ptsB2],
      [8, ptsCd],
      [9, ptsHd],
      [10, c.section10],
    ]
  }
  const out = await open(opts.out, 'w')
  try {
    const head = Buffer.alloc(12)
    head.write('zkey', 0, 'latin1')
    head.writeUInt32LE(1, 4)
    head.writeUInt32LE(order.length, 8)
    await out.write(head)
    for (const [id, data] of order) {
      const sh = Buffer.alloc(12)
      sh.writeUInt32LE(id, 0)
      sh.writeBigUInt64LE(BigInt(data.length), 4)
      await out.write(sh)
      await out.write(data)
    }
  } finally {
    await out.close()
  }
  return csHash
}

/** One phase-2 contribution record, as zkey_utils.js reads and writes it (points affine). */
interface ContributionRecord {
  deltaAfter: Uint8Array
  g1s: Uint8Array
  g1sx: Uint8Array
  g2spx: Uint8Array
  transcript: Uint8Array
  /** 0: contribution (secret key from a random stream), 1: beacon (key from a public value). */
  type: 0 | 1
  params: Uint8Array
}

/** 8 big-endian u32 words: how snarkjs seeds a ChaCha stream from a hash (misc.js, keypair.hashToG2). */
function chachaSeed(b: Uint8Array): number[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
  return Array.from({ length: 8 }, (_, i) => v.getUint32(i * 4, false))
}

/** The beacon's key stream: sha256 iterated 2^iterationsExp times (misc.rngFromBeaconParams). */
function beaconSeed(beacon: BeaconParams): Uint8Array {
  if (beacon.hash.length < 1 || beacon.hash.length > 255) throw new PipelineError('SETUP_FAILED', 'beacon must be 1-255 bytes', { field: 'beacon' })
  if (!Number.isInteger(beacon.iterationsExp) || beacon.iterationsExp < 10 || beacon.iterationsExp > 63) {
    throw new PipelineError('SETUP_FAILED', 'beacon iterationsExp must be in [10, 63]', { field: 'beacon.iterationsExp' })
  }
  let h: Uint8Array = beacon.hash
  const inner = beacon.iterationsExp < 32 ? 2 ** beacon.iterationsExp : 2 ** 32
  const outer = beacon.iterationsExp < 32 ? 1 : 2 ** (beacon.iterationsExp - 32)
  for (let i = 0; i < outer; i++) for (let j = 0; j < inner; j++) h = createHash('sha256').update(h).digest()
  return h
}

/**
 * The phase-2 contributions `snarkjs zkey contribute` and then `zkey beacon`
 * make on a fresh zkey (zkey_contribute.js, zkey_beacon.js,
 * keypair.hashToG2, zkey_utils.hashPubKey/writeMPCParams), reproduced with
 * the same ffjavascript calls so the bytes agree. The secret contribution's
 * key comes from a ChaCha stream seeded with 32 CSPRNG bytes (as snarkjs's
 * getRandomRng seeds it from 64 CSPRNG bytes and the entropy text); it lives
 * in this function's locals only, and δ = secret · beacon is returned only as
 * its inverse, for dividing C and H.
 */
async function phase2Contributions(
  curve: SingleCurve,
  csHash: Uint8Array,
  phase2: Phase2Params,
): Promise<{ invDelta: bigint; delta1: Uint8Array; delta2: Uint8Array; section10: Uint8Array }> {
  const ff = (await loadFfjavascript()) as unknown as { ChaCha: new (seed: number[]) => unknown }
  if (phase2.secretSeed !== undefined && phase2.secretSeed.length !== 32) {
    throw new PipelineError('SETUP_FAILED', 'secretSeed must be 32 bytes', { field: 'phase2.secretSeed' })
  }
  const u = (G: CurveGroup, p: Uint8Array, n: number) => {
    const b = new Uint8Array(n)
    G.toRprUncompressed(b, 0, p)
    return b
  }
  const lem = (G: CurveGroup, p: Uint8Array, n: number) => {
    const b = new Uint8Array(n)
    G.toRprLEM(b, 0, p)
    return b
  }
  const records: ContributionRecord[] = []
  let delta1 = curve.G1.g
  let delta2 = curve.G2.g
  let delta: Uint8Array | undefined
  const contribute = (rng: unknown, type: 0 | 1, params: Uint8Array) => {
    const prvKey = curve.Fr.fromRng(rng)
    const g1s = curve.G1.toAffine(curve.G1.fromRng(rng))
    const g1sx = curve.G1.toAffine(curve.G1.timesFr(g1s, prvKey))
    const transcriptHasher = createHash('blake2b512').update(csHash)
    for (const r of records) {
      transcriptHasher.update(u(curve.G1, r.deltaAfter, 64)).update(u(curve.G1, r.g1s, 64)).update(u(curve.G1, r.g1sx, 64))
      transcriptHasher.update(u(curve.G2, r.g2spx, 128)).update(r.transcript)
    }
    const transcript = new Uint8Array(transcriptHasher.update(u(curve.G1, g1s, 64)).update(u(curve.G1, g1sx, 64)).digest())
    const g2sp = curve.G2.fromRng(new ff.ChaCha(chachaSeed(transcript)))
    const g2spx = curve.G2.toAffine(curve.G2.timesFr(g2sp, prvKey))
    delta1 = curve.G1.toAffine(curve.G1.timesFr(delta1, prvKey))
    delta2 = curve.G2.toAffine(curve.G2.timesFr(delta2, prvKey))
    delta = delta === undefined ? prvKey : curve.Fr.mul(delta, prvKey)
    records.push({ deltaAfter: delta1, g1s, g1sx, g2spx, transcript, type, params })
  }
  const nameParam = (name: string) => {
    const n = new TextEncoder().encode(name.substring(0, 64))
    return [1, n.length, ...n]
  }
  // The secret contribution (type 0): its seed is dropped when this function returns.
  contribute(new ff.ChaCha(chachaSeed(phase2.secretSeed ?? randomBytes(32))), 0, Uint8Array.from(nameParam(phase2.name)))
  if (phase2.beacon !== undefined) {
    const b = phase2.beacon
    const params = Uint8Array.from([...nameParam(b.name), 2, b.iterationsExp, 3, b.hash.length, ...b.hash])
    contribute(new ff.ChaCha(chachaSeed(beaconSeed(b))), 1, params)
  }

  const u32 = (n: number) => {
    const b = Buffer.alloc(4)
    b.writeUInt32LE(n)
    return b
  }
  const parts: Uint8Array[] = [csHash, u32(records.length)]
  for (const r of records) {
    parts.push(lem(curve.G1, r.deltaAfter, 64), lem(curve.G1, r.g1s, 64), lem(curve.G1, r.g1sx, 64), lem(curve.G2, r.g2spx, 128), r.transcript)
    parts.push(u32(r.type), u32(r.params.length), r.params)
  }
  return {
    invDelta: curve.Fr.toObject(curve.Fr.inv(delta as Uint8Array)),
    delta1: lem(curve.G1, delta1, 64),
    delta2: lem(curve.G2, delta2, 128),
    section10: Buffer.concat(parts),
  }
}
