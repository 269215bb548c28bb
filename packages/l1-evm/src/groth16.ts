/**
 * The rollup's Groth16 verifier on the EVM: the Solidity contract snarkjs
 * exports for a circuit's verification key (`snarkjs zkey export
 * solidityverifier`), compiled and deployed like the other ports.
 *
 * snarkjs's export reads the verification key out of the zkey and renders its
 * template (templates/verifier_groth16.sol.ejs) with it. The rollup contract
 * class holds the key, not the zkey, so `groth16VerifierSource(vkey)` renders
 * the same template with the same engine (ejs) from the key; a test checks
 * that the text equals snarkjs's own export from the zkey. The compile cache
 * is keyed by the source text, so a rebuilt circuit (a new key) recompiles and
 * an unchanged one never does.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { VerificationKey } from '@l2bench/zk-rollup'

const require = createRequire(import.meta.url)

/** snarkjs's Groth16 Solidity template, from the installed package. */
export function groth16Template(): string {
  // snarkjs's exports map hides package.json; its main entry sits in build/.
  const main = require.resolve('snarkjs')
  return readFileSync(join(dirname(main), '..', 'templates', 'verifier_groth16.sol.ejs'), 'utf8')
}

/** The verifier snarkjs exports for `vkey` (contract `Groth16Verifier`). */
export function groth16VerifierSource(vkey: VerificationKey): string {
  if (vkey.protocol !== 'groth16') throw new TypeError(`expected a groth16 verification key, got ${String(vkey.protocol)}`)
  const ejs = require('ejs') as { render(template: string, data: object): string }
  return ejs.render(groth16Template(), vkey)
}

/** Calldata of verifyProof(pA, pB, pC, pubSignals) from snarkjs's proof object (B's coordinates swapped, as snarkjs's exportSolidityCallData does). */
export function verifyProofArgs(
  proof: { pi_a: readonly string[]; pi_b: readonly (readonly string[])[]; pi_c: readonly string[] },
  publicSignals: readonly (string | bigint)[],
): readonly unknown[] {
  const b = (i: number, j: number) => BigInt(proof.pi_b[i]?.[j] as string)
  return [
    [BigInt(proof.pi_a[0] as string), BigInt(proof.pi_a[1] as string)],
    [
      [b(0, 1), b(0, 0)],
      [b(1, 1), b(1, 0)],
    ],
    [BigInt(proof.pi_c[0] as string), BigInt(proof.pi_c[1] as string)],
    publicSignals.map((s) => BigInt(s)),
  ]
}
