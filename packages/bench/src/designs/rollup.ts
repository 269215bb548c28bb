/**
 * ZK rollup adapter (@l2bench/zk-rollup): every user deposits on L1 into the
 * rollup contract, pays with EdDSA-Poseidon signed transfers admitted by the
 * operator's RollupNode, and the node batches them (size or timeout on the
 * simulated clock), proves each batch with Groth16 (snarkjs, in a worker)
 * and submits it to the contract, which verifies the proof on L1.
 *
 * Latency: soft = signing + admission by the operator (wall clock); final =
 * the wait for the batch to close (simulated) + proving (wall clock) + one L1
 * block for the submission.
 *
 * What is extrapolated, and how (every such figure is marked †): proving
 * costs seconds per batch here, so only the first `provedBatches` batches of
 * the run are proven and submitted for real. Every later batch is still
 * built for real by the sequencer (tree updates, Merkle paths, its exact
 * calldata), then confirmed locally; its L1 gas is the measured fixed gas of
 * the proven batches (gas − calldata gas) + the calldata gas of its own
 * submitBatch call (with a 256-byte proof), and its proving time is the
 * measured mean. Withdrawals need every batch on L1, so they run only when
 * every batch was proven (`proveAll`, or a run small enough); otherwise the
 * users' L2 balances stay held in the rollup and the report says so.
 *
 * Amounts: transfers carry float40 amounts (Hermez's encoding); a payment is
 * rounded down to the nearest representable amount and the difference is
 * accounted for in the conservation check.
 */
import { type Address, monotonicMs } from '@l2bench/core'
import { calldataGas } from '@l2bench/l1-mock'
import {
  type BatchReport,
  L2Key,
  type Prover,
  RollupContract,
  RollupNode,
  SyncGroth16Verifier,
  WorkerProver,
  buildRollupCircuit,
  depositCall,
  floorFloat40,
  registerPayee,
  opMessage,
  signOp,
  verifyOpSignature,
} from '@l2bench/zk-rollup'
import type { CapacityInputs, Design, ExtraCost, PaymentBound, PaymentResult, World } from '../design.ts'
import type { RollupProverFactory } from '../farm.ts'
import type { StoreJson } from '../results.ts'
import { type ProgressTask, stageEvents } from '../progress.ts'
import type { Payment } from '../workload.ts'
import { type RollupOptions, designOptions } from './options.ts'


/** Proving time and fixed gas measured per circuit in this process (sweeps reuse the main run's). */
const MEASURED = new Map<string, { proveMs: number[]; fixedGas: number[] }>()
/** Deepest tree built per circuit shape (n:d:mode) in this process. */
const DEPTH_BUILT = new Map<string, number>()

interface PendingOp {
  id: number
  arrivalMs: number
  softMs: number
}

export class RollupDesign implements Design {
  readonly name = 'rollup' as const
  /** `prover`: where proofs are made (default: a WorkerProver in this process; the CLI's --prover-redis gives a BullMQ farm). */
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
  private deposited = new Map<number, bigint>()
  private queue: PendingOp[] = []
  private proven = 0
  private extrapolatedBatches = 0
  private provenGasFixed: number[] = []
  private proveMs: number[] = []
  private extra: ExtraCost[] = []
  private rounding = new Map<number, bigint>()
  private reused = false
  /** Progress of the batches proven for real (a bar when their number is known in advance). */
  private proving: ProgressTask | undefined
  private planned = 0
  private locked = 0n
  private extraProveMs = 0
  private circuitKey = ''
  private constraints = 0
  /** Calldata gas and transfers of the batch bodies built in the payment phase (the marginal L1 gas of a transfer). */
  private body = { gas: 0, transfers: 0 }
  private itemsPerProof = 1
  /** The modelled batch being filled by extrapolated physical batches. */
  private logical = { items: 0, physical: 0, bodyGas: 0, bodyBytes: 0, overheadGas: 0, overheadBytes: 0, firstMs: -1, ops: [] as PendingOp[] }

