/**
 * MeteredEvmL1: the harness's chain on a real EVM (`--l1 evm`): an EvmL1
 * (@l2bench/l1-evm: anvil from npm, the designs' contracts as their
 * Solidity ports) with the metering and conservation counters of MeteredL1,
 * so every design runs and is measured unchanged; gas figures are then
 * anvil's, not the mock's model. One node per design run (its own chain), so
 * all gas on it is that design's and the users' genesis balances are theirs.
 *
 * Conservation on a real node: the harness knows every account it funded and
 * every address its transactions went to (contracts included); the fees of
 * its transactions go to the block's coinbase, which it does not count, so
 * Σ those balances + fees paid = Σ minted, as on the mock.
 */
import type { Address, } from '@l2bench/core'
import type {
  Contract,
  EventFilter,
  Head,
  L1Event,
  Receipt,
  SignedTx,
  SubscribeOptions,
  TxHash,
  Unsubscribe,
} from '@l2bench/l1-mock'
import type { EvmL1 } from '@l2bench/l1-evm'
import { type BenchL1, type Phase, type SentTx, minedOf, sentTx } from './meter.ts'
import type { Scenario } from './scenario.ts'

export class MeteredEvmL1 implements BenchL1 {
  phase: Phase = 'setup'
  readonly sent: SentTx[] = []
  private minted = 0n
  private readonly accounts = new Set<Address>()

  private constructor(readonly evm: EvmL1) {}

  /** Starts a fresh anvil with the scenario's block time and gas limit (every port bound). */
  static async start(scenario: Scenario): Promise<MeteredEvmL1> {
    const { BINDINGS, EvmL1 } = await import('@l2bench/l1-evm')
    const evm = await EvmL1.start({ bindings: BINDINGS, blockTime: scenario.l1.blockTime, blockGasLimit: scenario.l1.blockGasLimit, autoMine: true })
    return new MeteredEvmL1(evm)
  }

  /** The node and version that produced the figures, for results.json. */
  static async describe(): Promise<string> {
    const { anvilVersion, solcVersion, DEFAULT_HARDFORK } = await import('@l2bench/l1-evm')
    return `anvil ${anvilVersion()} (hardfork ${DEFAULT_HARDFORK}), Solidity ports compiled by solc ${solcVersion()} (via-IR, 200 runs)`
  }

  stop(): Promise<void> {
    return this.evm.stop()
  }

  get chainId(): bigint {
    return this.evm.chainId
  }
  get blockTime(): number {
    return this.evm.blockTime
  }
  get blockGasLimit(): number {
    return this.evm.blockGasLimit
  }
  get autoMine(): boolean {
    return this.evm.autoMine
  }
  set autoMine(on: boolean) {
    this.evm.autoMine = on
  }

  head(): Head {
    return this.evm.head()
  }

  async send(tx: SignedTx): Promise<TxHash> {
    const hash = await this.evm.send(tx)
    this.accounts.add(tx.body.to)
    this.sent.push(sentTx(hash, this.phase, tx, this.contractAt(tx.body.to)))
    return hash
  }

  receipt(hash: TxHash): Promise<Receipt> {
    return this.evm.receipt(hash)
  }

  receiptSync(hash: TxHash): Receipt | undefined {
    return this.evm.receiptSync(hash)
  }

  pendingCount(): number {
    return this.evm.pendingCount()
  }

  read<T>(contract: Address, method: string, args: unknown[]): Promise<T> {
    return this.evm.read<T>(contract, method, args)
  }

  subscribe(filter: EventFilter, onEvent: (e: L1Event) => void, options?: SubscribeOptions): Unsubscribe {
    return this.evm.subscribe(filter, onEvent, options)
  }

  events(filter: EventFilter, fromHeight?: number): L1Event[] {
    return this.evm.events(filter, fromHeight)
  }

  onBlock(listener: (head: Head) => void): Unsubscribe {
    return this.evm.onBlock(listener)
  }

  balanceOf(address: Address): bigint {
    return this.evm.balanceOf(address)
  }

  nonceOf(address: Address): bigint {
    return this.evm.nonceOf(address)
  }

  contractAt(address: Address): Contract | undefined {
    return this.evm.contractAt(address)
  }

  mine(n = 1): Promise<void> {
    return this.evm.mine(n)
  }

  advanceTo(height: number): Promise<void> {
    return this.evm.advanceTo(height)
  }

  async deploy<C extends Contract>(contract: C): Promise<C> {
    const c = await this.evm.deploy(contract)
    this.accounts.add(c.address)
    return c
  }

  async mint(address: Address, amount: bigint): Promise<void> {
    await this.evm.mint(address, amount)
    this.minted += amount
    this.accounts.add(address)
  }

  minedReceipts(): { tx: SentTx; receipt: Receipt }[] {
    return minedOf(this.sent, (hash) => this.evm.receiptSync(hash))
  }

  totalMinted(): bigint {
    return this.minted
  }

  /** Fees of the harness's mined transactions (they went to the coinbase, which is not counted). */
  totalBurnt(): bigint {
    let fees = 0n
    for (const { receipt } of this.minedReceipts()) fees += receipt.fee
    return fees
  }

  /** Σ balances of every account the harness funded or sent to (contracts included). */
  totalBalances(): bigint {
    let sum = 0n
    for (const a of this.accounts) sum += this.evm.balanceOf(a)
    return sum
  }
}
