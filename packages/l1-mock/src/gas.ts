/**
 * THE gas schedule. Every charge any contract makes goes through one of these
 * entries, so a report can print the table it was computed with and break a
 * design's cost down by operation. Values follow Ethereum after EIP-2028
 * (calldata), EIP-2929 (cold/warm access) and EIP-1108 (BN254 precompiles).
 */

export const GAS_SCHEDULE = {
  /** Intrinsic cost of every transaction. */
  txBase: 21_000,
  /** Calldata, per non-zero / zero byte (EIP-2028). */
  calldataNonZeroByte: 16,
  calldataZeroByte: 4,
  /** SSTORE to a fresh slot (zero → non-zero). */
  storageNew: 20_000,
  /** SSTORE to a slot that already holds a value (including clearing it; refunds are not modelled). */
  storageUpdate: 2_900,
  /** SLOAD of a slot not yet touched in this transaction. */
  storageColdRead: 2_100,
  /** SLOAD of a slot already touched in this transaction. */
  storageWarmRead: 100,
  /** ecrecover precompile: one secp256k1 signature check. */
  ecrecover: 3_000,
  /** sha256 precompile: 60 + 12 per 32-byte word. */
  sha256Base: 60,
  sha256Word: 12,
  /** keccak256 opcode: 30 + 6 per 32-byte word. */
  keccakBase: 30,
  keccakWord: 6,
  /** BN254 precompiles (EIP-1108). */
  bn254PairingBase: 45_000,
  bn254PairingPerPair: 34_000,
  bn254EcMul: 6_000,
  bn254EcAdd: 150,
  /** LOG: 375 + 375 per topic + 8 per data byte. */
  logBase: 375,
  logTopic: 375,
  logDataByte: 8,
  /** CALL that moves value to an account (the value-transfer surcharge). */
  valueTransfer: 9_000,
} as const

export type GasOp = keyof typeof GAS_SCHEDULE

/** Groth16 verification on BN254 with `publicInputs` inputs: 181,150 + 6,150 per input (EIP-1108 pricing). */
export function groth16VerifyGas(publicInputs: number): number {
  return 181_150 + 6_150 * publicInputs
}

export function calldataGas(data: Uint8Array): number {
  let gas = 0
  for (let i = 0; i < data.length; i++) gas += data[i] === 0 ? GAS_SCHEDULE.calldataZeroByte : GAS_SCHEDULE.calldataNonZeroByte
  return gas
}

export function words(bytes: number): number {
  return Math.ceil(bytes / 32)
}