  async setup(world: World): Promise<void> {
    this.world = world
    this.o = designOptions(world.scenario, 'rollup')
    const active = new Set<number>()
    for (const p of world.workload.payments) active.add(p.from).add(p.to)
    // Smallest depth that holds every user; a deeper circuit already built in this process is reused
    // (sweeps with fewer users then need no new circuit build).
    const needed = Math.max(2, Math.ceil(Math.log2(Math.max(2, active.size + 1))))
    this.depth = this.o.depth > 0 ? this.o.depth : Math.max(needed, DEPTH_BUILT.get(`${this.o.n}:${this.o.d}:${this.o.mode}`) ?? 0)
    const params = { n: this.o.n, d: this.o.d, depth: this.depth, mode: this.o.mode }
    world.progress(`building the batch circuit n=${params.n} d=${params.d} depth=${params.depth} ${params.mode} (cached after the first run)`)
    const events = stageEvents({ line: (t) => world.progress(t), task: (l, n) => world.task(l, n) }, 'circuit ')
    const built = await buildRollupCircuit(params, { onProgress: events }).finally(() => events.close())
    this.circuitKey = `${built.compiled.hash}:${built.setup.hash}`
    const shape = `${params.n}:${params.d}:${params.mode}`
    DEPTH_BUILT.set(shape, Math.max(DEPTH_BUILT.get(shape) ?? 0, params.depth))
    this.itemsPerProof = params.n + params.d
    this.constraints = built.compiled.constraints
    const prior = MEASURED.get(this.circuitKey)
    if (prior !== undefined && !this.o.proveAll) {
      this.proveMs.push(...prior.proveMs)
      this.provenGasFixed.push(...prior.fixedGas)
      this.reused = true
    }
    world.note(
      `Circuit n=${params.n} ops, d=${params.d} deposits, depth ${params.depth}, ${params.mode} binding: ${built.compiled.constraints.toLocaleString('en-US')} constraints` +
        `${built.developmentOnly ? ' (development ptau: not a ceremony)' : ''}; setup ${built.cached ? 'from cache' : 'built in this run'}.`,
    )
    this.planned = this.o.proveAll || this.reused ? 0 : this.o.provedBatches
    if (this.planned > 0) this.proving = world.task('proving batches (Groth16, then verified on L1)', this.planned)
    this.prover =
      this.options.prover !== undefined ? await this.options.prover(built, params, world) : new WorkerProver({ wasm: built.compiled.wasm, zkey: built.setup.zkey })
    this.verifier = new SyncGroth16Verifier()
    await this.verifier.ready()
    this.contract = await world.l1.deploy(new RollupContract({ params, vkey: built.setup.vkey, verifier: this.verifier }))
    const operator = await world.operator('rollup-sequencer')
    this.node = new RollupNode({
      l1: world.l1,
      contract: this.contract,
      wallet: operator.wallet,
      prover: this.prover,
      batchTimeoutMs: this.o.batchTimeoutMs,
      clock: { now: () => world.nowMs() },
    })

    // Deposits: perfect foresight (peak net outflow × headroom), at least 1 gwei so every user gets a leaf.
    const h = BigInt(Math.round(world.scenario.capital.headroom * 1000))
    for (const u of [...active].sort((a, b) => a - b)) {
      const key = L2Key.fromSeed(`l2bench/rollup/${world.scenario.seed}/${u}`)
      this.keys.set(u, key)
      const need = world.workload.userNeeds[u]!.a
      const fixed = world.scenario.capital.channelDeposit
      const amount = fixed === 'auto' ? (need * h + 999n) / 1000n + 10n ** 9n : fixed
      await world.users[u]!.wallet.callOk(this.contract, depositCall(key.publicKey), { value: amount })
      this.deposited.set(u, amount)
      this.locked += amount
    }
    // The deposits become leaves through batches (d per batch).
    this.node.syncL1()
    let guard = 0
    while (this.node.sequencer.pendingDeposits > 0 && guard++ < 100_000) await this.closeBatch(world.nowMs(), [])
    this.emitLogical(world.nowMs())
    for (const [u, key] of this.keys) {
      const idx = this.node.sequencer.tree.indexOfKey(key.publicKey)
      if (idx === undefined) throw new Error(`rollup: user ${u} has no leaf after the deposits`)
      this.leaf.set(u, idx)
      this.nonce.set(u, 0n)
    }
  }

  async pay(p: Payment): Promise<PaymentResult> {
    const seq = this.node.sequencer
    const now = this.world.nowMs()
    if (seq.pendingOps > 0 && seq.isDue()) await this.closeBatch(this.dueAt(now), this.queue.splice(0))
    if (this.logical.firstMs >= 0 && now - this.logical.firstMs >= this.o.batchTimeoutMs) this.emitLogical(this.logical.firstMs + this.o.batchTimeoutMs)
    const amount = floorFloat40(p.amount)
    const t0 = monotonicMs()
    try {
      if (amount <= 0n) return { ok: false, reason: 'AMOUNT_NOT_REPRESENTABLE', softLatencyMs: 0 }
      const key = this.keys.get(p.from)!
      const op = signOp(key, this.node.domain, this.depth, { kind: 'transfer', from: this.leaf.get(p.from)!, to: this.leaf.get(p.to)!, amount, nonce: this.nonce.get(p.from)! })
      this.node.submit(op)
    } catch (err) {
      return { ok: false, reason: (err as { code?: string }).code ?? 'ERROR', softLatencyMs: monotonicMs() - t0 }
    }
    const soft = monotonicMs() - t0
    this.nonce.set(p.from, this.nonce.get(p.from)! + 1n)
    if (amount !== p.amount) {
      const d = p.amount - amount
      this.rounding.set(p.from, (this.rounding.get(p.from) ?? 0n) + d)
      this.rounding.set(p.to, (this.rounding.get(p.to) ?? 0n) - d)
    }
    this.queue.push({ id: p.id, arrivalMs: now, softMs: soft })
    if (seq.isFull()) await this.closeBatch(now, this.queue.splice(0, this.o.n))
    return { ok: true, softLatencyMs: soft }
  }

