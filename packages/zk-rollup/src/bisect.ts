/**
 * A batch the circuit refuses although the JS checks admitted it (ATTACKS
 * 41): find the op it refuses and drop it, so one bad op cannot hold back the
 * ops behind it. The batch's ops are bisected by prefix with witness-only runs
 * (⌈log2 N⌉ + 1 of them) on the sequencer's tree as it was before the batch;
 * the first op whose prefix fails is dropped (CIRCUIT_REJECTED, kept in
 * `sequencer.dropped` with the reason).
 */
import { type BuiltBatch, buildBatch } from './batch.ts'
import type { CircuitParams } from './calldata.ts'
import { RollupError } from './errors.ts'
import type { SignedOp } from './ops.ts'
import { type Prover, isCircuitRejection } from './prover.ts'
import type { ClosedBatch, Sequencer } from './sequencer.ts'

/** False when the deposits alone fail (nothing to drop: they must be consumed in order). */
export async function dropRejectedOp(sequencer: Sequencer, prover: Prover, params: CircuitParams, closed: ClosedBatch, cause: RollupError): Promise<boolean> {
  const { ops } = closed
  if (ops.length === 0) return false
  const deposits = closed.deposits.map((d) => d.entry)
  const fails = async (k: number): Promise<boolean> => {
    const tree = sequencer.tree
    tree.begin()
    let input: BuiltBatch['input']
    try {
      input = buildBatch(tree, params, sequencer.domain, deposits, ops.slice(0, k), { verifySignatures: false }).input
    } finally {
      tree.rollback()
    }
    try {
      await (prover.witness !== undefined ? prover.witness(input) : prover.prove(input))
      return false
    } catch (err) {
      if (isCircuitRejection(err)) return true
      throw err
    }
  }
  // Invariant: the prefix of length hi fails (the whole batch did); lo passes (checked for 0 at the end).
  let lo = 0
  let hi = ops.length
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1
    if (await fails(mid)) hi = mid
    else lo = mid
  }
  if (lo === 0 && (await fails(0))) return false
  const culprit = ops[hi - 1] as SignedOp
  return sequencer.drop(
    culprit,
    new RollupError('CIRCUIT_REJECTED', `the circuit refuses op ${culprit.kind} from ${culprit.from} nonce ${culprit.nonce}: ${cause.message}`, {
      field: 'op',
      details: { from: culprit.from, nonce: culprit.nonce },
    }),
  )
}
