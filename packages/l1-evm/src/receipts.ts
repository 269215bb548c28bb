/**
 * Receipts of the EVM backend: what anvil's receipt and call trace say about
 * a mined transaction, turned into the seam's `Receipt` (gas, the ABI
 * calldata size, the events decoded into the contract class's shapes, the
 * method's result, a revert's reason, code and field).
 */
import type { Address } from '@l2bench/core'
import { type Contract, GAS_SCHEDULE, type GasCharge, type L1Event, type Receipt, type SignedTx, type TxHash, calldataGas } from '@l2bench/l1-mock'
import { type Abi, type Hex, decodeErrorResult, decodeEventLog, decodeFunctionResult } from 'viem'
import { type CallEnv, type ContractBinding, type DecodedLog, lower } from './binding.ts'

/** A contract deployed through its binding. */
export interface Deployed {
  contract: Contract
  binding: ContractBinding
  abi: Abi
}

/** A transaction this client sent, from admission until its receipt. */
export interface Pending {
  tx: SignedTx
  hash: TxHash
  from: Address
  /** The transaction as anvil gets it. */
  data: Hex
  eligibleHeight: number
  /** For a contract call: what to decode the result with. */
  target: Deployed | undefined
  call: { type: string } | undefined
  functionName: string | undefined
  env: CallEnv | undefined
  ethHash?: Hex
}

export interface EthReceipt {
  status: Hex
  gasUsed: Hex
  blockNumber: Hex
  logs: Array<{ address: Hex; topics: Hex[]; data: Hex; logIndex: Hex }>
  contractAddress: Hex | null
}

/**
 * One frame of anvil's `callTracer` (debug_traceTransaction): the
 * transaction's own call at the top, the calls it made in `calls`. A
 * frame's `gasUsed` is what ran inside it (for the top frame, the whole
 * transaction's gas, intrinsic part included).
 */
export interface CallFrame {
  type?: string
  from?: Hex
  to?: Hex
  input?: Hex
  output?: Hex
  error?: string
  gas?: Hex
  gasUsed?: Hex
  calls?: CallFrame[]
}

export type Rpc = (method: string, params: unknown[]) => Promise<unknown>

/** The call trace of a mined transaction (anvil's callTracer). */
export function traceCall(rpc: Rpc, ethHash: Hex): Promise<CallFrame> {
  return rpc('debug_traceTransaction', [ethHash, { tracer: 'callTracer' }]) as Promise<CallFrame>
}

const REJECTED_ABI = [
  {
    type: 'error',
    name: 'Rejected',
    inputs: [
      { name: 'code', type: 'string' },
      { name: 'field', type: 'string' },
    ],
  },
] as const satisfies Abi

/** The seam's receipt of `p`, mined as `ethHash` in block `height` at `timestamp`. */
export async function buildReceipt(
  rpc: Rpc,
  contracts: ReadonlyMap<Address, Deployed>,
  p: Pending,
  ethHash: Hex,
  height: number,
  timestamp: number,
): Promise<Receipt> {
  const r = (await rpc('eth_getTransactionReceipt', [ethHash])) as EthReceipt
  const { body } = p.tx
  const gasUsed = Number(BigInt(r.gasUsed))
  const ok = r.status === '0x1'
  const events: L1Event[] = []
  let result: unknown
  let revert: { reason: string; code: string; field?: string } | undefined
  if (ok) {
    for (const l of r.logs) {
      const d = contracts.get(lower(l.address))
      if (d === undefined) continue
      const e = decodeEventLog({ abi: d.abi, topics: l.topics as [Hex], data: l.data })
      const decoded: DecodedLog = { eventName: String(e.eventName), args: e.args as unknown as Record<string, unknown>, blockNumber: height }
      const ts = d.binding.event(decoded)
      if (ts !== undefined)
        events.push({ address: d.contract.address, name: ts.name, data: Object.freeze(ts.data), height, txHash: p.hash, logIndex: Number(l.logIndex) })
    }
    if (p.target?.binding.result !== undefined && p.functionName !== undefined && p.call !== undefined && p.env !== undefined) {
      const trace = await traceCall(rpc, ethHash)
      const output = decodeFunctionResult({ abi: p.target.abi, functionName: p.functionName, data: trace.output ?? '0x' })
      result = p.target.binding.result(p.functionName, output, p.call, p.env, p.target.contract)
    }
  } else {
    revert = decodeRevert(await traceCall(rpc, ethHash), gasUsed, body.gasLimit, p.target?.contract.name)
  }
  const fee = BigInt(gasUsed) * body.gasPrice
  return {
    txHash: p.hash,
    from: p.from,
    to: body.to,
    status: ok ? 'success' : 'reverted',
    height,
    timestamp,
    gasUsed,
    gasPrice: body.gasPrice,
    fee,
    calldataBytes: (p.data.length - 2) / 2,
    breakdown: evmBreakdown(p.data, gasUsed),
    events,
    ...(result === undefined ? {} : { result }),
    ...(revert === undefined
      ? {}
      : { revertReason: revert.reason, revertCode: revert.code, ...(revert.field === undefined ? {} : { revertField: revert.field }) }),
  }
}

