/**
 * ZK rollup adapter (@l2bench/zk-rollup): every user deposits on L1 into the
 * rollup contract, pays with EdDSA-Poseidon signed transfers admitted by the
 * operator's RollupNode, and the node batches them — a batch closes when its
 * N op slots are full or its oldest op or deposit has waited
 * `batchTimeoutMs` on the simulated clock; the deposits ride along, D per
 * batch, and a partly filled batch is padded with no-ops — proves each batch
 * with Groth16 (snarkjs) on a pool of one single-threaded worker per core (or
 * a BullMQ prover farm, `prover`) and submits it to the contract, which verifies the proof on L1.
 *
 * Every payment of the workload goes through the rollup. The first
 * `provedBatches` batches of the run are proven and verified on L1 for real,
 * side by side on the pool (a batch's witness needs only the roots the
 * sequencer computed, not the previous proof). Every later batch is built for
 * real by the sequencer — tree updates, Merkle paths, its exact calldata —
 * but not proven: its L1 gas is, on the mock, the measured fixed gas of the
 * proven batches (gas − calldata gas, split by deposits: rollup-gas.ts) +
 * the calldata gas of its own submitBatch call; on the EVM backend, its
 * submitBatch executed on anvil after the proven ones with the verifier
 * stubbed and the real verifier's gas put back (rollup-gas.ts, in
 * `afterPayments`, untimed; the chain is reverted after); its proving time
 * is the mean proving time measured on the proven batches of the same
 * circuit in this run (every batch proves the same circuit). These
 * figures are marked †. `proveAll` (`l2bench run --prove-all`) proves every
 * batch and then runs the withdrawals on L1 for real; otherwise the users'
 * L2 balances stay held in the rollup and the report says so.
 *
 * Latency: soft = signing + admission by the operator (wall clock). Final =
 * soft + four parts, reported separately: waiting for the batch to close
 * (simulated), waiting for a free proving worker and proving (a schedule of
 * the pool's workers — times `model.provers` machines like this one — over
 * the batches in order, each batch taking its measured — or, †, the mean
 * measured — proving time), and L1 inclusion (its submitBatch lands in the
 * next block after the proof and the batch before it).
 *
 * Amounts: transfers carry float40 amounts (Hermez's encoding); a payment is
 * rounded down to the nearest representable amount and the difference is
 * accounted for in the conservation check.
 */
import { availableParallelism } from 'node:os'
import { type Address, bigintToBytes, monotonicMs } from '@l2bench/core'
import { calldataGas, encodeAbiCall } from '@l2bench/l1-mock'
import { type CostFacts, capacityInputsOf, proverCostOf } from './rollup-cost.ts'
import { type FixedGas, executedBatchGas, fixedGasOf, mean, provenVerifierGas, steadyFixedGas } from './rollup-gas.ts'
import {
  type BatchReport,
  type ClosedBatch,
  type DispatchedBatch,
  L2Key,
  type Prover,
  ProverPool,
  RollupContract,
  RollupNode,
  SyncGroth16Verifier,
  buildRollupCircuit,
  depositCall,
  floorFloat40,
  opMessage,
  registerPayee,
  signOp,
  verifyOpSignature,
} from '@l2bench/zk-rollup'
import type { CapacityInputs, Design, ExtraCost, PaymentBound, PaymentResult, World } from '../design.ts'
import type { RollupProverFactory } from '../farm.ts'
import { type ProgressTask, stageEvents } from '../progress.ts'
import type { ProverCostJson, StoreJson } from '../results.ts'
import type { Payment } from '../workload.ts'
import { type RollupOptions, designOptions } from './options.ts'

/**
 * Proofs and fixed gas measured per scenario and circuit in this process: the
 * scenario's probe and sweeps reuse its main run's instead of proving again.
 */
const MEASURED = new Map<string, Measured>()

interface Measured {
  proofMs: number[]
  cpuMs: number[]
  /** Per proven batch, in order: its gas beyond calldata, split by what it depends on. */
  fixedGas: FixedGas[]
  /** On the EVM backend: per proven batch, the gas of its Groth16 verifier call (from its trace). */
  verifierGas: number[]
}

/** Deepest tree built per circuit shape (n:d:mode) in this process. */
const DEPTH_BUILT = new Map<string, number>()

