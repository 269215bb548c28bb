/**
 * EvmL1: the `L1` seam over anvil. The designs' transactions, calls, views
 * and events keep their TypeScript shapes; the contracts run as Solidity on a
 * real EVM, so receipts carry real gas.
 *
 * Transactions: a SignedTx is checked exactly as MockL1 checks it (chain id,
 * the project's signature over its body, nonce, gas, funds: same typed
 * errors), then submitted from the sender's own address (anvil impersonates
 * it: the project's signature scheme is not Ethereum's, and the address is the
 * same keccak of the public key). Calldata in the contract's compact codec is
 * decoded with the contract class and re-encoded as an ABI call by the
 * contract's binding (binding.ts); the receipt's `calldataBytes` is the ABI
 * size, what the EVM charged for.
 *
 * Blocks: anvil mines only on request (`--no-mining`), every block
 * `blockTime` seconds after the previous one, so heights and timestamps follow
 * the mock's rules. With `autoMine` each send mines a block.
 *
 * Faults (delay, drop, offline) are applied on the client side, as the mock
 * does: a delayed transaction is held back and submitted when its block
 * comes; a dropped one never reaches anvil; an offline account can neither
 * send nor hear events.
 *
 * Synchronous reads: `head`, `events` and subscriptions are served from what
 * this client mined and decoded (it is the only miner); `balanceOf` and
 * `nonceOf` ask anvil through a blocking RPC (rpc.ts).
 *
 * Receipts (gas, events, results, reverts) are read from anvil's receipt and
 * call trace in receipts.ts; `trace` gives a mined transaction's call trace;
 * `trial` runs calls on a throwaway copy of the chain (trial.ts).
 */
import {
  type Address,
  DecodeError,
  InvalidInputError,
  type L2Error,
  type Verifier,
  assertInt,
  nodeVerifier,
  toAddress,
  toAmount,
} from '@l2bench/core'
import {
  type AdmissionView,
  type ChainOptions,
  type Contract,
  type EventFilter,
  EventBus,
  Faults,
  type Head,
  type L1,
  type L1Event,
  type Receipt,
  ReceiptBook,
  type SignedTx,
  type SubscribeOptions,
  type TxHash,
  TxRejectedError,
  type Unsubscribe,
  admitTx,
  encodeAbiCall,
} from '@l2bench/l1-mock'
import { type Abi, type Hex, decodeEventLog, decodeFunctionResult, encodeDeployData, encodeEventTopics, encodeFunctionData, toHex } from 'viem'
import { type AnvilOptions, type AnvilProcess, startAnvil } from './anvil.ts'
import { type CallEnv, type ContractBinding, type ViewEnv, lower } from './binding.ts'
import { AnvilError } from './errors.ts'
import { type CallFrame, type Deployed, type EthReceipt, type Pending, buildReceipt, traceCall } from './receipts.ts'
import { SyncRpc, diedError, rpcCall } from './rpc.ts'
import { type Artifact, artifact, compile, packageSources } from './solc.ts'
import { type TrialCall, type TrialOptions, type TrialResult, checkTrial, runTrial } from './trial.ts'

export interface EvmL1Options extends ChainOptions {
  /** Solidity bindings of the contracts the designs deploy. */
  bindings?: readonly ContractBinding[]
  anvil?: Omit<AnvilOptions, 'chainId' | 'genesisTimestamp' | 'gasLimit'>
}

/** The address the bindings' contracts are deployed from (funded by the backend itself). */
export const DEPLOYER: Address = '0x00000000000000000000000000000000000d3910'

export class EvmL1 implements L1, AdmissionView {
  readonly chainId: bigint
  readonly blockTime: number
  readonly blockGasLimit: number
  readonly genesisTimestamp: number
  readonly minGasPrice: bigint
  readonly verifier: Verifier
  autoMine: boolean

