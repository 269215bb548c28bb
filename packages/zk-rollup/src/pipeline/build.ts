/**
 * One call for the whole pipeline (compile → ptau → setup) plus thin wrappers
 * to prove and verify with the result, for the rollup and the tests.
 */
import { InvalidInputError } from '@l2bench/core'
import { type CompileOptions, type CompiledCircuit, compileCircuit } from './compile.ts'
import { type Groth16Proof, type VerificationKey, loadSnarkjs } from './libs.ts'
import { type PtauInfo, ensurePtau } from './ptau.ts'
import { type CircuitSetup, setupCircuit } from './setup.ts'

export interface BuildOptions extends CompileOptions {
  /** Use this ptau file (public ceremony) instead of a development one. */
  ptauFile?: string
  /** Generate/require at least this power (default: what the circuit needs). */
  power?: number
  /** Worker threads for ptau generation. */
  workers?: number
  /** Beacon hex for the phase-2 beacon, made after the secret contribution (default random). */
  beacon?: string
  /**
   * Without `ptauFile`: 'derived' (default) generates a fresh development ptau
   * per setup and derives the zkey directly (fast); 'shared' uses the cached
   * shared development ptau and snarkjs `zkey new` (slow at large powers).
   */
  devSetup?: 'derived' | 'shared'
}

export interface BuiltCircuit {
  compiled: CompiledCircuit
  ptau: PtauInfo
  setup: CircuitSetup
  /** True when all three stages came from the cache. */
  cached: boolean
  developmentOnly: boolean
}

/** Compiles, finds or makes a ptau, and runs the Groth16 setup: each stage cached. */
export async function buildCircuit(opts: BuildOptions): Promise<BuiltCircuit> {
  const { ptauFile, power, workers, beacon, devSetup, ...compileOpts } = opts
  if (devSetup !== undefined && devSetup !== 'derived' && devSetup !== 'shared') throw new InvalidInputError('devSetup', "must be 'derived' or 'shared'")
  const compiled = await compileCircuit(compileOpts)
  const common = {
    ...(opts.cacheDir !== undefined ? { cacheDir: opts.cacheDir } : {}),
    ...(opts.onProgress !== undefined ? { onProgress: opts.onProgress } : {}),
  }
  const wanted = Math.max(compiled.requiredPower, power ?? 0)
  let ptau: PtauInfo | undefined
  if (ptauFile !== undefined || devSetup === 'shared') {
    ptau = await ensurePtau({
      power: wanted,
      ...(ptauFile !== undefined ? { ptauFile } : {}),
      ...(workers !== undefined ? { workers } : {}),
      ...common,
    })
  }
  const setup = await setupCircuit({
    compiled,
    ...(ptau !== undefined ? { ptau } : { power: wanted }),
    ...(workers !== undefined ? { workers } : {}),
    ...(beacon !== undefined ? { beacon } : {}),
    ...common,
  })
  const usedPtau = ptau ?? setup.ptau
  return { compiled, ptau: usedPtau, setup, cached: compiled.cached && usedPtau.cached && setup.cached, developmentOnly: setup.developmentOnly }
}

export interface ProofWithSignals {
  proof: Groth16Proof
  publicSignals: string[]
}

/** Computes the witness with the circuit's wasm and a Groth16 proof with its zkey. */
export async function prove(
  circuit: { compiled: Pick<CompiledCircuit, 'wasm'>; setup: Pick<CircuitSetup, 'zkey'> },
  input: Record<string, unknown>,
): Promise<ProofWithSignals> {
  const snarkjs = await loadSnarkjs()
  return snarkjs.groth16.fullProve(input, circuit.compiled.wasm, circuit.setup.zkey)
}

/** Verifies a Groth16 proof against a verification key; false (never a throw) for a malformed or wrong proof. */
export async function verify(vkey: VerificationKey, publicSignals: readonly string[], proof: Groth16Proof): Promise<boolean> {
  const snarkjs = await loadSnarkjs()
  try {
    return await snarkjs.groth16.verify(vkey, publicSignals, proof)
  } catch {
    return false
  }
}
