/**
 * Typed access to the untyped JavaScript libraries the pipeline drives:
 * snarkjs, ffjavascript and circom2. They ship no .d.ts, and an ambient
 * `declare module` here could clash with one elsewhere in the package, so they
 * are loaded through a non-literal dynamic import and given the narrow
 * interfaces below, covering only what is used.
 */
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/** A snarkjs logger (console-like). */
export interface SnarkLogger {
  debug(msg: string): void
  info(msg: string): void
  warn(msg: string): void
  error(msg: string): void
}

export interface Groth16Proof {
  pi_a: string[]
  pi_b: string[][]
  pi_c: string[]
  protocol: string
  curve: string
}

/** A snarkjs Groth16 verification key (as exported by `zkey export verificationkey`). */
export interface VerificationKey {
  protocol: string
  curve: string
  nPublic: number
  vk_alpha_1: string[]
  vk_beta_2: string[][]
  vk_gamma_2: string[][]
  vk_delta_2: string[][]
  vk_alphabeta_12: string[][][]
  IC: string[][]
}

export interface SnarkjsApi {
  groth16: {
    fullProve(
      input: Record<string, unknown>,
      wasmFile: string,
      zkeyFile: string,
      logger?: SnarkLogger,
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>
    prove(zkeyFile: string, witnessFile: string | Uint8Array, logger?: SnarkLogger): Promise<{ proof: Groth16Proof; publicSignals: string[] }>
    verify(vkey: VerificationKey, publicSignals: readonly string[], proof: Groth16Proof, logger?: SnarkLogger): Promise<boolean>
  }
  powersOfTau: {
    newAccumulator(curve: unknown, power: number, fileName: string, logger?: SnarkLogger): Promise<Uint8Array>
    contribute(oldFile: string, newFile: string, name: string, entropy: string, logger?: SnarkLogger): Promise<Uint8Array>
    preparePhase2(oldFile: string, newFile: string, logger?: SnarkLogger): Promise<void>
    verify(file: string, logger?: SnarkLogger): Promise<boolean>
  }
  zKey: {
    newZKey(r1cs: string, ptau: string, zkey: string, logger?: SnarkLogger): Promise<Uint8Array | number>
    contribute(oldZkey: string, newZkey: string, name: string, entropy: string, logger?: SnarkLogger): Promise<Uint8Array | boolean>
    beacon(
      oldZkey: string,
      newZkey: string,
      name: string,
      beaconHashHex: string,
      numIterationsExp: number,
      logger?: SnarkLogger,
    ): Promise<Uint8Array | boolean>
    exportVerificationKey(zkey: string, logger?: SnarkLogger): Promise<VerificationKey>
    verifyFromR1cs(r1cs: string, ptau: string, zkey: string, logger?: SnarkLogger): Promise<boolean>
  }
  wtns: {
    calculate(input: Record<string, unknown>, wasmFile: string, wtnsFile: string | { type: 'mem'; data?: Uint8Array }): Promise<void>
  }
}

/** A point group of an ffjavascript curve (only the members used here). */
export interface FfGroup {
  g: unknown
  F: { n8: number }
  oneAffine: Uint8Array
  zeroAffine: Uint8Array
  timesFr(p: unknown, s: Uint8Array): unknown
  /** Multiplies by a normal-form little-endian integer (timesFr takes a Montgomery-form Fr element). */
  timesScalar(p: unknown, s: Uint8Array): unknown
  toAffine(p: unknown): Uint8Array
  toRprLEM(buff: Uint8Array, offset: number, p: unknown): void
  fromRprLEM(buff: Uint8Array, offset: number): unknown
  eq(a: unknown, b: unknown): boolean
}

/** A prime field of an ffjavascript curve (wasm-backed Fr). */
export interface FfField {
  n8: number
  one: Uint8Array
  e(v: bigint | number | string): Uint8Array
  toObject(a: Uint8Array): bigint
  fromObject(a: bigint): Uint8Array
  mul(a: Uint8Array, b: Uint8Array): Uint8Array
  exp(a: Uint8Array, e: bigint | number): Uint8Array
}

export interface FfCurve {
  name: string
  q: bigint
  r: bigint
  G1: FfGroup
  G2: FfGroup
  Fr: FfField
  tm: { concurrency: number }
  terminate(): Promise<void>
}

export interface FfjavascriptApi {
  buildBn128(singleThread?: boolean): Promise<FfCurve>
  F1Field: new (p: bigint) => { w: bigint[]; s: number; shift: bigint }
}

async function load<T>(specifier: string): Promise<T> {
  return (await import(specifier)) as T
}

let snarkjs: Promise<SnarkjsApi> | undefined
let ffjavascript: Promise<FfjavascriptApi> | undefined

export function loadSnarkjs(): Promise<SnarkjsApi> {
  snarkjs ??= load<SnarkjsApi>('snarkjs')
  return snarkjs
}

export function loadFfjavascript(): Promise<FfjavascriptApi> {
  ffjavascript ??= load<FfjavascriptApi>('ffjavascript')
  return ffjavascript
}

/** The shared multi-threaded bn128 curve (the same instance snarkjs uses, cached on globalThis). */
export async function getCurve(): Promise<FfCurve> {
  const ff = await loadFfjavascript()
  return ff.buildBn128()
}

/**
 * Terminates the shared bn128 curve's worker threads, if snarkjs or this
 * pipeline started them. Without this a process that proved something never
 * exits. Safe to call more than once.
 */
export async function terminateCurve(): Promise<void> {
  const g = globalThis as { curve_bn128?: FfCurve | null }
  const curve = g.curve_bn128
  if (curve !== undefined && curve !== null) await curve.terminate()
}

export interface Circom2Api {
  CircomRunner: new (opts: {
    args: string[]
    env: Record<string, string>
    preopens: Record<string, string>
    bindings: Record<string, unknown>
  }) => { execute(wasm: Uint8Array): Promise<unknown> }
  bindings: Record<string, unknown>
}

/** circom2's CommonJS entry, its compiler wasm path and package version. */
export function loadCircom2(): { api: Circom2Api; wasmPath: string; version: string } {
  const api = require('circom2') as Circom2Api
  const wasmPath = require.resolve('circom2/circom.wasm')
  const version = (require('circom2/package.json') as { version: string }).version
  return { api, wasmPath, version }
}

/** Directory of circomlib's circuits, always on the include path. */
export function circomlibDir(): string {
  return require.resolve('circomlib/package.json').replace(/package\.json$/, 'circuits')
}