  private current: Head
  private secondsCarry = 0
  private readonly bindings = new Map<string, ContractBinding>()
  private readonly contracts = new Map<Address, Deployed>()
  /** Submitted to anvil, not yet mined, by anvil's hash. */
  private readonly submitted = new Map<Hex, Pending>()
  /** Held back by a delay fault. */
  private held: Pending[] = []
  private readonly pendingBySender = new Map<Address, Map<bigint, TxHash>>()
  private readonly pendingHashes = new Set<TxHash>()
  private readonly book: ReceiptBook
  /** anvil's hash of each mined transaction of this client (for `trace`). */
  private readonly ethHashes = new Map<TxHash, Hex>()
  private readonly faults = new Faults()
  private readonly bus = new EventBus((a) => this.faults.isOffline(a))
  private queue: Promise<unknown> = Promise.resolve()
  private stopped = false

  private constructor(
    readonly node: AnvilProcess,
    private readonly sync: SyncRpc,
    options: EvmL1Options,
  ) {
    this.chainId = options.chainId ?? 31337n
    this.blockTime = options.blockTime ?? 12
    this.blockGasLimit = options.blockGasLimit ?? 30_000_000
    this.genesisTimestamp = options.genesisTimestamp ?? 1_700_000_000
    this.minGasPrice = options.minGasPrice ?? 1n
    this.autoMine = options.autoMine ?? true
    this.verifier = options.verifier ?? nodeVerifier
    this.current = { height: 0, timestamp: this.genesisTimestamp }
    // While someone waits for a receipt, anvil's exit must keep the loop alive long enough to fail them.
    this.book = new ReceiptBook((waiting) => node.hold(waiting))
    for (const b of options.bindings ?? []) this.bindings.set(b.name, b)
  }

  /** Starts anvil and connects to it. Call `stop()` when done (the process exit stops it too). */
  static async start(options: EvmL1Options = {}): Promise<EvmL1> {
    const blockTime = options.blockTime ?? 12
    assertInt('blockTime', blockTime, 1)
    const node = await startAnvil({
      ...options.anvil,
      ...(options.chainId === undefined ? {} : { chainId: options.chainId }),
      ...(options.genesisTimestamp === undefined ? {} : { genesisTimestamp: options.genesisTimestamp }),
      ...(options.blockGasLimit === undefined ? {} : { gasLimit: options.blockGasLimit }),
    })
    const l1 = new EvmL1(node, new SyncRpc(node), options)
    try {
      await l1.rpc('anvil_setBlockTimestampInterval', [blockTime])
      await l1.rpc('anvil_autoImpersonateAccount', [true])
      await l1.rpc('anvil_setBalance', [DEPLOYER, toHex(10n ** 30n)])
    } catch (err) {
      await l1.stop()
      throw err
    }
    node.onExit(() => l1.failAll())
    return l1
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.sync.close()
    await this.node.stop()
  }

  private rpc(method: string, params: unknown[]): Promise<unknown> {
    if (this.stopped) return Promise.reject(new AnvilError('ANVIL_STOPPED', `${method}: the EVM backend was stopped`))
    return rpcCall(this.node, method, params)
  }

  /** Runs chain-changing steps one at a time, in call order. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => {})
    return run
  }

  // ---------------------------------------------------------------- reads

  head(): Head {
    return { ...this.current }
  }

  balanceOf(address: Address): bigint {
    return BigInt(this.sync.call('eth_getBalance', [toAddress('address', address), 'latest']) as string)
  }

  nonceOf(address: Address): bigint {
    return BigInt(this.sync.call('eth_getTransactionCount', [toAddress('address', address), 'latest']) as string)
  }

  contractAt(address: Address): Contract | undefined {
    return this.contracts.get(address)?.contract
  }

  events(filter: EventFilter = {}, fromHeight = 0): L1Event[] {
    return this.bus.events(filter, fromHeight)
  }

  subscribe(filter: EventFilter, onEvent: (e: L1Event) => void, options: SubscribeOptions = {}): Unsubscribe {
    return this.bus.subscribe(filter, onEvent, options)
  }

  /** Called after every mined block (after its events were delivered). */
  onBlock(listener: (head: Head) => void): Unsubscribe {
    return this.bus.onBlock(listener)
  }

