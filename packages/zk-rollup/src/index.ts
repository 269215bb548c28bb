/**
 * @l2bench/zk-rollup — a batching ZK rollup for payments: a Poseidon account
 * tree, EdDSA-Poseidon signed transfers and withdrawals, L1 deposits through a
 * queue, a circom batch circuit proven with Groth16 (snarkjs), the rollup
 * contract on the L1 mock, a sequencer, and a rebuild of the state from L1
 * calldata alone. The circuit build pipeline (compile → ptau → setup, cached)
 * is re-exported from ./pipeline.
 */
export * from './abi.ts'
export * from './archive.ts'
export * from './batch.ts'
export * from './calldata.ts'
export * from './constants.ts'
export * from './contract.ts'
export * from './eddsa.ts'
export * from './errors.ts'
export * from './escape.ts'
export * from './exodus.ts'
export * from './float40.ts'
export * from './groth16.ts'
export * from './keys.ts'
export * from './l1-costs.ts'
export * from './node.ts'
export * from './ops.ts'
export * from './poseidon.ts'
export * from './prover.ts'
export * from './r1cs.ts'
export * from './rebuild.ts'
export * from './rollup-circuit.ts'
export * from './sequencer.ts'
export * from './tree.ts'
export * from './witness.ts'
export * from './withdrawals.ts'
export * from './pipeline/index.ts'
