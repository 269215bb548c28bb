/**
 * RollupContract: the rollup's L1 half, hosted by the L1 mock.
 *
 * Methods (calldata = a tagged message of `rollupAbi`):
 *  - deposit {pubX, pubY} + value: appends (pubkey, value) to the deposit
 *    queue. The key must be a point of Baby Jubjub's prime-order subgroup
 *    (keys.ts), the value at least `minDeposit`, and the contract's whole
 *    escrow stays below 2^128 (so no account balance can overflow and every
 *    deposit to a known key lands on its account). A key seen for the first
 *    time reserves one leaf; when all 2^depth leaves are reserved a deposit
 *    for a new key is refused up front (TREE_FULL, nothing queued), so every
 *    queued deposit can be placed and the in-order queue never stalls. One
 *    slot per entry: a 20-byte hash of (key, amount) and the time it was
 *    queued (zkSync packs its priority requests the same way); the entry
 *    itself travels again in the batch calldata that consumes it.
 *  - registerPayee {payee}: gives an L1 address a payee id (2^depth − 1 of
 *    them); L2 withdrawals name the id (2 bytes in calldata instead of 20).
 *    The last id, 2^depth − 1, is never registered: a withdrawal to it is
 *    claimed with the account's key (exodus.ts, claimByKey).
 *  - submitBatch {body, proof, publicInputs}: decodes the body strictly,
 *    rejects any public input ≥ the field modulus, recomputes the expected
 *    public input(s) from the stored root, its own chain id and address, the
 *    consumed deposit entries and the body, requires equality, verifies the
 *    Groth16 proof, stores the new root, consumes the deposits, stores one
 *    commitment to the batch's withdrawals, and closes any forced withdrawal
 *    the batch carries. Open to anyone: every node follows whoever posts.
 *  - withdraw {batch, position, count, payee, amount, proof}: pays one
 *    withdrawal of a verified batch, once, against that batch's commitment.
 *  - forced exit (exodus.ts): forceWithdraw, refuteForced, activateExodus,
 *    exit, refundDeposit — a user's L1 escape when the operator stops or
 *    censors.
 *
 * Every revert leaves storage and balances untouched (the host journals them)
 * and carries a stable code in the receipt's revertCode (MALFORMED_CALLDATA,
 * PUBLIC_INPUT_OUT_OF_FIELD, PUBLIC_INPUT_MISMATCH, INVALID_PROOF,
 * DEPOSIT_MISMATCH, BAD_DEPOSIT, DEPOSIT_TOO_SMALL, ESCROW_FULL, TREE_FULL,
 * UNKNOWN_PAYEE, WITHDRAWAL_PROOF_MISMATCH, ALREADY_WITHDRAWN, EXODUS, …).
 * Gas goes through the CallContext with labels: calldata and tx base by the
 * host; sha256 of the commitment preimage, keccak of deposit entries and of
 * the withdrawal tree, storage, the Groth16 verification (181,150 + 6,150 per
 * public input), value transfers and logs; what the EVM has no precompile for
 * (the subgroup check, Poseidon, EdDSA) at the modelled costs of l1-costs.ts.
 */
import { type Address, bytesToBigint, codec } from '@l2bench/core'
import { type AbiCall, type AbiItem, type CallContext, Contract, GAS_SCHEDULE, type ReadContext, groth16VerifyGas, sha256Gas, words } from '@l2bench/l1-mock'
import { ROLLUP_ABI, rollupAbiCall, rollupLog } from './abi.ts'
import {
  type BatchBody,
  type CircuitParams,
  DEPOSIT_ENTRY_BYTES,
  checkParams,
  commitmentPreimage,
  decodeBatchCalldata,
  publicInputCount,
  publicInputs,
} from './calldata.ts'
import { FIELD_MODULUS, MAX_BALANCE, OP_WITHDRAW } from './constants.ts'
import { RollupError } from './errors.ts'
import { type Groth16Verifier, PROOF_BYTES, proofFromBytes } from './groth16.ts'
import { K, type QueueEntry, depositEntryHash, eqBytes, payWithdrawal } from './contract-storage.ts'
import { type ExodusCall, exodusAbi, executeExodus, forcedServed, viewExodus } from './exodus.ts'
import { type PublicKey, isValidPublicKey } from './keys.ts'
import { SUBGROUP_CHECK_GAS, VERIFIER_CALL_STEP_BASE, VERIFIER_CALL_STEP_PER_INPUT, WITHDRAWAL_STEP } from './l1-costs.ts'
import type { VerificationKey } from './pipeline/index.ts'
import { AccountTree } from './tree.ts'
import {
  type Withdrawal,
  keyPayeeId,
  withdrawalCommitment,
  withdrawalLeaf,
  withdrawalRoot,
  withdrawalsOf,
} from './withdrawals.ts'