  async read<T>(contract: Address, method: string, args: unknown[]): Promise<T> {
    const d = this.contracts.get(toAddress('contract', contract))
    if (d === undefined) throw new InvalidInputError('contract', `no contract at ${contract}`)
    return (await d.binding.view(d.contract, method, args, this.viewEnv(d))) as T
  }

  private viewEnv(d: Deployed): ViewEnv {
    const address = d.contract.address
    return {
      chainId: this.chainId,
      contract: address,
      call: async (functionName, args) => {
        const data = encodeFunctionData({ abi: d.abi, functionName, args })
        const out = (await this.rpc('eth_call', [{ to: address, data }, 'pending'])) as Hex
        return decodeFunctionResult({ abi: d.abi, functionName, data: out })
      },
      logs: async (eventName, indexed) => {
        const topics = encodeEventTopics({ abi: d.abi, eventName, args: indexed } as Parameters<typeof encodeEventTopics>[0])
        const logs = (await this.rpc('eth_getLogs', [{ address, topics, fromBlock: '0x0', toBlock: 'latest' }])) as Array<
          EthReceipt['logs'][number] & { blockNumber: Hex }
        >
        return logs.map((l) => {
          const e = decodeEventLog({ abi: d.abi, topics: l.topics as [Hex], data: l.data })
          return { eventName: String(e.eventName), args: e.args as unknown as Record<string, unknown>, blockNumber: Number(l.blockNumber) }
        })
      },
    }
  }

  // ---------------------------------------------------------------- admin

  /** Credits `amount` to `address` (anvil_setBalance). */
  async mint(address: Address, amount: bigint): Promise<void> {
    const to = toAddress('address', address)
    const v = toAmount('amount', amount)
    await this.exclusive(async () => {
      const have = BigInt((await this.rpc('eth_getBalance', [to, 'latest'])) as string)
      await this.rpc('anvil_setBalance', [to, toHex(have + v)])
    })
  }

  /**
   * Deploys the Solidity port of `contract` (found by its name among the
   * bindings) and sets `contract.address`; mines one block.
   */
  async deploy<C extends Contract>(contract: C): Promise<C> {
    const binding = this.bindings.get(contract.name) as ContractBinding<C> | undefined
    if (binding === undefined) throw new InvalidInputError('contract', `no Solidity binding for contract ${contract.name}`)
    const extra = binding.sources?.(contract)
    const art = extra === undefined ? artifact(binding.solidity) : compile({ ...packageSources(), ...extra })[binding.solidity]
    if (art === undefined) throw new InvalidInputError('contract', `no Solidity contract ${binding.solidity}`)
    return this.exclusive(async () => {
      contract.address = await this.deployArtifact(art, binding.constructorArgs(contract))
      this.contracts.set(contract.address, { contract, binding: binding as unknown as ContractBinding, abi: art.abi })
      return contract
    })
  }

  /**
   * Deploys a Solidity contract with no TypeScript counterpart (e.g. the
   * Groth16 verifier snarkjs exports); mines one block. Call it with raw ABI
   * calldata (`Wallet.sendRaw`): transactions to an unbound address pass
   * through unchanged.
   */
  async deploySolidity(sources: Record<string, string>, contract: string, args: readonly unknown[] = []): Promise<{ address: Address; abi: Abi }> {
    const art = compile(sources)[contract]
    if (art === undefined) throw new InvalidInputError('contract', `no Solidity contract ${contract} in the sources`)
    return this.exclusive(async () => ({ address: await this.deployArtifact(art, args), abi: art.abi }))
  }

  private async deployArtifact(art: Artifact, args: readonly unknown[]): Promise<Address> {
    const data = encodeDeployData({ abi: art.abi, bytecode: art.bytecode, args })
    const ethHash = (await this.rpc('eth_sendTransaction', [{ from: DEPLOYER, data, gas: toHex(this.blockGasLimit), gasPrice: '0x1' }])) as Hex
    await this.mineBlock()
    const r = (await this.rpc('eth_getTransactionReceipt', [ethHash])) as EthReceipt | null
    if (r === null || r.status !== '0x1' || r.contractAddress === null)
      throw new AnvilError('ANVIL_RPC', `deploying ${art.contract} failed (status ${r?.status ?? 'unknown'})`)
    return lower(r.contractAddress)
  }

