/**
 * L1 gas of the deposit path and the escape hatch (not a test), at depth 16 on
 * the L1 mock: deposit to a new and to a known key, forceWithdraw,
 * refuteForced, activateExodus, exit, refundDeposit, claimByKey, and an
 * ordinary withdraw for comparison. Gas on the mock is deterministic: the gas
 * schedule plus the modelled costs of src/l1-costs.ts (Poseidon, Baby Jubjub),
 * so one run is the figure. Batches are submitted with an accept-all verifier
 * (their Groth16 check is charged all the same); no proving is involved.
 *
 *   node --conditions=@l2bench/source --import tsx bench/escape-gas.ts
 */
import { NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import { MockL1, Wallet } from '@l2bench/l1-mock'
import {
  type CircuitParams,
  type Groth16Verifier,
  L2Key,
  type Prover,
  RollupContract,
  type RollupCall,
  RollupNode,
  TxArchive,
  type VerificationKey,
  claimByKeyCall,
  depositCall,
  exitCall,
  forceWithdrawCall,
  keyPayeeId,
  publicInputCount,
  rebuildFromL1,
  refundDepositCall,
  refuteForcedCall,
  registerPayee,
  signOp,
} from '../src/index.ts'

const GWEI = 10n ** 9n
const params: CircuitParams = { n: 2, d: 1, depth: 16, mode: 'sha' }
const mock = new MockL1()
const archive = new TxArchive(mock)
const acceptAll: Groth16Verifier = { verify: () => true }
const vkey = { nPublic: publicInputCount(params), protocol: 'groth16', curve: 'bn128' } as unknown as VerificationKey
const contract = mock.deploy(new RollupContract({ params, vkey, verifier: acceptAll, forcedDelaySeconds: 3600 }))
const address = (seed: string) => new NodeSigner(secretKeyFromSeed(seed)).address
const user = new Wallet(new NodeSigner(secretKeyFromSeed('escape-gas-user')), archive.l1)
const operator = new Wallet(new NodeSigner(secretKeyFromSeed('escape-gas-operator')), archive.l1)
for (const w of [user, operator]) mock.mint(w.address, 10n ** 24n)
const prover: Prover = {
  async prove(input) {
    return { proof: { pi_a: ['1', '2', '1'], pi_b: [['1', '2'], ['3', '4'], ['1', '0']], pi_c: ['1', '2', '1'], protocol: 'groth16', curve: 'bn128' }, publicSignals: (input.pub as bigint[]).map(String), witnessMs: 0, proveMs: 0 }
  },
  async close() {},
}
const [A, B, M] = ['a', 'b', 'm'].map((s) => L2Key.fromSeed(`escape-gas-${s}`)) as [L2Key, L2Key, L2Key]
const rows: [string, number, string][] = []
const gas = async (what: string, note: string, call: RollupCall, value?: bigint) => {
  const r = await user.callOk(contract, call, value === undefined ? {} : { value })
  rows.push([what, r.gasUsed, note])
  return r
}

await gas('deposit (new key)', 'subgroup check + leaf reservation', depositCall(A.publicKey), 10n * GWEI)
await gas('deposit (known key)', '', depositCall(A.publicKey), 10n * GWEI)
await user.callOk(contract, depositCall(B.publicKey), { value: 10n * GWEI })
const payee = await registerPayee(user, contract, address('escape-gas-payee'))
const node = new RollupNode({ l1: archive.l1, contract, wallet: operator, prover, data: archive })
await node.flush()
node.submit(signOp(A, node.domain, params.depth, { kind: 'withdraw', from: 0, to: keyPayeeId(params.depth), amount: GWEI, nonce: 0n }))
node.submit(signOp(A, node.domain, params.depth, { kind: 'withdraw', from: 0, to: payee, amount: GWEI, nonce: 1n }))
const [withdrawals] = await node.flush()
if (withdrawals === undefined) throw new Error('no withdrawal batch')
await gas('withdraw (registered payee)', '', node.withdrawalClaim(withdrawals, 1))
await gas('claimByKey', 'leaf proof + EdDSA', claimByKeyCall(A, node.domain, node.sequencer.tree, withdrawals, 0, address('escape-gas-out')))
await gas('forceWithdraw', 'EdDSA + subgroup check', forceWithdrawCall(M, node.domain, params.depth, { from: 0, to: payee, amount: GWEI, nonce: 2n }))
await gas('refuteForced', 'leaf proof', refuteForcedCall(node.sequencer.tree, 0))
await user.callOk(contract, depositCall(M.publicKey), { value: GWEI })
mock.advance(3600)
const queued = mock.readSync<number>(contract.address, 'queueHead', [])
await gas('activateExodus', 'overdue deposit', { type: 'activateExodus', reason: 'deposit', index: queued })
const { tree } = await rebuildFromL1({ l1: mock, contract: contract.address, params, data: archive })
await gas('exit', 'leaf proof + EdDSA', exitCall(A, node.domain, tree, 0, address('escape-gas-exit')))
await gas('refundDeposit', 'EdDSA', refundDepositCall(M, node.domain, queued, GWEI, address('escape-gas-refund')))

console.log(`L1 gas at depth ${params.depth} (deterministic on the mock: schedule + src/l1-costs.ts)\n`)
console.log('| call | gas | of which |\n|---|---|---|')
for (const [what, g, note] of rows) console.log(`| ${what} | ${g.toLocaleString('en-US')} | ${note} |`)