export const MAX_BODY_BYTES = 1 << 20
export const MAX_PUBLIC_INPUTS = 1 << 12

export const rollupAbi = codec.messages({
  deposit: [1, codec.struct({ pubX: codec.fixedBytes(32), pubY: codec.fixedBytes(32) })],
  registerPayee: [2, codec.struct({ payee: codec.address })],
  submitBatch: [
    3,
    codec.struct({
      body: codec.bytes(MAX_BODY_BYTES),
      proof: codec.fixedBytes(PROOF_BYTES),
      publicInputs: codec.list(codec.fixedBytes(32), MAX_PUBLIC_INPUTS),
    }),
  ],
  withdraw: [
    4,
    codec.struct({
      batch: codec.u64,
      position: codec.u32,
      count: codec.u32,
      payee: codec.address,
      amount: codec.amount,
      proof: codec.list(codec.fixedBytes(32), 32),
    }),
  ],
  ...exodusAbi,
})
export type RollupCall = codec.Infer<typeof rollupAbi>
export { type QueueEntry, depositEntryHash } from './contract-storage.ts'

/** Default smallest deposit: 1 gwei. */
export const DEFAULT_MIN_DEPOSIT = 10n ** 9n
/** Default time the operator has to serve a forced withdrawal or a queued deposit: 7 days. */
export const DEFAULT_FORCED_DELAY_SECONDS = 7 * 24 * 3600

export interface RollupConfig {
  params: CircuitParams
  vkey: VerificationKey
  verifier: Groth16Verifier
  /** Smallest deposit in wei (default 1 gwei): with the leaf bound, what filling the tree costs an attacker. */
  minDeposit?: bigint
  /**
   * Seconds the operator has to include a forced withdrawal, or to consume a
   * queued deposit, before anyone may switch the contract to exodus mode
   * (default 7 days).
   */
  forcedDelaySeconds?: number
}

/** Result of a verified submitBatch (the receipt's `result`). */
export interface BatchResult {
  batch: bigint
  newRoot: bigint
  deposits: number
  ops: number
  withdrawals: Withdrawal[]
}

export class RollupContract extends Contract<RollupCall> {
  readonly name = 'zk-rollup'
  readonly abi = rollupAbi
  /** The Solidity port's ABI (packages/l1-evm/contracts/Rollup.sol); the escape hatch is not ported yet. */
  override readonly solidityAbi: readonly AbiItem[] = ROLLUP_ABI
  readonly params: CircuitParams
  readonly vkey: VerificationKey
  readonly verifier: Groth16Verifier
  /** Root of the empty tree of this depth (the state before the first batch). */
  readonly genesisRoot: bigint
  readonly minDeposit: bigint
  readonly forcedDelaySeconds: number

  constructor(config: RollupConfig) {
    super()
    this.params = checkParams(config.params)
    this.vkey = config.vkey
    this.verifier = config.verifier
    this.minDeposit = config.minDeposit ?? DEFAULT_MIN_DEPOSIT
    if (typeof this.minDeposit !== 'bigint' || this.minDeposit < 1n || this.minDeposit > MAX_BALANCE)
      throw new RollupError('AMOUNT_RANGE', 'minDeposit must be a bigint in [1, 2^128)', { field: 'minDeposit' })
    this.forcedDelaySeconds = config.forcedDelaySeconds ?? DEFAULT_FORCED_DELAY_SECONDS
    if (!Number.isSafeInteger(this.forcedDelaySeconds) || this.forcedDelaySeconds < 1)
      throw new RollupError('INVALID_OP', 'forcedDelaySeconds must be a positive integer', { field: 'forcedDelaySeconds' })
    if (config.vkey.nPublic !== publicInputCount(this.params))
      throw new RollupError('INVALID_OP', `verification key has ${config.vkey.nPublic} public inputs, params need ${publicInputCount(this.params)}`, {
        field: 'vkey',
      })
    this.genesisRoot = new AccountTree(this.params.depth).root
  }