  /**
   * Saves the chain (anvil's evm_snapshot) and this client's view of it, for
   * tests that share one node: `revert` brings both back. Only between
   * transactions: nothing may be pending.
   */
  snapshot(): Promise<EvmSnapshot> {
    return this.exclusive(async () => {
      if (this.submitted.size > 0 || this.held.length > 0) throw new InvalidInputError('snapshot', 'transactions are pending')
      const id = (await this.rpc('evm_snapshot', [])) as Hex
      return {
        id,
        head: { ...this.current },
        carry: this.secondsCarry,
        logLength: this.bus.log.length,
        receipts: this.book.receipts.size,
        dropped: this.book.dropped.size,
        contracts: this.contracts.size,
      }
    })
  }

  /** Returns to `snap` (which is used up, as in anvil: take a new one to return again). */
  revert(snap: EvmSnapshot): Promise<void> {
    return this.exclusive(async () => {
      const ok = (await this.rpc('evm_revert', [snap.id])) as boolean
      if (!ok) throw new InvalidInputError('snapshot', `anvil has no snapshot ${snap.id}`)
      this.current = { ...snap.head }
      this.secondsCarry = snap.carry
      this.bus.log.length = snap.logLength
      trimMap(this.book.receipts, snap.receipts)
      trimMap(this.book.dropped, snap.dropped)
      trimMap(this.contracts, snap.contracts)
      for (const h of [...this.ethHashes.keys()]) if (!this.book.receipts.has(h)) this.ethHashes.delete(h)
      this.submitted.clear()
      this.held = []
      this.pendingBySender.clear()
      this.pendingHashes.clear()
      this.faults.clear()
    })
  }

  // ---------------------------------------------------------------- trials

  /** The call trace (anvil's callTracer) of a transaction this client sent and mined. */
  trace(hash: TxHash): Promise<CallFrame> {
    const ethHash = this.ethHashes.get(hash)
    if (ethHash === undefined) return Promise.reject(new InvalidInputError('hash', `no mined transaction ${hash} of this client`))
    return this.exclusive(() => traceCall((m, a) => this.rpc(m, a), ethHash))
  }

  /**
   * Runs `calls` in order as real transactions on a throwaway copy of the
   * chain and returns each one's gas and call trace; then the chain is as
   * before (trial.ts). The trial goes around this client's bookkeeping: no
   * head, receipt, event, subscription or nonce of the run sees it. Only
   * between transactions (nothing may be pending). A reverted call fails it
   * with TrialRevertedError, a dead node with ANVIL_DIED.
   */
  async trial(calls: readonly TrialCall[], options: TrialOptions = {}): Promise<TrialResult[]> {
    checkTrial(calls, options)
    if (calls.length === 0) return []
    return this.exclusive(async () => {
      if (this.submitted.size > 0 || this.held.length > 0) throw new InvalidInputError('trial', 'transactions are pending')
      return runTrial((m, a) => this.rpc(m, a), calls, options, {
        gasLimit: this.blockGasLimit,
        contractName: (a) => this.contracts.get(a)?.contract.name,
      })
    })
  }

  // ---------------------------------------------------------------- faults

  /** Holds `sender`'s transactions for `blocks` extra blocks (0 clears). */
  delaySender(sender: Address, blocks: number): void {
    this.faults.delaySender(sender, blocks)
  }

  /** Drops every transaction `sender` sends during the next `blocks` blocks (censorship). */
  dropSender(sender: Address, blocks: number): void {
    this.faults.dropSender(sender, blocks, this.current.height)
  }

  /** An offline account can send nothing, and its subscriptions receive no events. */
  setOffline(account: Address, offline: boolean): void {
    this.faults.setOffline(account, offline)
  }

  isOffline(account: Address): boolean {
    return this.faults.isOffline(account)
  }

  // ---------------------------------------------------------------- admission (AdmissionView)

  accountState(account: Address): { balance: bigint; nonce: bigint } {
    return { balance: this.balanceOf(account), nonce: this.nonceOf(account) }
  }

