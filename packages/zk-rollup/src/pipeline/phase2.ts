/**
 * Reading a zkey's phase-2 record (section 10: circuit hash, then one record
 * per contribution — zkey_utils.js readMPCParams) and refusing a key whose δ
 * anyone can recompute.
 *
 * A Groth16 key is only sound while δ is unknown. Each phase-2 contribution
 * multiplies δ by its key: a *contribution* (type 0) draws that key from a
 * random stream its contributor is trusted to forget; a *beacon* (type 1)
 * derives it from a public value written into the record, so anyone can
 * recompute it. A zkey with no phase-2 contribution (δ = 1, `zkey new`'s
 * output) or only beacons therefore lets anyone holding it — and verifiers and
 * provers all hold it — forge a proof of anything (with γ the G2 generator,
 * A = α, B = β, C = −δ⁻¹·vk_x verifies for any public input). Every setup
 * this pipeline ships passes `assertSecretContribution`.
 */
import { open } from 'node:fs/promises'
import { PipelineError } from './errors.ts'

export interface Phase2Contribution {
  type: 'contribution' | 'beacon'
  name?: string
  /** Beacon value (hex) and log2 of its sha256 iterations, for type 'beacon'. */
  beacon?: { hash: string; iterationsExp: number }
}

/** The contribution records of a zkey, in order. */
export async function readPhase2(zkeyPath: string): Promise<Phase2Contribution[]> {
  const fh = await open(zkeyPath, 'r')
  try {
    const head = Buffer.alloc(12)
    await fh.read(head, 0, 12, 0)
    if (head.toString('latin1', 0, 4) !== 'zkey') throw new PipelineError('CACHE_CORRUPT', `${zkeyPath}: not a zkey file`, { field: 'zkey' })
    const n = head.readUInt32LE(8)
    let pos = 12
    let body: Buffer | undefined
    for (let i = 0; i < n; i++) {
      const sh = Buffer.alloc(12)
      await fh.read(sh, 0, 12, pos)
      const size = Number(sh.readBigUInt64LE(4))
      if (sh.readUInt32LE(0) === 10) {
        if (size > 1 << 24) throw new PipelineError('CACHE_CORRUPT', `${zkeyPath}: phase-2 section of ${size} bytes`, { field: 'zkey' })
        body = Buffer.alloc(size)
        await fh.read(body, 0, size, pos + 12)
      }
      pos += 12 + size
    }
    if (body === undefined) throw new PipelineError('CACHE_CORRUPT', `${zkeyPath}: no phase-2 section`, { field: 'zkey' })
    return parseSection10(body, zkeyPath)
  } finally {
    await fh.close()
  }
}

const RECORD_POINTS = 64 * 3 + 128 + 64 // deltaAfter, g1_s, g1_sx (G1), g2_spx (G2), transcript

function parseSection10(b: Buffer, path: string): Phase2Contribution[] {
  const bad = (why: string): never => {
    throw new PipelineError('CACHE_CORRUPT', `${path}: phase-2 section ${why}`, { field: 'zkey' })
  }
  if (b.length < 68) bad('truncated')
  const count = b.readUInt32LE(64)
  let at = 68
  const out: Phase2Contribution[] = []
  for (let i = 0; i < count; i++) {
    if (at + RECORD_POINTS + 8 > b.length) bad('truncated')
    at += RECORD_POINTS
    const type = b.readUInt32LE(at)
    const len = b.readUInt32LE(at + 4)
    at += 8
    if (at + len > b.length) bad('truncated')
    const params = b.subarray(at, at + len)
    at += len
    if (type !== 0 && type !== 1) bad(`has contribution type ${type}`)
    const c: Phase2Contribution = { type: type === 0 ? 'contribution' : 'beacon' }
    let hash: string | undefined
    let iterationsExp: number | undefined
    for (let p = 0; p < params.length; ) {
      const id = params[p] as number
      if (id === 1) {
        const l = params[p + 1] as number
        c.name = new TextDecoder().decode(params.subarray(p + 2, p + 2 + l))
        p += 2 + l
      } else if (id === 2) {
        iterationsExp = params[p + 1] as number
        p += 2
      } else if (id === 3) {
        const l = params[p + 1] as number
        hash = params.subarray(p + 2, p + 2 + l).toString('hex')
        p += 2 + l
      } else bad(`has unknown parameter ${id}`)
    }
    if (c.type === 'beacon') {
      if (hash === undefined || iterationsExp === undefined) bad('has a beacon without its parameters')
      c.beacon = { hash: hash as string, iterationsExp: iterationsExp as number }
    }
    out.push(c)
  }
  if (at !== b.length) bad('has trailing bytes')
  return out
}

/** Throws PHASE2_NO_SECRET unless the zkey holds at least one non-beacon contribution. */
export async function assertSecretContribution(zkeyPath: string): Promise<Phase2Contribution[]> {
  const records = await readPhase2(zkeyPath)
  if (!records.some((r) => r.type === 'contribution')) {
    const what = records.length === 0 ? 'no phase-2 contribution (δ = 1)' : `only beacon contributions (${records.length})`
    throw new PipelineError(
      'PHASE2_NO_SECRET',
      `${zkeyPath} has ${what}: δ is recomputable from the file and anyone holding it can forge proofs; add a contribution (snarkjs zkey contribute) before use`,
      { field: 'zkey' },
    )
  }
  return records
}