  override toAbiCall(call: RollupCall): AbiCall | undefined {
    return rollupAbiCall(call)
  }

  execute(ctx: CallContext, call: RollupCall): unknown {
    switch (call.type) {
      case 'deposit':
        return this.deposit(ctx, call)
      case 'registerPayee':
        return this.registerPayee(ctx, call.payee)
      case 'submitBatch':
        return this.submitBatch(ctx, call)
      case 'withdraw':
        return this.withdraw(ctx, call)
      default:
        return executeExodus(this, ctx, call as ExodusCall)
    }
  }

  private deposit(ctx: CallContext, call: { pubX: Uint8Array; pubY: Uint8Array }): number {
    if (ctx.sload<boolean>(K.exodus, 'deposit.exodus') === true) ctx.revert('the rollup is in exodus mode', 'type', 'EXODUS')
    const pk: PublicKey = [bytesToBigint(call.pubX), bytesToBigint(call.pubY)]
    ctx.chargeGas('bn254EcMul', 'deposit.subgroupCheck', SUBGROUP_CHECK_GAS)
    if (!isValidPublicKey(pk)) ctx.revert("deposit key is not a point of Baby Jubjub's prime-order subgroup", 'pubX', 'BAD_DEPOSIT')
    if (ctx.value < this.minDeposit) ctx.revert(`deposit value is below the minimum ${this.minDeposit}`, 'value', 'DEPOSIT_TOO_SMALL')
    // The escrow (which already includes this value) bounds every L2 balance: no credit can pass 2^128.
    if (ctx.balanceOf(ctx.self) > MAX_BALANCE) ctx.revert('the escrow would pass 2^128 - 1', 'value', 'ESCROW_FULL')
    if (ctx.sload<boolean>(K.keyLeaf(pk), 'deposit.keyLeaf') !== true) {
      const reserved = ctx.sload<number>(K.leavesReserved, 'deposit.leavesReserved') ?? 0
      if (reserved >= 2 ** this.params.depth)
        ctx.revert(`all 2^${this.params.depth} leaves are reserved: deposits to new keys are closed (known keys still deposit)`, 'pubX', 'TREE_FULL')
      ctx.sstore(K.keyLeaf(pk), true, 'deposit.keyLeaf')
      ctx.sstore(K.leavesReserved, reserved + 1, 'deposit.leavesReserved')
    }
    ctx.chargeGas('keccakBase', 'deposit.entryHash', GAS_SCHEDULE.keccakBase + GAS_SCHEDULE.keccakWord * words(DEPOSIT_ENTRY_BYTES))
    const index = ctx.sload<number>(K.queueLength, 'deposit.queueLength') ?? 0
    const entry: QueueEntry = { hash: depositEntryHash(pk, ctx.value), at: ctx.timestamp }
    ctx.sstore(K.queue(index), entry, 'deposit.queueEntry')
    ctx.sstore(K.queueLength, index + 1, 'deposit.queueLength')
    ctx.emit('Deposit', { index, pubX: pk[0], pubY: pk[1], amount: ctx.value, from: ctx.sender }, rollupLog('Deposit'))
    return index
  }

  private registerPayee(ctx: CallContext, payee: Address): number {
    // Stored as id + 1, as the port does (0 is an empty slot: not registered).
    const existing = ctx.sload<number>(K.payeeId(payee), 'registerPayee.lookup')
    if (existing !== undefined) return existing - 1
    const id = ctx.sload<number>(K.payees, 'registerPayee.count') ?? 0
    // The last id is reserved: a withdrawal to it is claimed with the account's key (claimByKey).
    if (id >= keyPayeeId(this.params.depth))
      ctx.revert(`payee ids exhausted (2^${this.params.depth} − 1); withdraw to id ${keyPayeeId(this.params.depth)} and claim with the key`, 'payee', 'PAYEES_EXHAUSTED')
    ctx.sstore(K.payee(id), payee, 'registerPayee.payee')
    ctx.sstore(K.payeeId(payee), id + 1, 'registerPayee.id')
    ctx.sstore(K.payees, id + 1, 'registerPayee.count')
    ctx.emit('PayeeRegistered', { id, payee }, rollupLog('PayeeRegistered'))
    return id
  }