interface PendingOp {
  id: number
  arrivalMs: number
  softMs: number
}

interface BatchRecord {
  closeMs: number
  closed: ClosedBatch
  ops: PendingOp[]
  /** Proven and submitted for real: its report once on L1. */
  dispatched?: DispatchedBatch
  report?: BatchReport
  /** Built only: the calldata gas and bytes of the submitBatch it would send, and that call (ABI-encoded). */
  callGas: number
  callBytes: number
  call?: Uint8Array
  /** On the EVM backend: the gas its submitBatch paid when executed (afterPayments), intrinsic calldata included. */
  executedGas?: number
}

export class RollupDesign implements Design {
  readonly name = 'rollup' as const
  /** `prover`: where proofs are made (default: a ProverPool in this process; the CLI's --prover-redis gives a BullMQ farm). */
  constructor(private readonly options: { prover?: RollupProverFactory } = {}) {}
  private world!: World
  private o!: RollupOptions
  private node!: RollupNode
  private contract!: RollupContract
  private prover!: Prover
  private verifier!: SyncGroth16Verifier
  private depth = 0
  private keys = new Map<number, L2Key>()
  private leaf = new Map<number, number>()
  private nonce = new Map<number, bigint>()
  private rounding = new Map<number, bigint>()
  private extra: ExtraCost[] = []
  private locked = 0n
  private circuitKey = ''
  private circuitName = ''
  private constraints = 0
  private workers = 1
  /** The proofs came from a prover farm (worker processes, each prover using its machine's cores), not this process's pool. */
  private farm = false
  /** Ops admitted and not yet in a batch, by sender index and nonce. */
  private waiting = new Map<string, PendingOp>()
  private batches: BatchRecord[] = []
  /** A batch was built without being proven: no later batch can go to L1. */
  private local = false
  /** Measurements of this circuit taken earlier in this process: nothing is proven again. */
  private reused: Measured | undefined
  private measured: Measured = { proofMs: [], cpuMs: [], fixedGas: [], verifierGas: [] }
  private operator!: Address
  /** What the † batches' extrapolation rests on (set by flush). */
  private dagger = { proofMs: 0, where: '' }
  private proving: ProgressTask | undefined
  private started = false
  private extraProveMs = 0
  private succeeded = 0

