/**
 * Executing one call on MockL1, apart from the chain around it (mempool,
 * mining, receipts: mock.ts). `execute` charges the transaction's base and
 * calldata gas (the ABI calldata of a contract's EVM port when it has one),
 * dispatches to the contract and turns a revert into an outcome; `Frame` is
 * the call's journal: gas charges, warm/cold storage and account access,
 * value moves, events and revert. Nothing reaches the chain until the chain
 * calls `frame.apply` for a successful call.
 */
import { type Address, DecodeError, L2Error, toHex } from '@l2bench/core'
import { abiDecodedWords, encodeAbiCall } from './abi.ts'
import type { AbiEnv as ContractAbiEnv, CallContext, Contract } from './contract.ts'
import { OutOfGasError, RevertError } from './errors.ts'
import { EVM_STEP, GAS_SCHEDULE, type GasOp, type ScheduleEntry, calldataFloorGas, sha256Gas } from './gas.ts'
import type { MockL1, SimulateResult } from './mock.ts'
import { NO_SLOTS, type SlotLayout, slotWords } from './slots.ts'
import type { TxHash } from './tx.ts'
import type { GasCharge, L1Event } from './types.ts'

/** What one execution produced before it is applied. */
export interface Outcome extends SimulateResult {
  frame: Frame
}

/** Executes a call against a journal; nothing is applied here. */
export function execute(
  l1: MockL1,
  from: Address,
  to: Address,
  value: bigint,
  data: Uint8Array,
  gasLimit: bigint,
  hash: TxHash,
  height: number,
): Outcome {
  const frame = new Frame(l1, from, to, value, gasLimit, hash, height)
  const contract = l1.contractAt(to)
  let call: { type: string } | undefined
  let decodeError: unknown
  if (contract !== undefined) {
    try {
      call = contract.decodeCall(data)
    } catch (cause) {
      decodeError = cause
    }
  }
  // What a real EVM transaction carries: the port's ABI encoding when the contract has one.
  const abi = contract !== undefined && call !== undefined ? abiCalldata(contract, call, { chainId: l1.chainId, contract: to, from, txHash: hash }) : undefined
  const calldata = abi?.data ?? data
  frame.calldataBytes = calldata.length
  let floor = 0
  try {
    frame.chargeGas('txBase', 'tx', GAS_SCHEDULE.txBase)
    let zero = 0
    for (const b of calldata) if (b === 0) zero++
    if (calldata.length - zero > 0) frame.chargeGas('calldataNonZeroByte', 'tx.calldata', (calldata.length - zero) * GAS_SCHEDULE.calldataNonZeroByte)
    if (zero > 0) frame.chargeGas('calldataZeroByte', 'tx.calldata', zero * GAS_SCHEDULE.calldataZeroByte)
    floor = calldataFloorGas(calldata)
    if (BigInt(floor) > gasLimit) throw new OutOfGasError(gasLimit, BigInt(floor))
    frame.moveValue(from, to, value, 'tx.value')
    let result: unknown
    if (contract !== undefined) {
      if (call === undefined) {
        const field = decodeError instanceof DecodeError ? decodeError.field : undefined
        throw new RevertError(`malformed calldata: ${(decodeError as Error).message}`, { field, cause: decodeError })
      }
      frame.step('evm.dispatch', EVM_STEP.dispatch)
      frame.step('evm.abiDecode', EVM_STEP.abiWord * (abi?.decodedWords ?? 0))
      result = contract.execute(frame, call)
    }
    frame.settleRefund()
    frame.applyFloor(floor)
    return { status: 'success', gasUsed: frame.gasUsed, gasNeeded: frame.gasNeeded, breakdown: frame.charges, result, frame }
  } catch (err) {
    const oog = err instanceof OutOfGasError
    if (!oog) frame.applyFloor(floor)
    const gasUsed = oog ? Number(gasLimit) : frame.gasUsed
    const reason = err instanceof L2Error ? err.message : `contract error: ${(err as Error)?.message ?? String(err)}`
    const field = err instanceof L2Error ? err.field : undefined
    return {
      status: 'reverted',
      gasUsed,
      gasNeeded: Math.max(gasUsed, frame.gasNeeded),
      breakdown: frame.charges,
      revertReason: reason,
      revertCode: err instanceof L2Error ? err.code : 'CONTRACT_ERROR',
      ...(field === undefined ? {} : { revertField: field }),
      frame,
    }
  }
}

/** The ABI calldata of `call` when the contract has an EVM port (see Contract.toAbiCall), and the words its port decodes. */
function abiCalldata(
  contract: Contract,
  call: { type: string },
  env: Omit<ContractAbiEnv, 'compactSignature'>,
): { data: Uint8Array; decodedWords: number } | undefined {
  if (contract.toAbiCall === undefined || contract.solidityAbi === undefined) return undefined
  const abiCall = contract.toAbiCall(call, { ...env, compactSignature: placeholderCompact })
  if (abiCall === undefined) return undefined
  const data = encodeAbiCall(contract.solidityAbi, abiCall)
  return { data, decodedWords: abiDecodedWords(contract.solidityAbi, abiCall, data.length) - (contract.lazyAbiWords?.(abiCall) ?? 0) }
}