/**
 * What a real EVM tells of a receipt's gas: the intrinsic part (base and
 * calldata, EIP-2028 prices) and the rest as one `evm` charge (no opcode
 * breakdown without a full trace).
 */
export function evmBreakdown(data: Hex, gasUsed: number): GasCharge[] {
  const bytes = Buffer.from(data.slice(2), 'hex')
  const calldata = calldataGas(bytes)
  let zero = 0
  for (const b of bytes) if (b === 0) zero++
  const charges: GasCharge[] = [{ op: 'txBase', label: 'tx', gas: GAS_SCHEDULE.txBase }]
  if (bytes.length > zero) charges.push({ op: 'calldataNonZeroByte', label: 'tx.calldata', gas: (bytes.length - zero) * GAS_SCHEDULE.calldataNonZeroByte })
  if (zero > 0) charges.push({ op: 'calldataZeroByte', label: 'tx.calldata', gas: zero * GAS_SCHEDULE.calldataZeroByte })
  const rest = gasUsed - GAS_SCHEDULE.txBase - calldata
  if (rest !== 0) charges.push({ op: 'evm', label: 'evm.execution', gas: rest })
  return charges
}

/** Reason, code and field of a reverted call, from its trace's output. */
export function decodeRevert(
  trace: CallFrame,
  gasUsed: number,
  gasLimit: bigint,
  contract: string | undefined,
): { reason: string; code: string; field?: string } {
  const data = trace.output ?? '0x'
  if (data.length > 2) {
    try {
      const e = decodeErrorResult({ abi: REJECTED_ABI, data })
      const [code, field] = e.args as readonly [string, string]
      const where = contract === undefined ? 'the contract' : `${contract} (Solidity)`
      return { reason: `${field === '' ? '' : `${field}: `}[${code}] rejected by ${where}`, code, ...(field === '' ? {} : { field }) }
    } catch {
      // not ours: Error(string), Panic(uint256) or raw bytes
    }
    try {
      const e = decodeErrorResult({ abi: [], data })
      if (e.errorName === 'Panic') return { reason: `panic ${String(e.args?.[0])}`, code: 'PANIC' }
      return { reason: String(e.args?.[0] ?? 'reverted'), code: 'REVERT' }
    } catch {
      return { reason: `reverted with ${data}`, code: 'REVERT' }
    }
  }
  if (BigInt(gasUsed) >= gasLimit || /out of gas/i.test(trace.error ?? ''))
    return { reason: `out of gas: limit ${gasLimit}`, code: 'OUT_OF_GAS', field: 'gasLimit' }
  return { reason: `malformed calldata or plain revert${trace.error === undefined ? '' : ` (${trace.error})`}`, code: 'REVERT' }
}
