/**
 * Stage 2: powers of tau. Either a file the caller passes (a public ceremony
 * file — the only sound choice beyond benchmarking), checked and fingerprinted,
 * or a development file from the fast generator (devptau.ts), cached under
 * `<cache>/ptau/dev-<power>.ptau`.
 */
import { existsSync } from 'node:fs'
import { open, readdir, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { InvalidInputError } from '@l2bench/core'
import { publish, readJson, resolveCacheDir, sha256File, tempSibling, withLock, writeFileAtomic } from './cache.ts'
import { BN128_Q, MAX_DEV_POWER, generateDevPtau } from './devptau.ts'
import { PipelineError } from './errors.ts'
import { type ProgressFn, silent } from './progress.ts'

export const DEV_SETUP_WARNING =
  'DEVELOPMENT SETUP ONLY: this powers-of-tau was generated on this machine; one process knew the secret τ, α, β for a moment. ' +
  'Proofs under it are not trustworthy against whoever ran it. Use a public ceremony ptau (--ptau FILE) for anything beyond benchmarking.'

export interface PtauOptions {
  /** Required power: the ptau must support 2^power (compiled.requiredPower). */
  power: number
  /** A ptau file to use instead of generating one (must be prepared for phase 2, of at least `power`). */
  ptauFile?: string
  cacheDir?: string
  onProgress?: ProgressFn
  /** Worker threads for generation (default: available parallelism). */
  workers?: number
  /** Regenerate the development file even when cached. */
  force?: boolean
  /** Only reuse a cached development file of exactly `power` (default: the smallest cached one ≥ power). */
  exact?: boolean
}

export interface PtauInfo {
  path: string
  /** Power of the file (≥ the requested one). */
  power: number
  /** 'dev': generated here, development only; 'file': passed in by the caller. */
  kind: 'dev' | 'file'
  /** Hex sha256 of the file: setups are cached against it. */
  hash: string
  developmentOnly: boolean
  cached: boolean
  durationMs: number
}

interface DevMeta {
  power: number
  hash: string
  generator: string
  createdAt: string
  durationMs: number
}

const GENERATOR_ID = 'l2bench-devptau/1'

/** Reads the header of a ptau file: its power and which sections it has. */
export async function readPtauInfo(path: string): Promise<{ power: number; ceremonyPower: number; sections: number[] }> {
  const fh = await open(path, 'r').catch((err: unknown) => {
    throw new InvalidInputError('ptauFile', `cannot open ${path}`, { cause: err })
  })
  try {
    const size = (await fh.stat()).size
    const head = Buffer.alloc(12)
    await fh.read(head, 0, 12, 0)
    if (head.toString('latin1', 0, 4) !== 'ptau') throw new PipelineError('PTAU_FORMAT', `${path}: not a ptau file`, { field: 'ptauFile' })
    const n = head.readUInt32LE(8)
    const sections: number[] = []
    let pos = 12
    let power = -1
    let ceremonyPower = -1
    for (let i = 0; i < n; i++) {
      if (pos + 12 > size) throw new PipelineError('PTAU_FORMAT', `${path}: truncated`, { field: 'ptauFile' })
      const sh = Buffer.alloc(12)
      await fh.read(sh, 0, 12, pos)
      const id = sh.readUInt32LE(0)
      const len = Number(sh.readBigUInt64LE(4))
      sections.push(id)
      if (id === 1) {
        const body = Buffer.alloc(len)
        await fh.read(body, 0, len, pos + 12)
        const n8 = body.readUInt32LE(0)
        let q = 0n
        for (let k = n8 - 1; k >= 0; k--) q = (q << 8n) | BigInt(body[4 + k]!)
        if (q !== BN128_Q) throw new PipelineError('PTAU_FORMAT', `${path}: not a bn128 ptau`, { field: 'ptauFile' })
        power = body.readUInt32LE(4 + n8)
        ceremonyPower = body.readUInt32LE(8 + n8)
      }
      pos += 12 + len
    }
    if (pos !== size) throw new PipelineError('PTAU_FORMAT', `${path}: size does not match its sections`, { field: 'ptauFile' })
    if (power < 0) throw new PipelineError('PTAU_FORMAT', `${path}: no header section`, { field: 'ptauFile' })
    return { power, ceremonyPower, sections }
  } finally {
    await fh.close()
  }
}

/** sha256 of a user file, remembered in the cache by (path, size, mtime) so big ceremony files are hashed once. */
async function fingerprint(path: string, cacheDir: string): Promise<string> {
  const s = await stat(path)
  const memo = join(cacheDir, 'ptau', 'fingerprints.json')
  const key = `${path}|${s.size}|${s.mtimeMs}`
  const known = (await readJson<Record<string, string>>(memo)) ?? {}
  const hit = known[key]
  if (hit !== undefined) return hit
  const hash = await sha256File(path)
  const fresh = (await readJson<Record<string, string>>(memo)) ?? {}
  fresh[key] = hash
  await writeFileAtomic(memo, JSON.stringify(fresh, null, 2))
  return hash
}

function validatePower(power: unknown, max: number): asserts power is number {
  if (typeof power !== 'number' || !Number.isInteger(power) || power < 1 || power > max) {
    throw new InvalidInputError('power', `must be an integer in [1, ${max}]`)
  }
}

/** Returns a ptau that supports 2^power: the caller's file, a cached development file, or a freshly generated one. */
export async function ensurePtau(opts: PtauOptions): Promise<PtauInfo> {
  const t0 = performance.now()
  const progress = opts.onProgress ?? silent
  const cacheDir = resolveCacheDir(opts.cacheDir)

  if (opts.ptauFile !== undefined) {
    validatePower(opts.power, 28)
    const path = resolve(opts.ptauFile)
    const info = await readPtauInfo(path)
    if (!info.sections.includes(12)) {
      throw new PipelineError('PTAU_NOT_PREPARED', `${path} is not prepared for phase 2 (no Lagrange sections); run \`snarkjs powersoftau prepare phase2\` on it once, or use a *_final ceremony file`, {
        field: 'ptauFile',
      })
    }
    if (info.power < opts.power) {
      throw new PipelineError('PTAU_TOO_SMALL', `${path} has power ${info.power}, the circuit needs ${opts.power}`, { field: 'ptauFile' })
    }
    progress({ stage: 'ptau', message: `using ${path} (power ${info.power}); fingerprinting` })
    const hash = await fingerprint(path, cacheDir)
    return { path, power: info.power, kind: 'file', hash, developmentOnly: false, cached: true, durationMs: performance.now() - t0 }
  }

  validatePower(opts.power, MAX_DEV_POWER)
  const dir = join(cacheDir, 'ptau')
  const fileFor = (p: number) => join(dir, `dev-${p}.ptau`)

  const lookup = async (): Promise<PtauInfo | undefined> => {
    if (opts.force === true) return undefined
    const candidates: number[] = []
    if (opts.exact === true) candidates.push(opts.power)
    else if (existsSync(dir)) {
      for (const f of await readdir(dir)) {
        const m = /^dev-(\d+)\.ptau$/.exec(f)
        if (m !== null && Number(m[1]) >= opts.power) candidates.push(Number(m[1]))
      }
      candidates.sort((a, b) => a - b)
    }
    for (const p of candidates) {
      const meta = await readJson<DevMeta>(`${fileFor(p)}.json`)
      if (meta === undefined || meta.generator !== GENERATOR_ID || meta.power !== p || !existsSync(fileFor(p))) continue
      return { path: fileFor(p), power: p, kind: 'dev', hash: meta.hash, developmentOnly: true, cached: true, durationMs: performance.now() - t0 }
    }
    return undefined
  }

  const hit = await lookup()
  if (hit !== undefined) {
    progress({ stage: 'ptau', message: `cached development ptau 2^${hit.power} (${hit.path})` })
    return hit
  }
  const path = fileFor(opts.power)
  return withLock(
    path,
    async () => {
      const again = await lookup()
      if (again !== undefined) return again
      progress({ stage: 'ptau', message: `generating development ptau 2^${opts.power}. ${DEV_SETUP_WARNING}` })
      const tmp = tempSibling(path)
      const result = await generateDevPtau({
        power: opts.power,
        out: tmp,
        ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
        onProgress: progress,
      })
      const hash = await sha256File(tmp)
      await publish(tmp, path)
      const meta: DevMeta = { power: opts.power, hash, generator: GENERATOR_ID, createdAt: new Date().toISOString(), durationMs: result.durationMs }
      await writeFileAtomic(`${path}.json`, JSON.stringify(meta, null, 2))
      progress({ stage: 'ptau', message: `generated ${path} in ${(result.durationMs / 1000).toFixed(1)} s` })
      return { path, power: opts.power, kind: 'dev', hash, developmentOnly: true, cached: false, durationMs: performance.now() - t0 }
    },
    () => progress({ stage: 'ptau', message: `waiting for another process generating ${path}` }),
  )
}