/** r and (1 << 255 | s): the bytes an EIP-2098 signature costs, with the parity the mock does not compute. */
function placeholderCompact(signature: Uint8Array): { r: `0x${string}`; vs: `0x${string}` } {
  const sig = signature instanceof Uint8Array && signature.length === 64 ? signature : new Uint8Array(64)
  const vs = sig.slice(32)
  vs[0] = (vs[0] as number) | 0x80
  return { r: toHex(sig.subarray(0, 32)), vs: toHex(vs) }
}

const PRECOMPILE_LIMIT = 0x100n

/** Addresses 0x01…0xff: the precompiles, always warm (EIP-2929). */
function isPrecompile(a: Address): boolean {
  return BigInt(a) < PRECOMPILE_LIMIT
}

/** The journal of one call: gas charges, balance and storage writes, events. */
export class Frame implements CallContext {
  readonly chainId: bigint
  readonly timestamp: number
  readonly charges: GasCharge[] = []
  gasUsed = 0
  /** The highest gasUsed reached before refunds. */
  gasNeeded = 0
  calldataBytes = 0
  private refund = 0
  private readonly balances = new Map<Address, bigint>()
  private readonly writes = new Map<string, unknown>()
  /** Slots accessed in this transaction (`key#i`). */
  private readonly warmSlots = new Set<string>()
  /** Accounts accessed in this transaction (the sender and the contract from the start, EIP-2929). */
  private readonly warmAccounts = new Set<Address>()
  private readonly pendingEvents: Omit<L1Event, 'logIndex'>[] = []

  constructor(
    private readonly l1: MockL1,
    readonly sender: Address,
    readonly self: Address,
    readonly value: bigint,
    private readonly gasLimit: bigint,
    readonly txHash: TxHash,
    readonly height: number,
  ) {
    this.chainId = l1.chainId
    this.timestamp = l1.genesisTimestamp + height * l1.blockTime
    this.warmAccounts.add(sender)
    this.warmAccounts.add(self)
  }

  chargeGas(op: GasOp, label: string, gas: number): void {
    this.gasUsed += gas
    if (this.gasUsed > this.gasNeeded) this.gasNeeded = this.gasUsed
    const last = this.charges[this.charges.length - 1]
    if (last !== undefined && last.op === op && last.label === label) last.gas += gas
    else this.charges.push({ op, label, gas })
    if (BigInt(this.gasUsed) > this.gasLimit) throw new OutOfGasError(this.gasLimit, BigInt(this.gasUsed))
  }

  charge(op: ScheduleEntry, label: string, count = 1): void {
    this.chargeGas(op, label, GAS_SCHEDULE[op] * count)
  }

  step(label: string, gas: number): void {
    if (gas > 0) this.chargeGas('evmStep', label, gas)
  }

  /** EIP-3529: the refund counter, capped at a fifth of the gas used, comes off at the end of a successful call. */
  settleRefund(): void {
    const refund = Math.min(this.refund, Math.floor(this.gasUsed / GAS_SCHEDULE.refundQuotient))
    if (refund > 0) {
      this.gasUsed -= refund
      this.charges.push({ op: 'storageRefund', label: 'tx.refund', gas: -refund })
    }
  }

  /** EIP-7623: a transaction pays at least the calldata floor. */
  applyFloor(floor: number): void {
    if (this.gasUsed < floor) {
      this.charges.push({ op: 'calldataFloor', label: 'tx.calldataFloor', gas: floor - this.gasUsed })
      this.gasUsed = floor
      if (this.gasUsed > this.gasNeeded) this.gasNeeded = this.gasUsed
    }
  }

  balanceOf(address: Address): bigint {
    return this.balances.get(address) ?? this.l1.balanceOf(address)
  }

  moveValue(from: Address, to: Address, amount: bigint, _label: string): void {
    if (amount === 0n) return
    const have = this.balanceOf(from)
    if (have < amount) throw new RevertError(`insufficient balance: ${from} has ${have}, needs ${amount}`, { field: 'value' })
    this.balances.set(from, have - amount)
    this.balances.set(to, this.balanceOf(to) + amount)
  }

  /** Cold or warm access to slot `i` of `key`. */
  private accessSlot(key: string, i: number, label: string): void {
    this.step('evm.storage', EVM_STEP.slot)
    const id = `${key}#${i}`
    if (this.warmSlots.has(id)) this.charge('storageWarmRead', label)
    else {
      this.warmSlots.add(id)
      this.charge('storageColdRead', label)
    }
  }

  sload<T>(key: string, label = 'sload', layout?: SlotLayout<T> | number, only?: readonly number[]): T | undefined {
    const value = this.peek<T>(key)
    if (only !== undefined) for (const i of only) this.accessSlot(key, i, label)
    else {
      const n =
        layout === NO_SLOTS ? 0 : typeof layout === 'function' ? Math.max(1, slotWords(value, layout as SlotLayout<never>).length) : (layout ?? 1)
      for (let i = 0; i < n; i++) this.accessSlot(key, i, label)
    }
    return value
  }