  async setup(world: World): Promise<void> {
    this.world = world
    this.o = designOptions(world.scenario, 'rollup')
    // The tree holds every user of the scenario (+1: the top index is the reserved payee id), in whole
    // levels of four children (an odd depth costs the circuit as much as the next even one); a deeper
    // circuit already built in this process is reused (the probe's two users then need no new build).
    const needed = 2 * Math.max(1, Math.ceil(Math.ceil(Math.log2(world.users.length + 1)) / 2))
    this.depth = this.o.depth > 0 ? this.o.depth : Math.max(needed, DEPTH_BUILT.get(`${this.o.n}:${this.o.d}:${this.o.mode}`) ?? 0)
    const params = { n: this.o.n, d: this.o.d, depth: this.depth, mode: this.o.mode }
    this.circuitName = `Batch(n = ${params.n}, d = ${params.d}, depth ${params.depth}, ${params.mode})`
    world.progress(`building the batch circuit n=${params.n} d=${params.d} depth=${params.depth} ${params.mode} (cached after the first run)`)
    const events = stageEvents({ line: (t) => world.progress(t), task: (l, n) => world.task(l, n) }, 'circuit ')
    const built = await buildRollupCircuit(params, { onProgress: events }).finally(() => events.close())
    // The probe runs a copy of the scenario named `<name>/probe`: it reuses the main run's measurements.
    // The gas basis differs by backend (the EVM's needs the verifier's traced gas): measurements are per backend.
    this.circuitKey = `${world.scenario.name.replace(/\/probe$/, '')}|${built.compiled.hash}:${built.setup.hash}|${world.l1.evm === undefined ? 'mock' : 'evm'}`
    const shape = `${params.n}:${params.d}:${params.mode}`
    DEPTH_BUILT.set(shape, Math.max(DEPTH_BUILT.get(shape) ?? 0, params.depth))
    this.constraints = built.compiled.constraints
    this.reused = this.o.proveAll ? undefined : MEASURED.get(this.circuitKey)
    if (this.options.prover !== undefined) {
      this.prover = await this.options.prover(built, params, world)
      this.workers = this.o.proverWorkers > 0 ? this.o.proverWorkers : ((this.prover as { size?: number }).size ?? 1)
    } else {
      this.workers = this.o.proverWorkers > 0 ? this.o.proverWorkers : availableParallelism()
      this.prover = new ProverPool({ wasm: built.compiled.wasm, zkey: built.setup.zkey }, { size: this.workers })
    }
    world.note(
      `Circuit ${this.circuitName}: ${this.constraints.toLocaleString('en-US')} constraints` +
        `${built.developmentOnly ? ' (development ptau: not a ceremony)' : ''}; setup ${built.cached ? 'from cache' : 'built in this run'}; ` +
        (this.options.prover !== undefined
          ? `proving through the given prover (${this.workers} batches at once).`
          : `proving on ${this.workers} single-threaded worker${this.workers === 1 ? '' : 's'} (one per core).`),
    )
    this.verifier = new SyncGroth16Verifier()
    await this.verifier.ready()
    this.contract = await world.l1.deploy(new RollupContract({ params, vkey: built.setup.vkey, verifier: this.verifier }))
    const operator = await world.operator('rollup-sequencer')
    this.operator = operator.address as Address
    this.node = new RollupNode({
      l1: world.l1,
      contract: this.contract,
      wallet: operator.wallet,
      prover: this.prover,
      batchTimeoutMs: this.o.batchTimeoutMs,
      clock: { now: () => world.nowMs() },
    })
    const planned = this.o.proveAll || this.reused !== undefined ? 0 : this.o.provedBatches
    if (planned > 0) this.proving = world.task('proving batches (Groth16, then verified on L1)', planned)

    // Deposits on L1 (perfect foresight: peak net outflow × headroom, at least 1 gwei so every user gets a
    // leaf), in the order users first appear in the workload: the deposits ride along with the first
    // batches of the payment phase, D per batch, and the first payments need the first depositors.
    const order: number[] = []
    const seen = new Set<number>()
    for (const p of world.workload.payments)
      for (const u of [p.from, p.to])
        if (!seen.has(u)) {
          seen.add(u)
          order.push(u)
        }
    const h = BigInt(Math.round(world.scenario.capital.headroom * 1000))
    for (const [i, u] of order.entries()) {
      const key = L2Key.fromSeed(`l2bench/rollup/${world.scenario.seed}/${u}`)
      this.keys.set(u, key)
      const need = world.workload.userNeeds[u]!.a
      const fixed = world.scenario.capital.channelDeposit
      const amount = fixed === 'auto' ? (need * h + 999n) / 1000n + 10n ** 9n : fixed
      await world.users[u]!.wallet.callOk(this.contract, depositCall(key.publicKey), { value: amount })
      this.locked += amount
      // Deposits to fresh keys take the next leaves in queue order.
      this.leaf.set(u, i)
      this.nonce.set(u, 0n)
    }
  }

  async pay(p: Payment): Promise<PaymentResult> {
    const seq = this.node.sequencer
    const now = this.world.nowMs()
    if (!this.started) {
      // The operator learns of the deposits as the payment phase starts: they wait from now on.
      this.node.syncL1()
      this.started = true
    }
    await this.closeDue(now)
    const amount = floorFloat40(p.amount)
    const t0 = monotonicMs()
    const from = this.leaf.get(p.from)!
    const nonce = this.nonce.get(p.from)!
    try {
      if (amount <= 0n) return { ok: false, reason: 'AMOUNT_NOT_REPRESENTABLE', softLatencyMs: 0 }
      const op = signOp(this.keys.get(p.from)!, this.node.domain, this.depth, { kind: 'transfer', from, to: this.leaf.get(p.to)!, amount, nonce })
      this.node.submit(op)
    } catch (err) {
      return { ok: false, reason: (err as { code?: string }).code ?? 'ERROR', softLatencyMs: monotonicMs() - t0 }
    }
    const soft = monotonicMs() - t0
    this.nonce.set(p.from, nonce + 1n)
    if (amount !== p.amount) {
      const d = p.amount - amount
      this.rounding.set(p.from, (this.rounding.get(p.from) ?? 0n) + d)
      this.rounding.set(p.to, (this.rounding.get(p.to) ?? 0n) - d)
    }
    this.waiting.set(`${from}:${nonce}`, { id: p.id, arrivalMs: now, softMs: soft })
    this.succeeded++
    while (seq.isFull()) if (!(await this.closeBatch(now))) break
    return { ok: true, softLatencyMs: soft }
  }

