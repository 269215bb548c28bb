/**
 * Stage 3: the circuit-specific Groth16 setup — a zkey whose phase 2 holds a
 * secret contribution (a key drawn from the OS CSPRNG, used once and dropped)
 * followed by a random beacon, and the exported verification key — cached
 * under `<cache>/setup/<name>-<key>`.
 *
 * Why the secret contribution: a beacon's key is recomputable from the beacon
 * value recorded in the zkey, so a beacon-only phase 2 leaves δ public and
 * anyone holding the zkey could forge proofs (phase2.ts). Every zkey this
 * stage writes, or finds in its cache, passes `assertSecretContribution`.
 *
 * Two ways there:
 *  - with a ptau (a ceremony file, or the shared development one): snarkjs
 *    `zkey new`, `zkey contribute` (snarkjs's own CSPRNG plus 32 random bytes
 *    of entropy), `zkey beacon`; keyed by the circuit hash and the ptau's
 *    sha256. For a real deployment the single local contribution is only the
 *    floor: more parties contribute with `snarkjs zkey contribute` on their
 *    own machines (docs/pipeline.md);
 *  - without one (the default for development): a fresh development ptau of
 *    the power the circuit needs is generated and, while its secrets are still
 *    in memory, the zkey is derived directly (devzkey.ts) with both
 *    contributions folded in — the bytes `zkey new` + `zkey contribute` +
 *    `zkey beacon` would write against that ptau, minutes faster at 2^16. The
 *    ptau is kept beside the zkey, so `snarkjs zkey verify` can check them.
 * Either way the verification key is exported by snarkjs.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { InvalidInputError } from '@l2bench/core'
import { keyHash, publish, readJson, resolveCacheDir, sha256File, tempSibling, withLock } from './cache.ts'
import type { CompiledCircuit } from './compile.ts'
import { PipelineError } from './errors.ts'
import { type SnarkLogger, type VerificationKey, loadSnarkjs } from './libs.ts'
import { type ProgressFn, silent } from './progress.ts'
import { generateDevPtau, MAX_DEV_POWER } from './devptau.ts'
import { assertSecretContribution } from './phase2.ts'
import { DEV_SETUP_WARNING, type PtauInfo } from './ptau.ts'

/** 2: phase 2 = secret contribution + beacon (1 was a beacon alone: forgeable, never reused). */
const SETUP_FORMAT = 2
/** 2^10 hash iterations: snarkjs's minimum; the beacon is random anyway. */
const BEACON_ITERATIONS_EXP = 10
const BEACON_NAME = 'l2bench beacon'
const CONTRIBUTION_NAME = 'l2bench secret contribution'

export interface SetupOptions {
  compiled: CompiledCircuit
  /** The ptau to set up against (snarkjs `zkey new`). Omit for a fresh development setup with a directly derived zkey. */
  ptau?: PtauInfo
  /** Without `ptau`: the development ptau's power (default: the circuit's requiredPower). */
  power?: number
  /** Without `ptau`: worker threads for the generator. */
  workers?: number
  /** Beacon for the phase-2 beacon contribution (after the secret one), hex (default: 32 random bytes). */
  beacon?: string
  cacheDir?: string
  onProgress?: ProgressFn
  /** Redo the setup even when cached. */
  force?: boolean
}

export interface CircuitSetup {
  /** 'snarkjs': zkey new against the given ptau; 'derived': development setup with the zkey derived from the secrets. */
  method: 'snarkjs' | 'derived'
  /** The ptau the zkey belongs to (for 'derived', the development ptau generated with it, kept in `dir`). */
  ptau: PtauInfo
  /** The final zkey (after the secret contribution and the beacon). */
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
  /** Milliseconds per step of a fresh setup (ptau, zkeyDerive or zkeyNew, contribute, beacon, exportVkey); absent when cached. */
  timings?: Record<string, number>
}