  private submitBatch(ctx: CallContext, call: { body: Uint8Array; proof: Uint8Array; publicInputs: Uint8Array[] }): BatchResult {
    if (ctx.sload<boolean>(K.exodus, 'submitBatch.exodus') === true) ctx.revert('the rollup is in exodus mode: no more batches', 'type', 'EXODUS')
    let body: BatchBody
    try {
      body = decodeBatchCalldata(this.params, call.body)
    } catch (err) {
      if (err instanceof RollupError) ctx.revert(`malformed batch: ${err.message}`, err.field, 'MALFORMED_CALLDATA')
      throw err
    }
    // Public inputs: exact count, each a canonical field element (x + p would
    // be accepted as x by the pairing check: semaphore #16, snarkjs #480).
    const expectedCount = publicInputCount(this.params)
    if (call.publicInputs.length !== expectedCount)
      ctx.revert(`expected ${expectedCount} public inputs, got ${call.publicInputs.length}`, 'publicInputs', 'PUBLIC_INPUT_COUNT')
    const given = call.publicInputs.map(bytesToBigint)
    given.forEach((v, i) => {
      if (v >= FIELD_MODULUS) ctx.revert('public input is not below the field modulus', `publicInputs[${i}]`, 'PUBLIC_INPUT_OUT_OF_FIELD')
    })

    // Deposits: the body must carry exactly the next queue entries.
    const head = ctx.sload<number>(K.queueHead, 'submitBatch.queueHead') ?? 0
    const length = ctx.sload<number>(K.queueLength, 'submitBatch.queueLength') ?? 0
    if (head + body.deposits.length > length) ctx.revert(`batch consumes ${body.deposits.length} deposits, ${length - head} queued`, 'body.deposits', 'DEPOSIT_MISMATCH')
    body.deposits.forEach((d, i) => {
      ctx.chargeGas('keccakBase', 'submitBatch.depositHash', GAS_SCHEDULE.keccakBase + GAS_SCHEDULE.keccakWord * words(DEPOSIT_ENTRY_BYTES))
      const stored = ctx.sload<QueueEntry>(K.queue(head + i), 'submitBatch.queueEntry')
      if (stored === undefined || !eqBytes(stored.hash, depositEntryHash(d.publicKey, d.amount)))
        ctx.revert(`deposit ${i} is not queue entry ${head + i}`, `body.deposits[${i}]`, 'DEPOSIT_MISMATCH')
    })

    // The expected public inputs, from what this contract holds.
    const oldRoot = ctx.sload<bigint>(K.root, 'submitBatch.root') ?? this.genesisRoot
    const domain = { chainId: ctx.chainId, contract: ctx.self }
    if (this.params.mode === 'sha') {
      const preimage = commitmentPreimage(this.params, domain, oldRoot, body)
      ctx.chargeGas('sha256Base', 'submitBatch.commitment', sha256Gas(preimage.length))
    }
    const expected = publicInputs(this.params, domain, oldRoot, body)
    expected.forEach((v, i) => {
      if (given[i] !== v) ctx.revert('public input does not match the stored root and this calldata', `publicInputs[${i}]`, 'PUBLIC_INPUT_MISMATCH')
    })

    let proof: ReturnType<typeof proofFromBytes>
    try {
      proof = proofFromBytes(call.proof)
    } catch (err) {
      if (err instanceof RollupError) ctx.revert(err.message, 'proof', 'MALFORMED_PROOF')
      throw err
    }
    // The verifier is its own contract: a cold call, and the calldata built for it.
    ctx.charge('accountColdAccess', 'submitBatch.verifierCall')
    ctx.step('submitBatch.verifierCall', VERIFIER_CALL_STEP_BASE + VERIFIER_CALL_STEP_PER_INPUT * expectedCount)
    ctx.chargeGas('bn254PairingBase', 'submitBatch.groth16Verify', groth16VerifyGas(expectedCount))
    if (!this.verifier.verify(this.vkey, expected.map(String), proof)) ctx.revert('invalid proof', 'proof', 'INVALID_PROOF')

    // Effects.
    const batch = BigInt(ctx.sload<number>(K.batches, 'submitBatch.batches') ?? 0)
    const withdrawals = withdrawalsOf(this.params.depth, body.ops, (id, i) => {
      const payee = ctx.sload<Address>(K.payee(id), 'submitBatch.payee')
      if (payee === undefined) ctx.revert(`withdrawal to unregistered payee id ${id}`, `body.ops[${i}].to`, 'UNKNOWN_PAYEE')
      return payee
    })
    for (const op of body.ops) if (op.type === OP_WITHDRAW) forcedServed(ctx, op)
    if (withdrawals.length > 0) {
      ctx.step('submitBatch.withdrawals', WITHDRAWAL_STEP * withdrawals.length)
      const leaves = withdrawals.map((w) => withdrawalLeaf(batch, w))
      ctx.chargeGas('keccakBase', 'submitBatch.withdrawalLeaves', leaves.length * (GAS_SCHEDULE.keccakBase + GAS_SCHEDULE.keccakWord * 3))
      const { root, hashes } = withdrawalRoot(leaves)
      ctx.chargeGas('keccakBase', 'submitBatch.withdrawalTree', (hashes + 1) * (GAS_SCHEDULE.keccakBase + GAS_SCHEDULE.keccakWord * 3))
      ctx.sstore(K.withdrawals(batch), withdrawalCommitment(withdrawals.length, root), 'submitBatch.withdrawals')
    }
    ctx.sstore(K.root, body.newRoot, 'submitBatch.root')
    ctx.sstore(K.batches, Number(batch) + 1, 'submitBatch.batches')
    if (body.deposits.length > 0) ctx.sstore(K.queueHead, head + body.deposits.length, 'submitBatch.queueHead')
    ctx.emit(
      'BatchVerified',
      { batch, oldRoot, newRoot: body.newRoot, deposits: body.deposits.length, ops: body.ops.length, withdrawals: withdrawals.length },
      rollupLog('BatchVerified'),
    )
    return { batch, newRoot: body.newRoot, deposits: body.deposits.length, ops: body.ops.length, withdrawals }
  }