  private dueAt(now: number): number {
    const first = this.queue[0]
    return first === undefined ? now : Math.min(now, first.arrivalMs + this.o.batchTimeoutMs)
  }

  /** Closes one batch: proven and submitted for real while within budget, else built and extrapolated. */
  private async closeBatch(closeMs: number, ops: PendingOp[]): Promise<void> {
    const blockMs = this.world.l1.blockTime * 1000
    const real = this.o.proveAll || (!this.reused && this.proven < this.o.provedBatches)
    if (real) {
      const r: BatchReport | undefined = await this.node.runBatch()
      if (r === undefined) return
      this.proven++
      const proveMs = r.witnessMs + r.proveMs
      if (this.proving !== undefined) {
        this.proving.update(this.proven)
        if (this.proven >= this.planned) this.endProving()
      } else this.world.progress(`proved batch ${this.proven} in ${(proveMs / 1000).toFixed(1)} s and verified it on L1`)
      this.countBody(r.call.body, r.deposits, r.transfers)
      this.proveMs.push(proveMs)
      this.provenGasFixed.push(r.gasUsed - calldataGasOfReceipt(r))
      MEASURED.set(this.circuitKey, { proveMs: [...this.proveMs], fixedGas: [...this.provenGasFixed] })
      for (const op of ops) {
        const final = Math.max(0, closeMs - op.arrivalMs) + op.softMs + proveMs + blockMs
        this.world.resolve(op.id, { finalLatencyMs: final })
      }
      return
    }
    // Extrapolated: built for real by the sequencer, confirmed locally, folded into the modelled batch.
    const seq = this.node.sequencer
    const closed = seq.closeBatch()
    if (closed === undefined) return
    seq.confirm()
    const body = closed.batch.calldata
    const call = this.contract.encodeCall({
      type: 'submitBatch',
      body,
      proof: new Uint8Array(256).fill(0x5a), // a real proof is 256 bytes, almost all non-zero
      publicInputs: closed.batch.publicInputs.map(() => new Uint8Array(32).fill(0x5a)),
    })
    const L = this.logical
    if (L.firstMs < 0) L.firstMs = ops[0]?.arrivalMs ?? closeMs
    L.items += closed.deposits.length + closed.ops.length
    L.physical++
    L.bodyGas += calldataGas(body)
    this.countBody(body, closed.deposits.length, closed.ops.length)
    L.bodyBytes += body.length
    L.overheadGas = calldataGas(call) - calldataGas(body)
    L.overheadBytes = call.length - body.length
    L.ops.push(...ops)
    if (L.items >= this.o.batchSize) this.emitLogical(closeMs)
  }

