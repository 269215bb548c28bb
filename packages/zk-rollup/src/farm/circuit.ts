/**
 * A circuit as the farm knows it: named by the content of what proving needs
 * (the witness wasm, the zkey) and of the verification key the proofs must
 * pass. Two machines agree on a circuit exactly when these bytes agree: a
 * Groth16 setup is random, so building "the same" circuit elsewhere gives
 * another zkey and another id, and its proofs would not verify on this run's
 * contract.
 *
 * The run publishes its circuit into a shared directory (NFS, a volume, or
 * this machine's pipeline cache) as `<dir>/<id>/`; a worker fetches it from
 * there by id and checks every file against its hash before proving with it.
 */
import { existsSync } from 'node:fs'
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { InvalidInputError } from '@l2bench/core'
import { type CircuitParams, checkParams } from '../calldata.ts'
import { type BuiltCircuit, type VerificationKey, resolveCacheDir } from '../pipeline/index.ts'
import { keyHash, publish, sha256File, tempSibling } from '../pipeline/cache.ts'
import { circuitName } from '../rollup-circuit.ts'
import { ProverFarmError } from './errors.ts'

export interface FarmCircuit {
  /** 32 hex digits: sha256 over the hashes of the wasm, the zkey and the verification key. */
  id: string
  name: string
  params: CircuitParams
  /** Local paths. */
  wasm: string
  zkey: string
  vkey: VerificationKey
  sha256: { wasm: string; zkey: string; vkey: string }
}

/** What a run announces to the farm about its circuit (no local paths). */
export type FarmCircuitMeta = Pick<FarmCircuit, 'id' | 'name' | 'params' | 'sha256'>

const ID = /^[0-9a-f]{32}$/
const FILES = { wasm: 'circuit.wasm', zkey: 'circuit.zkey', vkey: 'verification_key.json' } as const

/** Throws unless `id` is a circuit id (it names a directory: nothing else may get through). */
export function checkCircuitId(id: unknown, field = 'circuit'): string {
  if (typeof id !== 'string' || !ID.test(id)) throw new InvalidInputError(field, `expected a circuit id of 32 hex digits, got ${JSON.stringify(id)}`)
  return id
}

/** Default shared directory: the pipeline cache's `farm/` (this machine's workers find the run's circuit there). */
export function defaultCircuitCache(): string {
  return join(resolveCacheDir(), 'farm')
}

function idOf(sha: FarmCircuit['sha256']): string {
  return keyHash('farm-circuit', [sha.wasm, sha.zkey, sha.vkey]).slice(0, 32)
}

/** The farm's view of a circuit built by the pipeline (hashes its files). */
export async function farmCircuitOf(built: Pick<BuiltCircuit, 'compiled' | 'setup'>, params: CircuitParams): Promise<FarmCircuit> {
  checkParams(params)
  const [wasm, zkey, vkey] = await Promise.all([sha256File(built.compiled.wasm), sha256File(built.setup.zkey), sha256File(built.setup.vkeyPath)])
  const sha256 = { wasm, zkey, vkey }
  return { id: idOf(sha256), name: circuitName(params), params, wasm: built.compiled.wasm, zkey: built.setup.zkey, vkey: built.setup.vkey, sha256 }
}

/** Copies the circuit into `<dir>/<id>/` unless it is there already (published atomically: readers see all of it or none). */
export async function publishCircuit(dir: string, c: FarmCircuit, vkeyPath: string): Promise<string> {
  const dest = join(dir, c.id)
  if (existsSync(join(dest, 'meta.json'))) return dest
  await mkdir(dir, { recursive: true })
  const tmp = tempSibling(dest)
  await mkdir(tmp)
  try {
    await copyFile(c.wasm, join(tmp, FILES.wasm))
    await copyFile(c.zkey, join(tmp, FILES.zkey))
    await copyFile(vkeyPath, join(tmp, FILES.vkey))
    const meta: FarmCircuitMeta = { id: c.id, name: c.name, params: c.params, sha256: c.sha256 }
    await writeFile(join(tmp, 'meta.json'), `${JSON.stringify(meta, null, 1)}\n`)
    if (existsSync(join(dest, 'meta.json'))) await rm(tmp, { recursive: true, force: true })
    else await publish(tmp, dest)
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    throw err
  }
  return dest
}

/**
 * The circuit `id` from `<dir>/<id>/`, every file checked against its hash.
 * Throws CIRCUIT_NOT_FOUND when it is absent or its files do not hash to `id`.
 */
export async function fetchCircuit(dir: string, id: string): Promise<FarmCircuit> {
  checkCircuitId(id)
  const at = join(dir, id)
  let meta: FarmCircuitMeta
  try {
    meta = JSON.parse(await readFile(join(at, 'meta.json'), 'utf8')) as FarmCircuitMeta
  } catch {
    throw new ProverFarmError('CIRCUIT_NOT_FOUND', `circuit ${id} is not in ${dir} (the run publishes it there: share that directory with the workers)`, {
      field: 'circuit',
      details: { dir, id },
    })
  }
  const paths = { wasm: join(at, FILES.wasm), zkey: join(at, FILES.zkey), vkey: join(at, FILES.vkey) }
  const sha256 = {
    wasm: await sha256File(paths.wasm).catch(() => ''),
    zkey: await sha256File(paths.zkey).catch(() => ''),
    vkey: await sha256File(paths.vkey).catch(() => ''),
  }
  if (idOf(sha256) !== id)
    throw new ProverFarmError('CIRCUIT_NOT_FOUND', `the files in ${at} do not hash to circuit ${id} (an altered or partial copy)`, { field: 'circuit', details: { dir, id } })
  const vkey = JSON.parse(await readFile(paths.vkey, 'utf8')) as VerificationKey
  return { id, name: String(meta.name), params: checkParams((meta.params ?? {}) as CircuitParams), wasm: paths.wasm, zkey: paths.zkey, vkey, sha256 }
}