  private withdraw(
    ctx: CallContext,
    call: { batch: bigint; position: number; count: number; payee: Address; amount: bigint; proof: Uint8Array[] },
  ): bigint {
    payWithdrawal(ctx, call, { position: call.position, payee: call.payee, amount: call.amount }, call.payee, 'withdraw')
    return call.amount
  }

  override view(ctx: ReadContext, method: string, args: unknown[]): unknown {
    switch (method) {
      case 'root':
        return ctx.sload<bigint>(K.root) ?? this.genesisRoot
      case 'batches':
        return ctx.sload<number>(K.batches) ?? 0
      case 'queueLength':
        return ctx.sload<number>(K.queueLength) ?? 0
      case 'queueHead':
        return ctx.sload<number>(K.queueHead) ?? 0
      case 'payee':
        return ctx.sload<Address>(K.payee(Number(args[0])))
      case 'payeeId': {
        const v = ctx.sload<number>(K.payeeId(args[0] as Address))
        return v === undefined ? undefined : v - 1
      }
      case 'withdrawalCommitment':
        return ctx.sload<Uint8Array>(K.withdrawals(BigInt(args[0] as bigint)))
      case 'claimed':
        return ctx.sload<boolean>(K.claimed(BigInt(args[0] as bigint), Number(args[1]))) === true
      case 'queueEntry':
        return ctx.sload<QueueEntry>(K.queue(Number(args[0])))
      case 'leavesReserved':
        return ctx.sload<number>(K.leavesReserved) ?? 0
      case 'payees':
        return ctx.sload<number>(K.payees) ?? 0
      case 'minDeposit':
        return this.minDeposit
      default: {
        const exodus = viewExodus(this, ctx, method, args)
        return exodus !== undefined ? exodus.value : super.view(ctx, method, args)
      }
    }
  }
}