interface Meta {
  format: number
  method: 'snarkjs' | 'derived'
  ptau: Omit<PtauInfo, 'cached' | 'durationMs'>
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

/** Runs (or finds cached) the Groth16 setup of a compiled circuit. */
export async function setupCircuit(opts: SetupOptions): Promise<CircuitSetup> {
  const t0 = performance.now()
  const { compiled, ptau } = opts
  if (compiled === undefined || typeof compiled.r1cs !== 'string') throw new InvalidInputError('compiled', 'must be a compileCircuit() result')
  if (ptau !== undefined && typeof ptau.path !== 'string') throw new InvalidInputError('ptau', 'must be an ensurePtau() result')
  if (opts.beacon !== undefined && !/^(?:[0-9a-fA-F]{2}){1,255}$/.test(opts.beacon)) throw new InvalidInputError('beacon', 'must be 1-255 bytes of hex')
  const method = ptau === undefined ? 'derived' : 'snarkjs'
  const power = ptau?.power ?? Math.max(compiled.requiredPower, opts.power ?? 0)
  if (ptau === undefined && (!Number.isInteger(power) || power > MAX_DEV_POWER)) {
    throw new InvalidInputError('power', `must be an integer ≤ ${MAX_DEV_POWER}`)
  }
  if (power < compiled.requiredPower) {
    throw new PipelineError('PTAU_TOO_SMALL', `ptau 2^${power} is too small for ${compiled.name} (needs 2^${compiled.requiredPower})`, { field: 'ptau' })
  }
  const progress = opts.onProgress ?? silent
  const hash = keyHash('setup', [String(SETUP_FORMAT), method, compiled.hash, ptau === undefined ? `dev-${power}` : ptau.hash])
  const dir = join(resolveCacheDir(opts.cacheDir), 'setup', `${compiled.name}-${hash.slice(0, 16)}`)
  const paths = { zkey: join(dir, `${compiled.name}.zkey`), vkeyPath: join(dir, 'verification_key.json') }

  const fromCache = async (): Promise<CircuitSetup | undefined> => {
    if (opts.force === true) return undefined
    const meta = await readJson<Meta>(join(dir, 'meta.json'))
    if (meta === undefined || meta.hash !== hash || meta.format !== SETUP_FORMAT || !existsSync(paths.zkey)) return undefined
    const vkey = await readJson<VerificationKey>(paths.vkeyPath)
    if (vkey === undefined) return undefined
    await assertSecretContribution(paths.zkey)
    const usedPtau: PtauInfo = { ...meta.ptau, cached: true, durationMs: 0 }
    return { method: meta.method, ptau: usedPtau, ...paths, vkey, hash, dir, developmentOnly: meta.developmentOnly, cached: true, durationMs: performance.now() - t0 }
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
        let usedPtau: PtauInfo
        const beacon = opts.beacon ?? randomBytes(32).toString('hex')
        if (ptau === undefined) {
          progress({ stage: 'ptau', message: `development setup: fresh ptau 2^${power} and a directly derived zkey for ${compiled.name}. ${DEV_SETUP_WARNING}` })
          const devPath = join(tmp, `dev-${power}.ptau`)
          const gen = await generateDevPtau({
            power,
            out: devPath,
            // Both contributions are made in the same pass (the bytes of zkey contribute + zkey beacon on zkey new's output).
            zkeys: [
              {
                r1cs: compiled.r1cs,
                out: zFinal,
                phase2: { name: CONTRIBUTION_NAME, beacon: { hash: Buffer.from(beacon, 'hex'), iterationsExp: BEACON_ITERATIONS_EXP, name: BEACON_NAME } },
              },
            ],
            ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
            onProgress: progress,
          })
          timings.ptau = gen.ptauMs
          timings.zkeyDerive = gen.durationMs - gen.ptauMs
          usedPtau = {
            path: join(dir, `dev-${power}.ptau`),
            power,
            kind: 'dev',
            hash: await sha256File(devPath),
            developmentOnly: true,
            cached: false,
            durationMs: gen.ptauMs,
          }
        } else {
          progress({ stage: 'setup', message: `zkey new: ${compiled.constraints} constraints against ptau 2^${ptau.power}` })
          const csHash = await snarkjs.zKey.newZKey(compiled.r1cs, ptau.path, z0, logger)
          if (!(csHash instanceof Uint8Array)) throw new PipelineError('SETUP_FAILED', `snarkjs zkey new failed for ${compiled.name} (see progress output)`)
          timings.zkeyNew = performance.now() - t
          usedPtau = ptau

          t = performance.now()
          progress({ stage: 'setup', message: 'phase-2 secret contribution (snarkjs zkey contribute)' })
          const z1 = join(tmp, `${compiled.name}_0001.zkey`)
          // snarkjs draws 64 bytes from the OS CSPRNG itself and hashes them with this entropy; neither is kept.
          const secret = await snarkjs.zKey.contribute(z0, z1, CONTRIBUTION_NAME, randomBytes(32).toString('hex'), logger)
          if (!(secret instanceof Uint8Array)) throw new PipelineError('SETUP_FAILED', `snarkjs zkey contribute failed for ${compiled.name}`)
          await rm(z0)
          timings.contribute = performance.now() - t

          t = performance.now()
          progress({ stage: 'setup', message: `phase-2 beacon (2^${BEACON_ITERATIONS_EXP} iterations)` })
          const contribution = await snarkjs.zKey.beacon(z1, zFinal, BEACON_NAME, beacon, BEACON_ITERATIONS_EXP, logger)
          if (!(contribution instanceof Uint8Array)) throw new PipelineError('SETUP_FAILED', `snarkjs zkey beacon failed for ${compiled.name}`)
          await rm(z1)
          timings.beacon = performance.now() - t
        }

        await assertSecretContribution(zFinal)
        t = performance.now()
        const vkey = await snarkjs.zKey.exportVerificationKey(zFinal, logger)
        await writeFile(join(tmp, 'verification_key.json'), JSON.stringify(vkey, null, 1))
        timings.exportVkey = performance.now() - t

        const { cached: _c, durationMs: _d, ...ptauMeta } = usedPtau
        const meta: Meta = {
          format: SETUP_FORMAT,
          method,
          ptau: ptauMeta,
          hash,
          circuit: compiled.name,
          circuitHash: compiled.hash,
          ptauHash: usedPtau.hash,
          ptauPower: usedPtau.power,
          developmentOnly: usedPtau.developmentOnly,
          createdAt: new Date().toISOString(),
          timings,
        }
        await writeFile(join(tmp, 'meta.json'), JSON.stringify(meta, null, 2))
        await publish(tmp, dir)
        progress({
          stage: 'setup',
          message: `setup of ${compiled.name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s${usedPtau.developmentOnly ? ' (development only)' : ''}`,
        })
        return {
          method,
          ptau: usedPtau,
          ...paths,
          vkey,
          hash,
          dir,
          developmentOnly: usedPtau.developmentOnly,
          cached: false,
          durationMs: performance.now() - t0,
          timings,
        }
      } catch (err) {
        await rm(tmp, { recursive: true, force: true })
        throw err
      }
    },
    () => progress({ stage: 'setup', message: `waiting for another process setting up ${compiled.name}` }),
  )
}
