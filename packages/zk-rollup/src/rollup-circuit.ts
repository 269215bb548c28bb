/**
 * The batch circuit of given parameters, built through the pipeline
 * (circom2 --O2 → development ptau → Groth16 setup, each cached by content
 * hash): Batch(N, D, depth, MODE) from circuits/batch.circom with the single
 * public input array `pub`.
 */
import { fileURLToPath } from 'node:url'
import { type CircuitParams, checkParams } from './calldata.ts'
import { type BuiltCircuit, type CompiledCircuit, type ProgressFn, buildCircuit, compileCircuit } from './pipeline/index.ts'

export const BATCH_CIRCUIT_SOURCE = fileURLToPath(new URL('../circuits/batch.circom', import.meta.url))

export interface RollupCircuitOptions {
  cacheDir?: string
  onProgress?: ProgressFn
  /** A public-ceremony ptau to use instead of a development one. */
  ptauFile?: string
}

export function circuitName(p: CircuitParams): string {
  return `batch_n${p.n}_d${p.d}_h${p.depth}_${p.mode}`
}

function compileOptions(p: CircuitParams, o: RollupCircuitOptions) {
  checkParams(p)
  return {
    source: BATCH_CIRCUIT_SOURCE,
    main: { template: 'Batch', args: [p.n, p.d, p.depth, p.mode === 'sha' ? 0 : 1], publicInputs: ['pub'] },
    name: circuitName(p),
    ...(o.cacheDir !== undefined ? { cacheDir: o.cacheDir } : {}),
    ...(o.onProgress !== undefined ? { onProgress: o.onProgress } : {}),
  }
}

/** Compiles only (r1cs, wasm, sym): enough for witness-level tests. */
export function compileRollupCircuit(p: CircuitParams, o: RollupCircuitOptions = {}): Promise<CompiledCircuit> {
  return compileCircuit(compileOptions(p, o))
}

/** Compiles and sets up (zkey, verification key): enough to prove and verify. */
export function buildRollupCircuit(p: CircuitParams, o: RollupCircuitOptions = {}): Promise<BuiltCircuit> {
  return buildCircuit({ ...compileOptions(p, o), ...(o.ptauFile !== undefined ? { ptauFile: o.ptauFile } : {}) })
}