  private peek<T>(key: string): T | undefined {
    if (this.writes.has(key)) return this.writes.get(key) as T | undefined
    return this.l1.storageOf(this.self).get(key) as T | undefined
  }

  sstore<T>(key: string, value: T | undefined, label = 'sstore', layout?: SlotLayout<T> | number): void {
    const l = layout as SlotLayout<never> | number | undefined
    const original = slotWords(this.l1.storageOf(this.self).get(key), l)
    const current = slotWords(this.peek(key), l)
    const next = slotWords(value, l)
    const n = Math.max(original.length, current.length, next.length, typeof layout === 'function' ? 0 : 1)
    for (let i = 0; i < n; i++) {
      const o = original[i] ?? ''
      const c = current[i] ?? ''
      const v = next[i] ?? ''
      // A layout's unchanged slots are not written (Solidity writes the fields a method assigns).
      if (typeof layout === 'function' && v === c) continue
      const id = `${key}#${i}`
      this.step('evm.storage', EVM_STEP.slot)
      if (!this.warmSlots.has(id)) {
        this.warmSlots.add(id)
        this.charge('storageColdRead', label)
      }
      if (v === c) this.charge('storageDirty', label)
      else if (c === o) {
        if (o === '') this.charge('storageNew', label)
        else {
          this.charge('storageUpdate', label)
          if (v === '') this.refund += GAS_SCHEDULE.storageClearRefund
        }
      } else {
        this.charge('storageDirty', label)
        if (o !== '') {
          if (c === '') this.refund -= GAS_SCHEDULE.storageClearRefund
          else if (v === '') this.refund += GAS_SCHEDULE.storageClearRefund
        }
        if (v === o) this.refund += o === '' ? GAS_SCHEDULE.storageNew - GAS_SCHEDULE.storageDirty : GAS_SCHEDULE.storageUpdate - GAS_SCHEDULE.storageDirty
      }
    }
    this.writes.set(key, value)
  }

  transfer(to: Address, amount: bigint, label = 'transfer'): void {
    if (typeof amount !== 'bigint' || amount < 0n) throw new RevertError(`bad transfer amount ${amount}`, { field: 'amount' })
    if (amount === 0n) return
    this.step('evm.transfer', EVM_STEP.transfer)
    if (this.warmAccounts.has(to) || isPrecompile(to)) this.charge('accountWarmAccess', label)
    else {
      this.warmAccounts.add(to)
      this.charge('accountColdAccess', label)
    }
    this.chargeGas('valueTransfer', label, GAS_SCHEDULE.valueTransfer - GAS_SCHEDULE.callStipend)
    if (this.isEmptyAccount(to)) this.charge('newAccount', label)
    this.moveValue(this.self, to, amount, label)
  }

  /** EIP-161: no balance, no nonce, no code. */
  private isEmptyAccount(a: Address): boolean {
    if (this.balanceOf(a) !== 0n) return false
    return this.l1.accountState(a).nonce === 0n && this.l1.contractAt(a) === undefined
  }

  emit(name: string, data: Record<string, unknown>, options: { topics?: number; dataBytes?: number } = {}): void {
    const topics = options.topics ?? 1
    const bytes = options.dataBytes ?? 32 * Object.keys(data).length
    this.chargeGas('logBase', `log.${name}`, GAS_SCHEDULE.logBase + GAS_SCHEDULE.logTopic * topics + GAS_SCHEDULE.logDataByte * bytes)
    this.pendingEvents.push({ address: this.self, name, data: Object.freeze({ ...data }), height: this.height, txHash: this.txHash })
  }

  verifySignature(label: string, signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean {
    this.step('evm.signature', EVM_STEP.signature)
    this.chargeGas('sha256Base', label, sha256Gas(digest.length))
    this.chargeGas('ecrecover', label, GAS_SCHEDULE.precompileCall + GAS_SCHEDULE.ecrecover)
    if (!(signature instanceof Uint8Array) || !(publicKey instanceof Uint8Array) || digest.length !== 32) return false
    try {
      return this.l1.verifier.verify(signature, digest, publicKey)
    } catch {
      return false
    }
  }

  revert(reason: string, field?: string, code?: string): never {
    throw new RevertError(reason, { field, ...(code === undefined ? {} : { code }) })
  }

  /** Applies the journal to the chain; returns the events with their log indices. */
  apply(logOffset: number): L1Event[] {
    for (const [address, balance] of this.balances) this.l1.account(address).balance = balance
    const store = this.l1.storageOf(this.self)
    for (const [key, value] of this.writes) {
      if (value === undefined) store.delete(key)
      else store.set(key, value)
    }
    return this.pendingEvents.map((e, i) => ({ ...e, logIndex: logOffset + i }))
  }
}