  /** Closes every batch that came due by `now`, each at the time it came due. */
  private async closeDue(now: number): Promise<void> {
    const seq = this.node.sequencer
    for (let due = seq.dueAt(); due !== undefined && due <= now; due = seq.dueAt()) if (!(await this.closeBatch(due))) break
  }

  /** Closes one batch at simulated time `closeMs`: dispatched to the prover while within the proven budget, else built only. */
  private async closeBatch(closeMs: number): Promise<boolean> {
    const real = !this.local && (this.o.proveAll || (this.reused === undefined && this.batches.length < this.o.provedBatches))
    let rec: BatchRecord
    if (real) {
      // The pool proves `maxInFlight` batches at once; with proveAll a full pipeline waits for its oldest.
      while (this.node.inFlight >= this.node.maxInFlight) {
        const oldest = this.batches.find((b) => b.dispatched !== undefined && b.report === undefined)
        if (oldest === undefined) break
        await oldest.dispatched?.report.catch(() => undefined)
      }
      const d = this.node.dispatch()
      if (d === undefined) return false
      rec = { closeMs, closed: d.closed, ops: [], dispatched: d, callGas: 0, callBytes: 0 }
      const n = this.batches.length + 1
      d.report.then(
        (r) => {
          rec.report = r
          if (this.proving !== undefined) {
            this.proving.update(this.batches.filter((b) => b.report !== undefined).length)
            if (this.batches.filter((b) => b.report !== undefined).length >= this.o.provedBatches) this.endProving()
          } else this.world.progress(`proved batch ${n} in ${((r.witnessMs + r.proveMs) / 1000).toFixed(1)} s and verified it on L1`)
        },
        () => undefined, // reported by flush
      )
    } else {
      this.local = true
      const seq = this.node.sequencer
      const closed = seq.closeBatch()
      if (closed === undefined) return false
      seq.keepLocal(closed)
      const message = {
        type: 'submitBatch' as const,
        body: closed.batch.calldata,
        // A real proof is 256 bytes, almost all non-zero; each word of this one is below the base field (the port checks).
        proof: new Uint8Array(256).fill(0x1a),
        publicInputs: closed.batch.publicInputs.map((v) => bigintToBytes('publicInput', v, 32)),
      }
      // The bytes the L1 charges for this call: the Solidity port's ABI encoding, as for a proven batch.
      const abiCall = this.contract.solidityAbi === undefined ? undefined : this.contract.toAbiCall(message)
      const call = abiCall === undefined || this.contract.solidityAbi === undefined ? this.contract.encodeCall(message) : encodeAbiCall(this.contract.solidityAbi, abiCall)
      rec = { closeMs, closed, ops: [], callGas: calldataGas(call), callBytes: call.length, call }
    }
    for (const op of rec.closed.ops) {
      const key = `${op.from}:${op.nonce}`
      const pending = this.waiting.get(key)
      if (pending === undefined) throw new Error(`rollup: batch carries an op the design did not send (${key})`)
      this.waiting.delete(key)
      rec.ops.push(pending)
    }
    this.batches.push(rec)
    return true
  }

  private endProving(): void {
    this.proving?.end()
    this.proving = undefined
  }

