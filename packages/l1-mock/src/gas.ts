/**
 * THE gas schedule. Every charge any contract makes goes through one of these
 * entries, so a report can print the table it was computed with and break a
 * design's cost down by operation. Values follow Ethereum (Osaka): EIP-2028
 * (calldata), EIP-2929 (cold/warm access), EIP-2200 + EIP-3529 (SSTORE and its
 * refunds), EIP-7623 (calldata floor), EIP-1108 (BN254 precompiles).
 *
 * How the host applies them (mock.ts, Frame):
 *  - Storage is priced per 32-byte slot, as the Solidity ports lay their
 *    structs out (a contract passes a SlotLayout). A slot's first access in a
 *    transaction is cold (+2,100, read or write); later ones are warm (100).
 *    A write that changes a slot still holding its value from the start of the
 *    transaction costs 20,000 when that value was zero, 2,900 otherwise; a
 *    write to a slot already changed in the transaction, or of the value it
 *    holds, costs 100. Clearing a slot refunds 4,800 (and restoring a slot's
 *    original value refunds the difference, EIP-3529); refunds are capped at
 *    a fifth of the gas used.
 *  - A value transfer from a contract is a CALL: 100 to a warm account (the
 *    sender, the contract itself, one already touched), 2,600 to a cold one,
 *    plus 9,000 for the value less the 2,300 stipend an account without code
 *    hands back, plus 25,000 when the recipient did not exist (no balance,
 *    nonce or code): 6,800 / 9,300 / 34,300.
 *  - A precompile (ecrecover, sha256, BN254) is a STATICCALL: 100 plus its price.
 *  - Calldata: 16 per non-zero and 4 per zero byte of the ABI encoding; a
 *    transaction pays at least 21,000 + 10 per token (zero byte 1 token,
 *    non-zero byte 4: EIP-7623), which binds when execution is small beside
 *    large calldata.
 *  - Interpretation (dispatch, ABI decoding, memory, the digest encoders'
 *    loops): `evmStep*` entries, per unit of work, measured on the Solidity
 *    ports (see docs/parity.md and packages/l1-evm/README.md).
 */

export const GAS_SCHEDULE = {
  /** Intrinsic cost of every transaction. */
  txBase: 21_000,
  /** Calldata, per non-zero / zero byte (EIP-2028). */
  calldataNonZeroByte: 16,
  calldataZeroByte: 4,
  /** EIP-7623: gas per calldata token of the floor (a zero byte is 1 token, a non-zero byte 4). */
  calldataFloorPerToken: 10,
  /** SSTORE that sets a clean zero slot (zero → non-zero). */
  storageNew: 20_000,
  /** SSTORE that changes a clean non-zero slot (5,000 less the cold part). */
  storageUpdate: 2_900,
  /** SSTORE to a slot already changed in this transaction, or of the value it holds. */
  storageDirty: 100,
  /** First access (read or write) of a slot in a transaction (EIP-2929). */
  storageColdRead: 2_100,
  /** SLOAD of a slot already accessed in this transaction. */
  storageWarmRead: 100,
  /** Refund for clearing a slot that held a value at the start of the transaction (EIP-3529). */
  storageClearRefund: 4_800,
  /** Refunds are capped at gasUsed / this (EIP-3529). */
  refundQuotient: 5,
  /** CALL to an account not yet accessed in this transaction (EIP-2929). */
  accountColdAccess: 2_600,
  /** CALL to an account already accessed (the sender and the contract are warm from the start). */
  accountWarmAccess: 100,
  /** CALL that moves value (the callee gets a 2,300 stipend; an account without code hands it all back). */
  valueTransfer: 9_000,
  callStipend: 2_300,
  /** CALL with value to an account that does not exist yet (EIP-161 empty). */
  newAccount: 25_000,
  /** STATICCALL to a precompile (always warm). */
  precompileCall: 100,
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
} as const

