/**
 * Circuit build pipeline of @l2bench/zk-rollup: compile circom circuits with
 * the circom2 npm package, obtain a powers-of-tau (a public ceremony file, or
 * a fast development one), run the Groth16 setup — every stage cached by
 * content hash — and prove/verify with the result.
 *
 * Processes that prove or set up must call `terminateCurve()` when done, or
 * snarkjs's worker threads keep them alive.
 */
export { buildCircuit, prove, verify } from './build.ts'
export type { BuildOptions, BuiltCircuit, ProofWithSignals } from './build.ts'
export { PACKAGE_ROOT, resolveCacheDir } from './cache.ts'
export { collectSources, compileCircuit, readR1csHeader, requiredPowerFor } from './compile.ts'
export type { CompileOptions, CompiledCircuit, MainComponent } from './compile.ts'
export { BN128_Q, BN128_R, MAX_DEV_POWER, generateDevPtau } from './devptau.ts'
export type { DevPtauResult, DevPtauSecrets, GenerateDevPtauOptions } from './devptau.ts'
export { PipelineError } from './errors.ts'
export type { PipelineErrorCode } from './errors.ts'
export { assertSecretContribution, readPhase2 } from './phase2.ts'
export type { Phase2Contribution } from './phase2.ts'
export { getCurve, loadFfjavascript, loadSnarkjs, terminateCurve } from './libs.ts'
export type { FfCurve, Groth16Proof, SnarkjsApi, SnarkLogger, VerificationKey } from './libs.ts'
export { silent, throttle } from './progress.ts'
export type { ProgressEvent, ProgressFn, Stage } from './progress.ts'
export { DEV_SETUP_WARNING, ensurePtau, readPtauInfo } from './ptau.ts'
export type { PtauInfo, PtauOptions } from './ptau.ts'
export { setupCircuit, snarkLogger } from './setup.ts'
export type { CircuitSetup, SetupOptions } from './setup.ts'
