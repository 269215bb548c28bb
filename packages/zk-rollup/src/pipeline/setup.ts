/**
 * Stage 3: the circuit-specific Groth16 setup with snarkjs — `zkey new` from
 * the ptau, one phase-2 contribution (a random beacon), and the exported
 * verification key — cached under `<cache>/setup/<name>-<key>`, keyed by the
 * compiled circuit's hash and the ptau file's sha256.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { InvalidInputError } from '@l2bench/core'
import { keyHash, publish, readJson, resolveCacheDir, tempSibling, withLock } from './cache.ts'
import type { CompiledCircuit } from './compile.ts'
import { PipelineError } from './errors.ts'
import { type SnarkLogger, type VerificationKey, loadSnarkjs } from './libs.ts'
import { type ProgressFn, silent } from './progress.ts'
import { DEV_SETUP_WARNING, type PtauInfo } from './ptau.ts'

const SETUP_FORMAT = 1
/** 2^10 hash iterations: snarkjs's minimum; the beacon is random anyway. */
const BEACON_ITERATIONS_EXP = 10

export interface SetupOptions {
  compiled: CompiledCircuit
  ptau: PtauInfo
  /** Beacon for the phase-2 contribution, hex (default: 32 random bytes). */
  beacon?: string
  cacheDir?: string
  onProgress?: ProgressFn
  /** Redo the setup even when cached. */
  force?: boolean
}

export interface CircuitSetup {
  /** The final zkey (after the beacon contribution). */
  zkey: string
  /** verification_key.json */
  vkeyPath: string
  vkey: VerificationKey
  /** Cache key: hex sha256 of circuit hash, ptau hash and format. */
  hash: string
  dir: string
  /** True when the ptau was a development one: see DEV_SETUP_WARNING. */
  developmentOnly: boolean
  cached: boolean
  durationMs: number
}

interface Meta {
  format: number
  hash: string
  circuit: string
  circuitHash: string
  ptauHash: string
  ptauPower: number
  developmentOnly: boolean
  createdAt: string
  timings: Record<string, number>
}

/** Adapts snarkjs's logger calls to progress events (info and above; debug is per-chunk noise). */
export function snarkLogger(progress: ProgressFn, stage: 'ptau' | 'setup' = 'setup'): SnarkLogger {
  return {
    debug: () => {},
    info: (m) => progress({ stage, message: m }),
    warn: (m) => progress({ stage, message: `warning: ${m}` }),
    error: (m) => progress({ stage, message: `error: ${m}` }),
  }
}

/** Runs (or finds cached) the Groth16 setup of a compiled circuit against a ptau. */
export async function setupCircuit(opts: SetupOptions): Promise<CircuitSetup> {
  const t0 = performance.now()
  const { compiled, ptau } = opts
  if (compiled === undefined || typeof compiled.r1cs !== 'string') throw new InvalidInputError('compiled', 'must be a compileCircuit() result')
  if (ptau === undefined || typeof ptau.path !== 'string') throw new InvalidInputError('ptau', 'must be an ensurePtau() result')
  if (opts.beacon !== undefined && !/^(?:[0-9a-fA-F]{2}){1,255}$/.test(opts.beacon)) throw new InvalidInputError('beacon', 'must be 1-255 bytes of hex')
  if (ptau.power < compiled.requiredPower) {
    throw new PipelineError('PTAU_TOO_SMALL', `ptau 2^${ptau.power} is too small for ${compiled.name} (needs 2^${compiled.requiredPower})`, { field: 'ptau' })
  }
  const progress = opts.onProgress ?? silent
  const hash = keyHash('setup', [String(SETUP_FORMAT), compiled.hash, ptau.hash])
  const dir = join(resolveCacheDir(opts.cacheDir), 'setup', `${compiled.name}-${hash.slice(0, 16)}`)
  const paths = { zkey: join(dir, `${compiled.name}.zkey`), vkeyPath: join(dir, 'verification_key.json') }

  const fromCache = async (): Promise<CircuitSetup | undefined> => {
    if (opts.force === true) return undefined
    const meta = await readJson<Meta>(join(dir, 'meta.json'))
    if (meta === undefined || meta.hash !== hash || meta.format !== SETUP_FORMAT || !existsSync(paths.zkey)) return undefined
    const vkey = await readJson<VerificationKey>(paths.vkeyPath)
    if (vkey === undefined) return undefined
    return { ...paths, vkey, hash, dir, developmentOnly: meta.developmentOnly, cached: true, durationMs: performance.now() - t0 }
  }

  const hit = await fromCache()
  if (hit !== undefined) {
    progress({ stage: 'setup', message: `cached setup for ${compiled.name} (${dir})` })
    return hit
  }
  return withLock(
    dir,
    async () => {
      const again = await fromCache()
      if (again !== undefined) return again
      const snarkjs = await loadSnarkjs()
      const logger = snarkLogger(progress)
      const tmp = tempSibling(dir)
      await mkdir(tmp, { recursive: true })
      try {
        const timings: Record<string, number> = {}
        const z0 = join(tmp, `${compiled.name}_0000.zkey`)
        const zFinal = join(tmp, `${compiled.name}.zkey`)
        let t = performance.now()
        progress({ stage: 'setup', message: `zkey new: ${compiled.constraints} constraints against ptau 2^${ptau.power}` })
        const csHash = await snarkjs.zKey.newZKey(compiled.r1cs, ptau.path, z0, logger)
        if (!(csHash instanceof Uint8Array)) throw new PipelineError('SETUP_FAILED', `snarkjs zkey new failed for ${compiled.name} (see progress output)`)
        timings.zkeyNew = performance.now() - t

        t = performance.now()
        const beacon = opts.beacon ?? randomBytes(32).toString('hex')
        progress({ stage: 'setup', message: `phase-2 contribution (random beacon, 2^${BEACON_ITERATIONS_EXP} iterations)` })
        const contribution = await snarkjs.zKey.beacon(z0, zFinal, 'l2bench beacon', beacon, BEACON_ITERATIONS_EXP, logger)
        if (!(contribution instanceof Uint8Array)) throw new PipelineError('SETUP_FAILED', `snarkjs zkey beacon failed for ${compiled.name}`)
        await rm(z0)
        timings.beacon = performance.now() - t

        t = performance.now()
        const vkey = await snarkjs.zKey.exportVerificationKey(zFinal, logger)
        await writeFile(join(tmp, 'verification_key.json'), JSON.stringify(vkey, null, 1))
        timings.exportVkey = performance.now() - t

        const meta: Meta = {
          format: SETUP_FORMAT,
          hash,
          circuit: compiled.name,
          circuitHash: compiled.hash,
          ptauHash: ptau.hash,
          ptauPower: ptau.power,
          developmentOnly: ptau.developmentOnly,
          createdAt: new Date().toISOString(),
          timings,
        }
        await writeFile(join(tmp, 'meta.json'), JSON.stringify(meta, null, 2))
        await publish(tmp, dir)
        progress({
          stage: 'setup',
          message: `setup of ${compiled.name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s${ptau.developmentOnly ? `. ${DEV_SETUP_WARNING}` : ''}`,
        })
        return { ...paths, vkey, hash, dir, developmentOnly: ptau.developmentOnly, cached: false, durationMs: performance.now() - t0 }
      } catch (err) {
        await rm(tmp, { recursive: true, force: true })
        throw err
      }
    },
    () => progress({ stage: 'setup', message: `waiting for another process setting up ${compiled.name}` }),
  )
}
