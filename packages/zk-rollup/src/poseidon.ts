/**
 * Poseidon over BN254 exactly as circomlib's Poseidon(n) computes it
 * (poseidon-lite shares circomlib's constants), so leaves, roots and signed
 * messages computed here are the values the circuit recomputes.
 */
import { poseidon2 } from 'poseidon-lite/poseidon2'
import { poseidon4 } from 'poseidon-lite/poseidon4'

export function hash2(a: bigint, b: bigint): bigint {
  return poseidon2([a, b])
}

export function hash4(a: bigint, b: bigint, c: bigint, d: bigint): bigint {
  return poseidon4([a, b, c, d])
}