  async flush(): Promise<void> {
    const seq = this.node.sequencer
    // Whatever still waits closes when it comes due (no payment arrives any more).
    for (let due = seq.dueAt(), guard = 0; due !== undefined && guard < 1_000_000; due = seq.dueAt(), guard++)
      if (!(await this.closeBatch(Math.max(due, this.world.nowMs())))) break
    if (seq.pendingOps > 0 || seq.pendingDeposits > 0) throw new Error(`rollup: ${seq.pendingOps} ops and ${seq.pendingDeposits} deposits left unbatched`)
    // An op the sequencer dropped (it could no longer apply) is a failed payment, with the reason.
    for (const { op, error } of seq.dropped) {
      const pending = this.waiting.get(`${op.from}:${op.nonce}`)
      if (pending === undefined) continue
      this.waiting.delete(`${op.from}:${op.nonce}`)
      this.succeeded--
      this.world.resolve(pending.id, { ok: false, reason: error.code })
    }
    for (const [u, key] of this.keys)
      if (seq.tree.indexOfKey(key.publicKey) !== this.leaf.get(u)) {
        // A batch that failed (its prover gone, e.g. REDIS_LOST) is rolled back with its deposits: name that cause, not its symptom.
        for (const x of this.batches) await x.dispatched?.report
        throw new Error(`rollup: user ${u}'s deposit is not at leaf ${this.leaf.get(u)}`)
      }
    // Every real batch on L1 (a failure fails the run).
    for (const b of this.batches) if (b.dispatched !== undefined) b.report = await b.dispatched.report
    this.endProving()
    const real = this.batches.filter((b) => b.report !== undefined)
    for (const b of real) {
      const r = b.report as BatchReport
      this.measured.proofMs.push(r.witnessMs + r.proveMs)
      if (r.proverCpuMs !== undefined) this.measured.cpuMs.push(r.proverCpuMs)
      this.measured.fixedGas.push(fixedGasOf(r))
    }
    const basis = this.reused ?? this.measured
    if (this.reused === undefined && real.length > 0) MEASURED.set(this.circuitKey, { ...this.measured })
    const proofMs = mean(basis.proofMs)
    const fixed = steadyFixedGas(basis.fixedGas)
    // A farm's size is known only from the proofs: the schedule and the report use the workers that proved.
    const farmWorkers = (this.prover as { workersUsed?: number }).workersUsed
    this.farm = farmWorkers !== undefined
    if (this.o.proverWorkers === 0 && farmWorkers !== undefined && farmWorkers > 0) this.workers = farmWorkers
    this.schedule(proofMs)
    const local = this.batches.filter((b) => b.report === undefined)
    this.dagger = {
      proofMs,
      where:
        this.reused !== undefined
          ? `${basis.proofMs.length} batches of the same circuit proven and verified on L1 earlier in this process`
          : `${real.length} batches proven and verified on L1 in this run`,
    }
    // On the EVM backend the † batches are priced by executing them, after the payment phase (afterPayments).
    if (this.world.l1.evm === undefined && local.length > 0) {
      for (const b of local) {
        const deposits = b.closed.deposits.length
        const gas = fixed.base + deposits * fixed.perDeposit + (deposits > 0 ? fixed.headWrite : 0)
        this.addExtra('zk-rollup.submitBatch', Math.round(gas) + b.callGas, b.callBytes)
      }
      this.declareBatches(
        local.length,
        `gas = ${Math.round(fixed.base).toLocaleString('en-US')} (what a proven submitBatch paid beyond calldata and its deposits: tx, proof verification, reads, root and batch-count writes; ${fixed.how}) + ${Math.round(fixed.perDeposit).toLocaleString('en-US')} per deposit it consumes + ${Math.round(fixed.headWrite).toLocaleString('en-US')} for the queue-head write when it consumes any + the calldata gas of the batch's own call (its body and public inputs exact, a 256-byte proof of non-zero bytes)`,
      )
    }
    if (local.length > 0) {
      this.world.extrapolated({
        what: 'harness throughput (payments/s)',
        fit: `wall time of the payment phase + ${(this.extraProveMs / 1000).toFixed(1)} s: the unproven batches' proving time ÷ ${this.workers} workers`,
        measuredAt: this.dagger.where,
      })
    }
  }

  /** The † batches' extrapolation: their proving time and final latency, and their gas as `gasFit` says. */
  private declareBatches(count: number, gasFit: string): void {
    this.world.extrapolated({
      what: `${count} of ${this.batches.length} batches (built for real: tree updates, Merkle paths, exact calldata): their proving time, the L1 gas of their submitBatch, and the final latency of their payments`,
      fit: `proving = ${(this.dagger.proofMs / 1000).toFixed(2)} s per batch (mean witness + proof of the proven batches: every batch proves the same ${this.constraints.toLocaleString('en-US')}-constraint circuit), scheduled in batch order on ${this.workers} workers × ${this.world.scenario.model.provers} prover${this.world.scenario.model.provers === 1 ? '' : 's'} (model.provers); ${gasFit}`,
      measuredAt: this.dagger.where,
    })
  }