  hasPendingNonce(sender: Address, nonce: bigint): boolean {
    return this.pendingBySender.get(sender)?.has(nonce) ?? false
  }

  knows(hash: TxHash): boolean {
    return this.book.receipts.has(hash) || this.pendingHashes.has(hash)
  }

  // ---------------------------------------------------------------- transactions

  async send(tx: SignedTx): Promise<TxHash> {
    return this.exclusive(async () => {
      const { hash, from } = admitTx(tx, this)
      const { body } = tx
      const p = await this.translate(tx, hash, from)
      const dropUntil = this.faults.droppedUntil(from, this.current.height)
      if (dropUntil !== undefined) {
        this.drop(hash, new TxRejectedError('DROPPED', `${from} is censored until height ${dropUntil}`, { field: 'from' }))
        return hash
      }
      p.eligibleHeight = this.current.height + 1 + this.faults.delayOf(from)
      this.pendingHashes.add(hash)
      let bySender = this.pendingBySender.get(from)
      if (bySender === undefined) {
        bySender = new Map()
        this.pendingBySender.set(from, bySender)
      }
      bySender.set(body.nonce, hash)
      if (p.eligibleHeight <= this.current.height + 1) await this.submit(p)
      else this.held.push(p)
      if (this.autoMine && p.eligibleHeight <= this.current.height + 1) await this.mineBlock()
      return hash
    })
  }

  /** The contract call as anvil will run it (ABI calldata through the binding). */
  private async translate(tx: SignedTx, hash: TxHash, from: Address): Promise<Pending> {
    const { body } = tx
    const target = this.contracts.get(body.to)
    const base = { tx, hash, from, eligibleHeight: 0, target, call: undefined, functionName: undefined, env: undefined }
    if (target === undefined) return { ...base, data: toHex(body.data) }
    let call: { type: string }
    try {
      call = target.contract.decodeCall(body.data)
    } catch (err) {
      // The mock reverts a call it cannot decode; anvil does too (no function matches these bytes).
      if (err instanceof DecodeError || err instanceof InvalidInputError) return { ...base, data: toHex(body.data) }
      throw err
    }
    const env: CallEnv = { chainId: this.chainId, contract: body.to, from, value: body.value, txHash: hash }
    const abiCall = await target.binding.toAbi(call, env, this.viewEnv(target))
    // The contract's own ABI description, through the encoder the mock charges with: the same bytes on both backends.
    const abiItems = target.contract.solidityAbi
    const data =
      abiItems === undefined
        ? encodeFunctionData({ abi: target.abi, functionName: abiCall.functionName, args: abiCall.args })
        : toHex(encodeAbiCall(abiItems, abiCall))
    return { ...base, data, call, functionName: abiCall.functionName, env }
  }

  private async submit(p: Pending): Promise<void> {
    const { body } = p.tx
    try {
      p.ethHash = (await this.rpc('eth_sendTransaction', [
        {
          from: p.from,
          to: body.to,
          value: toHex(body.value),
          gas: toHex(body.gasLimit),
          gasPrice: toHex(body.gasPrice),
          nonce: toHex(body.nonce),
          data: p.data,
        },
      ])) as Hex
    } catch (err) {
      this.forget(p)
      if (err instanceof AnvilError && err.code === 'ANVIL_RPC')
        throw new TxRejectedError('REJECTED_BY_NODE', `anvil refused the transaction: ${err.message}`, { field: 'tx', cause: err })
      throw err
    }
    this.submitted.set(p.ethHash, p)
  }

  private forget(p: Pending): void {
    this.pendingHashes.delete(p.hash)
    this.pendingBySender.get(p.from)?.delete(p.tx.body.nonce)
  }

  receipt(hash: TxHash): Promise<Receipt> {
    return this.book.wait(hash, this.pendingHashes.has(hash))
  }

  /** The receipt if the transaction is already mined. */
  receiptSync(hash: TxHash): Receipt | undefined {
    return this.book.receipts.get(hash)
  }