  /** Accounts one modelled batch: its L1 submission (extra cost) and its ops' final latency. */
  private emitLogical(closeMs: number): void {
    const L = this.logical
    if (L.physical === 0) return
    const blockMs = this.world.l1.blockTime * 1000
    // Proving grows linearly with the circuit's slots: per-slot time of the proven circuit × items.
    const proveMs = (mean(this.proveMs) / this.itemsPerProof) * Math.max(L.items, 1)
    this.extraProveMs += proveMs
    this.extrapolatedBatches++
    this.addExtra('zk-rollup.submitBatch', Math.round(mean(this.provenGasFixed)) + L.overheadGas + L.bodyGas, L.overheadBytes + L.bodyBytes)
    for (const op of L.ops) {
      const final = Math.max(0, closeMs - op.arrivalMs) + op.softMs + proveMs + blockMs
      this.world.resolve(op.id, { finalLatencyMs: final })
    }
    this.logical = { items: 0, physical: 0, bodyGas: 0, bodyBytes: 0, overheadGas: 0, overheadBytes: 0, firstMs: -1, ops: [] }
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

  private endProving(): void {
    this.proving?.end()
    this.proving = undefined
  }

  async flush(): Promise<void> {
    const seq = this.node.sequencer
    let guard = 0
    while (seq.pendingOps > 0 && guard++ < 1_000_000) await this.closeBatch(this.dueAt(this.world.nowMs()), this.queue.splice(0, this.o.n))
    this.emitLogical(this.world.nowMs())
    this.endProving()
    if (this.extrapolatedBatches > 0) {
      const basis = this.reused ? `${this.proveMs.length} batches of the same circuit proven and verified on L1 earlier in this process` : `${this.proven} batches proven and verified on L1 in this run`
      this.world.extrapolated({
        what: `${this.extrapolatedBatches} batches of up to ${this.o.batchSize} items (the proven circuit holds ${this.itemsPerProof}): their L1 gas, proving time and the final latency of their payments`,
        fit: `gas = ${Math.round(mean(this.provenGasFixed)).toLocaleString('en-US')} (fixed gas of a proven submitBatch: tx, proof verification, storage) + the calldata gas of the batch's own items, each built for real by the sequencer; proving = ${Math.round(mean(this.proveMs) / this.itemsPerProof).toLocaleString('en-US')} ms per item × items (linear in circuit size)`,
        measuredAt: basis,
      })
      this.world.extrapolated({
        what: 'throughput (payments/s)',
        fit: `wall time of the payment phase + ${(this.extraProveMs / 1000).toFixed(1)} s of proving the extrapolated batches would take`,
        measuredAt: `${this.proven} proven batches`,
      })
    }
  }

  /** Proving time the extrapolated batches would have added to the payment phase (for throughput). */
  extraPaymentWallMs(): number {
    return this.extraProveMs
  }

  async settle(): Promise<void> {
    try {
      if (this.extrapolatedBatches === 0) await this.withdrawAll()
      else this.world.note('Withdrawals not run: some batches were extrapolated, so the contract does not hold the final state; L2 balances stay in the rollup (counted as held for the users).')
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

  /** A batch body of transfers only, built while the payments ran: its calldata gas per transfer. */
  private countBody(body: Uint8Array, deposits: number, transfers: number): void {
    if (this.world.l1.phase !== 'payments' || deposits > 0 || transfers === 0) return
    this.body.gas += calldataGas(body)
    this.body.transfers += transfers
  }

  store(): StoreJson {
    return { kind: 'none', description: 'none: the sequencer keeps the account tree in memory; the mock L1 keeps its state in memory' }
  }

  /**
   * Prover: the circuit's constraints ÷ the measured witness + proving time
   * of a proven batch. L1 gas per transfer in a full batch of `batchSize`:
   * the measured fixed gas of a proven submitBatch ÷ batchSize + the measured
   * calldata gas one transfer adds to a batch body.
   */
  capacityInputs(): CapacityInputs {
    const proveS = mean(this.proveMs) / 1000
    const fixed = mean(this.provenGasFixed)
    const marginal = this.body.transfers > 0 ? this.body.gas / this.body.transfers : Number.NaN
    const B = this.o.batchSize
    const basis = this.reused ? 'batches of the same circuit proven earlier in this process' : `${this.proven} batch${this.proven === 1 ? '' : 'es'} proven in this run`
    return {
      model: 'rollup',
      proverConstraintsPerSecond: {
        value: Math.round(this.constraints / proveS),
        unit: 'constraints/s',
        source: 'measured',
        how: `${this.constraints.toLocaleString('en-US')} constraints ÷ ${proveS.toFixed(2)} s witness + Groth16 proof (snarkjs, one worker thread; ${basis})`,
      },
      constraintsPerPayment: {
        value: Math.round(this.constraints / this.itemsPerProof),
        unit: 'constraints/payment',
        source: 'computed',
        how: `${this.constraints.toLocaleString('en-US')} constraints ÷ ${this.itemsPerProof} slots of the proven circuit (n = ${this.o.n} ops, d = ${this.o.d} deposits; proving taken as linear in slots)`,
      },
      gasPerTransfer: {
        value: Math.round(fixed / B + marginal),
        unit: 'gas/transfer',
        source: 'computed',
        how: `${Math.round(fixed).toLocaleString('en-US')} fixed gas of a proven submitBatch (tx, proof verification, storage; measured) ÷ ${B} transfers per batch (designOptions.rollup.batchSize) + ${marginal.toFixed(1)} calldata gas per transfer (the calldata gas of the batch bodies built in this run ÷ their ${this.body.transfers} transfers; bodies of up to ${this.o.n} transfer${this.o.n === 1 ? '' : 's'}, so a body's own header counts per transfer: an upper bound); → ${Math.round(marginal)} as batches grow`,
      },
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
    return this.node.sequencer.tree.get(leaf).balance
  }

  adjustments(): Map<number, bigint> {
    return this.rounding
  }

  extraCosts(): ExtraCost[] {
    return this.extra
  }
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length
}

/** Calldata gas of a proven batch's submitBatch, from its receipt's labelled breakdown. */
function calldataGasOfReceipt(r: BatchReport): number {
  let gas = 0
  for (const c of r.receipt.breakdown) if (c.label === 'tx.calldata') gas += c.gas
  return gas
}