  /**
   * On the EVM backend: the proven batches' verifier gas from their traces,
   * then every † batch's submitBatch executed on a throwaway copy of the
   * chain (rollup-gas.ts executedBatchGas) and charged its gas. Untimed,
   * after flush; the chain, its transactions and events are as before.
   */
  async afterPayments(): Promise<void> {
    const evm = this.world.l1.evm
    if (evm === undefined) return
    const real = this.batches.filter((b) => b.report !== undefined)
    if (this.reused === undefined && real.length > 0) {
      const traced = await provenVerifierGas(evm, this.contract.address, real.map((b) => (b.report as BatchReport).receipt.txHash))
      this.measured.verifierGas = traced.gas
      const saved = MEASURED.get(this.circuitKey)
      if (saved !== undefined) saved.verifierGas = traced.gas
    }
    const local = this.batches.filter((b) => b.report === undefined)
    if (local.length === 0) return
    const task = this.world.task('pricing the † batches: each executed on anvil, the verifier stubbed', local.length)
    const executed = await executedBatchGas(evm, {
      rollup: this.contract.address,
      from: this.operator,
      calls: local.map((b) => b.call ?? new Uint8Array()),
      verifierGas: (this.reused ?? this.measured).verifierGas,
      onProgress: (done) => task.update(done),
    }).finally(() => task.end())
    for (const [i, b] of local.entries()) {
      b.executedGas = executed.gas[i] as number
      this.addExtra('zk-rollup.submitBatch', b.executedGas, b.callBytes)
    }
    this.declareBatches(local.length, `gas = ${executed.how}`)
  }

  /**
   * Final latencies: the batches in order on a schedule of the pool's
   * workers (each batch starts on the first free worker once closed) and of
   * L1 (a batch lands in the next block after its proof and the batch before
   * it).
   */
  private schedule(meanProofMs: number): void {
    const blockMs = this.world.l1.blockTime * 1000
    // model.provers machines like this one, each with this run's pool of workers.
    const free = new Array<number>(this.workers * this.world.scenario.model.provers).fill(Number.NEGATIVE_INFINITY)
    let lastSubmit = Number.NEGATIVE_INFINITY
    for (const b of this.batches) {
      const proving = b.report !== undefined ? b.report.witnessMs + b.report.proveMs : meanProofMs
      if (b.report === undefined) this.extraProveMs += proving / this.workers
      let w = 0
      for (let i = 1; i < free.length; i++) if ((free[i] as number) < (free[w] as number)) w = i
      const start = Math.max(b.closeMs, free[w] as number)
      const proved = start + proving
      free[w] = proved
      const submit = Math.max(proved, lastSubmit)
      lastSubmit = submit
      const included = (Math.floor(submit / blockMs) + 1) * blockMs
      for (const op of b.ops) {
        const finalParts = {
          signAdmit: op.softMs,
          batchClose: Math.max(0, b.closeMs - op.arrivalMs),
          proverQueue: start - b.closeMs,
          proving,
          l1Inclusion: included - proved,
        }
        const finalLatencyMs = Object.values(finalParts).reduce((a, x) => a + x, 0)
        this.world.resolve(op.id, { finalLatencyMs, finalParts })
      }
    }
  }

  private addExtra(operation: string, gas: number, bytes: number): void {
    const phase = this.world.l1.phase
    let x = this.extra.find((e) => e.operation === operation && e.phase === phase)
    if (x === undefined) {
      x = { operation, phase, gas: 0, bytes: 0, txs: 0 }
      this.extra.push(x)
    }
    x.gas += gas
    x.bytes += bytes
    x.txs += 1
  }

  /** Proving time the unproven batches would have added to the payment phase (for the harness throughput). */
  extraPaymentWallMs(): number {
    return this.extraProveMs
  }

  async settle(): Promise<void> {
    try {
      if (!this.local) await this.withdrawAll()
      else
        this.world.note(
          'Withdrawals not run: only the first batches were proven, so the contract does not hold the final state; L2 balances stay in the rollup (counted as held for the users). `--prove-all` proves every batch and runs them.',
        )
    } finally {
      await this.prover.close()
      await this.verifier.close()
    }
  }