/**
 * The EVM's interpretation work: everything but the priced operations above
 * (dispatch, ABI decoding and range checks, packing fields into slots, the
 * memory around hashes, logs and calls), charged per unit of work a contract
 * does. The host charges them as it runs (a call, each ABI word the port
 * decodes, a slot access, a signature check, a value transfer); a contract
 * charges `codecAmount` for each amount it re-encodes into a signed digest.
 *
 * Measured on the Solidity ports (solc 0.8.30, via-IR, optimizer 200 runs)
 * from anvil's opcode traces: `signature`, `transfer` and `codecAmount` are the
 * self gas of Sig.verify, of the pay() helper and of Codec.putAmount (source
 * maps attribute each step to its function); `dispatch` the selector and
 * value checks of the simplest methods; `abiWord` and `slot` are fitted by
 * least squares to the interpretation gas (execution less the priced
 * operations) of every parity operation. `npm run parity -w @l2bench/l1-evm
 * -- --profile` prints those measurements.
 */
export const EVM_STEP = {
  /** Per call: selector dispatch, value check, return. */
  dispatch: 250,
  /** Per 32-byte ABI word the port decodes (not the contents of a `bytes` argument): offsets, range checks, copies. */
  abiWord: 390,
  /** Per storage slot read or written: slot address (the mapping's keccak), masking and packing. */
  slot: 80,
  /** Per signature check: the s/r bounds and the memory of the two precompile calls. */
  signature: 345,
  /** Per value transfer: the CALL's setup and result check. */
  transfer: 50,
  /** Per `amount` written into a signed digest (its minimal-length encoding). */
  codecAmount: 425,
} as const

export type ScheduleEntry = keyof typeof GAS_SCHEDULE
/** A charge's kind: a schedule entry, the refund and floor adjustments, or interpretation work. */
export type GasOp = ScheduleEntry | 'storageRefund' | 'calldataFloor' | 'evmStep'

/**
 * Groth16 verification of snarkjs's exported Solidity verifier (4 pairings,
 * one ecMul + ecAdd per public input) with `publicInputs` inputs:
 *   pairing 45,000 + 4 × 34,000 and its STATICCALL (100),
 *   per input: ecMul 6,000 + ecAdd 150, their two STATICCALLs (200) and the
 *     verifier's own work per input (its field check and the calldata/memory
 *     moves around the two calls): GROTH16_STEP_PER_INPUT,
 *   and the verifier's fixed work (dispatch, the proof's field checks, the
 *     pairing input layout): GROTH16_STEP_BASE.
 * The two step figures are measured on the exported verifier (docs/parity.md
 * rows "Groth16 verify").
 */
export const GROTH16_STEP_BASE = 690
export const GROTH16_STEP_PER_INPUT = 250

export function groth16VerifyGas(publicInputs: number): number {
  const s = GAS_SCHEDULE
  const pairing = s.bn254PairingBase + 4 * s.bn254PairingPerPair + s.precompileCall
  const perInput = s.bn254EcMul + s.bn254EcAdd + 2 * s.precompileCall + GROTH16_STEP_PER_INPUT
  return pairing + GROTH16_STEP_BASE + perInput * publicInputs
}

export function calldataGas(data: Uint8Array): number {
  let gas = 0
  for (let i = 0; i < data.length; i++) gas += data[i] === 0 ? GAS_SCHEDULE.calldataZeroByte : GAS_SCHEDULE.calldataNonZeroByte
  return gas
}

/** EIP-7623 tokens of calldata: 1 per zero byte, 4 per non-zero byte. */
export function calldataTokens(data: Uint8Array): number {
  let tokens = 0
  for (let i = 0; i < data.length; i++) tokens += data[i] === 0 ? 1 : 4
  return tokens
}

/** The least gas a transaction with this calldata pays (EIP-7623). */
export function calldataFloorGas(data: Uint8Array): number {
  return GAS_SCHEDULE.txBase + GAS_SCHEDULE.calldataFloorPerToken * calldataTokens(data)
}

export function words(bytes: number): number {
  return Math.ceil(bytes / 32)
}

/** keccak256 over `bytes` bytes. */
export function keccakGas(bytes: number): number {
  return GAS_SCHEDULE.keccakBase + GAS_SCHEDULE.keccakWord * words(bytes)
}

/** The sha256 precompile over `bytes` bytes, with its STATICCALL. */
export function sha256Gas(bytes: number): number {
  return GAS_SCHEDULE.precompileCall + GAS_SCHEDULE.sha256Base + GAS_SCHEDULE.sha256Word * words(bytes)
}

/** Interpretation gas of rebuilding a digest preimage holding `amounts` amount fields in the project's codec. */
export function codecStepGas(amounts: number): number {
  return EVM_STEP.codecAmount * amounts
}