  /** Transactions sent and not mined yet (submitted to anvil, or held back by a delay fault). */
  pendingCount(): number {
    return this.submitted.size + this.held.length
  }

  // ---------------------------------------------------------------- mining

  /** Mines `n` blocks. */
  mine(n = 1): Promise<void> {
    assertInt('n', n, 0)
    return this.exclusive(async () => {
      for (let i = 0; i < n; i++) await this.mineBlock()
    })
  }

  /** Lets `seconds` pass, a block every blockTime seconds (idle stretches mined in one anvil_mine). */
  advance(seconds: number): Promise<void> {
    if (typeof seconds !== 'number' || !(seconds >= 0) || !Number.isFinite(seconds))
      throw new InvalidInputError('seconds', `expected a non-negative number, got ${seconds}`)
    const total = this.secondsCarry + seconds
    let blocks = Math.floor(total / this.blockTime)
    this.secondsCarry = total - blocks * this.blockTime
    return this.exclusive(async () => {
      while (blocks > 0) {
        if (!this.bus.hasBlockListeners && this.submitted.size === 0) {
          const next = this.held.reduce((m, p) => Math.min(m, p.eligibleHeight), Number.POSITIVE_INFINITY)
          const skip = Math.min(blocks, next - this.current.height - 1)
          if (skip > 1) {
            await this.rpc('anvil_mine', [toHex(skip)])
            this.current = { height: this.current.height + skip, timestamp: this.current.timestamp + skip * this.blockTime }
            blocks -= skip
            continue
          }
        }
        await this.mineBlock()
        blocks--
      }
    })
  }

  advanceTo(height: number): Promise<void> {
    assertInt('height', height, 0)
    if (height <= this.current.height) return Promise.resolve()
    return this.advance((height - this.current.height) * this.blockTime - this.secondsCarry)
  }

  /** Mines one block (inside `exclusive`): submits what became eligible, mines, then delivers receipts and events. */
  private async mineBlock(): Promise<void> {
    const height = this.current.height + 1
    const due = this.held.filter((p) => p.eligibleHeight <= height)
    if (due.length > 0) {
      this.held = this.held.filter((p) => p.eligibleHeight > height)
      for (const p of due) await this.submit(p)
    }
    await this.rpc('evm_mine', [])
    const block = (await this.rpc('eth_getBlockByNumber', [toHex(height), false])) as { timestamp: Hex; transactions: Hex[] } | null
    if (block === null) throw new AnvilError('ANVIL_RPC', `block ${height} missing after evm_mine`)
    this.current = { height, timestamp: Number(block.timestamp) }
    const mined: Receipt[] = []
    const blockEvents: L1Event[] = []
    for (const ethHash of block.transactions) {
      const p = this.submitted.get(ethHash)
      if (p === undefined) continue
      this.submitted.delete(ethHash)
      this.forget(p)
      const receipt = await buildReceipt((m, a) => this.rpc(m, a), this.contracts, p, ethHash, height, this.current.timestamp)
      this.ethHashes.set(p.hash, ethHash)
      this.book.mined(receipt)
      mined.push(receipt)
      blockEvents.push(...receipt.events)
    }
    for (const r of mined) this.book.notify(r.txHash)
    this.bus.deliver(blockEvents)
    this.bus.blockMined(this.head())
  }

  private drop(hash: TxHash, error: L2Error): void {
    this.book.drop(hash, error)
  }

  /** anvil died: every transaction still waiting for a receipt fails with the cause. */
  private failAll(): void {
    this.book.failAll(this.stopped ? new AnvilError('ANVIL_STOPPED', 'the EVM backend was stopped while transactions were pending') : diedError(this.node))
  }
}

export interface EvmSnapshot {
  readonly id: Hex
  readonly head: Head
  readonly carry: number
  readonly logLength: number
  readonly receipts: number
  readonly dropped: number
  readonly contracts: number
}


/** Deletes the entries added after the first `keep` (Maps iterate in insertion order). */
function trimMap<K, V>(map: Map<K, V>, keep: number): void {
  let i = 0
  for (const k of [...map.keys()]) if (i++ >= keep) map.delete(k)
}