  private async withdrawAll(): Promise<void> {
    const tree = this.node.sequencer.tree
    const payees = new Map<number, number>()
    for (const [u, leaf] of this.leaf) {
      const balance = floorFloat40(tree.get(leaf).balance)
      if (balance <= 0n) continue
      const user = this.world.users[u]!
      const payee = await registerPayee(user.wallet, this.contract, user.address as Address)
      payees.set(u, payee)
      const op = signOp(this.keys.get(u)!, this.node.domain, this.depth, { kind: 'withdraw', from: leaf, to: payee, amount: balance, nonce: this.nonce.get(u)! })
      this.node.submit(op)
      this.nonce.set(u, this.nonce.get(u)! + 1n)
    }
    const reports = await this.node.flush()
    const userOf = new Map<string, number>()
    for (const u of payees.keys()) userOf.set(this.world.users[u]!.address, u)
    for (const r of reports)
      for (let position = 0; position < r.withdrawals.length; position++) {
        const claim = this.node.withdrawalClaim(r, position)
        const u = userOf.get(r.withdrawals[position]!.payee)
        if (u === undefined) continue
        await this.world.users[u]!.wallet.callOk(this.contract, claim)
      }
    this.locked = 0n
  }

  lockedCapital(): bigint {
    return this.locked
  }

  store(): StoreJson {
    return { kind: 'none', description: 'none: the sequencer keeps the account tree in memory; the mock L1 keeps its state in memory' }
  }

  /** The run's prover work per payment (rollup-cost.ts). */
  proverCost(): ProverCostJson {
    return proverCostOf(this.costFacts())
  }

  /** Prover rate, constraints and L1 gas per transfer in a full batch (rollup-cost.ts). */
  capacityInputs(): CapacityInputs {
    return capacityInputsOf(this.costFacts())
  }

  /** A batch's submitBatch gas beyond its calldata, where it is known exactly: its receipt, or its execution on the EVM backend. */
  private gasBeyondCalldata(b: BatchRecord): { gasBeyondCalldata?: number } {
    if (b.report !== undefined) {
      const calldata = b.report.receipt.breakdown.filter((c) => c.label === 'tx.calldata').reduce((a, c) => a + c.gas, 0)
      return { gasBeyondCalldata: b.report.gasUsed - calldata }
    }
    return b.executedGas === undefined ? {} : { gasBeyondCalldata: b.executedGas - b.callGas }
  }

  private costFacts(): CostFacts {
    return {
      basis: this.reused ?? this.measured,
      reused: this.reused !== undefined,
      circuit: this.circuitName,
      constraints: this.constraints,
      workers: this.workers,
      n: this.o.n,
      d: this.o.d,
      batches: this.batches.map((b) => ({ proven: b.report !== undefined, closed: b.closed, ...this.gasBeyondCalldata(b) })),
      labelled: this.world.l1.evm === undefined,
      succeeded: this.succeeded,
      farm: this.farm,
    }
  }

  /** The sender's EdDSA-Poseidon signature and the operator's check of it (the functions the design and the sequencer call). */
  bound(): PaymentBound {
    const [a, b] = [...this.keys.keys()]
    const key = this.keys.get(a!)!
    const domain = this.node.domain
    let nonce = 0n
    const op = { kind: 'transfer' as const, from: this.leaf.get(a!)!, to: this.leaf.get(b ?? a!)!, amount: 1_000_000_000n, nonce: 0n }
    return {
      what: 'EdDSA-Poseidon sign (sender) + verify (operator)',
      run: () => {
        const o = { ...op, nonce: nonce++ }
        const signed = signOp(key, domain, this.depth, o)
        if (!verifyOpSignature(opMessage(domain, this.depth, o), signed.signature, key.publicKey)) throw new Error('bound: EdDSA verify failed')
      },
    }
  }

  heldFor(user: number): bigint {
    const leaf = this.leaf.get(user)
    if (leaf === undefined) return 0n
    return this.node.sequencer.tree.tryGet(leaf)?.balance ?? 0n
  }

  adjustments(): Map<number, bigint> {
    return this.rounding
  }

  extraCosts(): ExtraCost[] {
    return this.extra
  }
}
