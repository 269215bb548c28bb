/**
 * Where a port's gas goes, for the mock's interpretation model (EVM_STEP in
 * @l2bench/l1-mock's gas.ts). Each parity operation runs on anvil with step
 * tracing; every opcode step's gas is attributed either to a priced operation
 * (SLOAD, SSTORE, CALL, STATICCALL, KECCAK256, LOG*: the mock prices those
 * exactly) or to interpretation, and interpretation further to the Solidity
 * function whose source the step maps to (solc's source map). The same
 * operation on the mock gives its EVM_STEP units (calls, decoded ABI words,
 * slot accesses, signatures, transfers, digest amounts); `fitSteps` solves
 * the per-unit costs of the units not fixed by least squares.
 */
import { createRequire } from 'node:module'
import { type EVM_STEP, MockL1, type Receipt } from '@l2bench/l1-mock'
import { type Chain, evmChain, mockChain } from '../chain.ts'
import type { EvmL1 } from '../evm.ts'
import { rpcCall } from '../rpc.ts'
import { SOLC_SETTINGS, packageSources } from '../solc.ts'
import type { ParityScenario } from './index.ts'

const PRICED = new Set(['SLOAD', 'SSTORE', 'CALL', 'STATICCALL', 'KECCAK256', 'LOG0', 'LOG1', 'LOG2', 'LOG3', 'LOG4'])

export type StepUnit = keyof typeof EVM_STEP
export const STEP_UNITS: readonly StepUnit[] = ['dispatch', 'abiWord', 'slot', 'signature', 'transfer', 'codecAmount']

/** The mock's breakdown labels of each unit's charges. */
const UNIT_OF_LABEL: Record<string, StepUnit> = {
  'evm.dispatch': 'dispatch',
  'evm.abiDecode': 'abiWord',
  'evm.storage': 'slot',
  'evm.signature': 'signature',
  'evm.transfer': 'transfer',
}

export interface ProfileRow {
  design: string
  operation: string
  /** The EVM's execution gas (receipt less the 21,000 base and the calldata). */
  execution: number
  /** The part of `execution` spent outside the priced operations. */
  interpretation: number
  /** Interpretation by Solidity function (self gas), largest first. */
  byFunction: Array<[string, number]>
  /** The mock's EVM_STEP units for the same operation (charges divided by the unit's cost). */
  units: Record<StepUnit, number>
  /** The mock's modelled interpretation gas (its evmStep charges). */
  modelled: number
}

interface SourceMaps {
  functions: Array<{ file: number; start: number; end: number; name: string }>
  files: string[]
  byContract: Map<string, { pcIndex: Map<number, number>; entries: Array<{ s: number; l: number; f: number }> }>
}

/** Compiles the package's sources with source maps and ASTs (not cached: a diagnostic). */
function sourceMaps(): SourceMaps {
  const solc = createRequire(import.meta.url)('solc') as { compile(input: string): string }
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(Object.entries(packageSources()).map(([n, content]) => [n, { content }])),
    settings: { ...SOLC_SETTINGS, outputSelection: { '*': { '*': ['evm.deployedBytecode.object', 'evm.deployedBytecode.sourceMap'], '': ['ast'] } } },
  }
  // biome-ignore lint/suspicious/noExplicitAny: solc's JSON output
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as any
  const files: string[] = []
  const functions: SourceMaps['functions'] = []
  const walk = (n: unknown, file: number, ctx: string): void => {
    if (typeof n !== 'object' || n === null) return
    const node = n as { nodeType?: string; name?: string; kind?: string; src?: string }
    let c = ctx
    if (node.nodeType === 'ContractDefinition') c = node.name ?? ctx
    if (node.nodeType === 'FunctionDefinition' && node.src !== undefined) {
      const [s, l] = node.src.split(':').map(Number) as [number, number]
      functions.push({ file, start: s, end: s + l, name: `${c}.${node.name || node.kind}` })
    }
    for (const v of Object.values(n)) {
      if (Array.isArray(v)) for (const x of v) walk(x, file, c)
      else walk(v, file, c)
    }
  }
  for (const [name, s] of Object.entries(out.sources as Record<string, { id: number; ast: unknown }>)) {
    files[s.id] = name
    walk(s.ast, s.id, '')
  }
  const byContract: SourceMaps['byContract'] = new Map()
  for (const contracts of Object.values(out.contracts as Record<string, Record<string, { evm: { deployedBytecode: { object: string; sourceMap: string } } }>>))
    for (const [name, c] of Object.entries(contracts)) {
      const code = Buffer.from(c.evm.deployedBytecode.object, 'hex')
      const pcIndex = new Map<number, number>()
      for (let pc = 0, i = 0; pc < code.length; i++) {
        pcIndex.set(pc, i)
        const op = code[pc] as number
        pc += 1 + (op >= 0x60 && op <= 0x7f ? op - 0x5f : 0)
      }
      const entries: Array<{ s: number; l: number; f: number }> = []
      let prev = { s: 0, l: 0, f: 0 }
      for (const e of c.evm.deployedBytecode.sourceMap.split(';')) {
        const p = e.split(':')
        const cur = { s: p[0] ? Number(p[0]) : prev.s, l: p[1] ? Number(p[1]) : prev.l, f: p[2] ? Number(p[2]) : prev.f }
        entries.push(cur)
        prev = cur
      }
      byContract.set(name, { pcIndex, entries })
    }
  return { functions, files, byContract }
}

function functionAt(maps: SourceMaps, f: number, s: number, l: number): string {
  let best: SourceMaps['functions'][number] | undefined
  for (const fn of maps.functions)
    if (fn.file === f && fn.start <= s && s + l <= fn.end && (best === undefined || fn.end - fn.start < best.end - best.start)) best = fn
  if (best !== undefined) return best.name
  return f < 0 ? '(compiler: dispatch, ABI decoding)' : `(${maps.files[f]}: outside functions)`
}

interface StructLog {
  op: string
  pc: number
  gas: number
  gasCost: number
  depth: number
}

async function interpretation(evm: EvmL1, r: Receipt, maps: SourceMaps, contract: string): Promise<{ interp: number; byFunction: Map<string, number> }> {
  const rpc = (m: string, p: unknown[]) => rpcCall(evm.node, m, p)
  const block = (await rpc('eth_getBlockByNumber', [`0x${r.height.toString(16)}`, false])) as { transactions: string[] }
  const trace = (await rpc('debug_traceTransaction', [block.transactions[0], { disableStorage: true, disableMemory: true, disableStack: true }])) as {
    structLogs: StructLog[]
  }
  const logs = trace.structLogs
  if (logs.length === 0) throw new Error('no opcode trace: start anvil with stepsTracing')
  const m = maps.byContract.get(contract)
  const byFunction = new Map<string, number>()
  let interp = 0
  for (let i = 0; i < logs.length; i++) {
    const l = logs[i] as StructLog
    if (l.depth !== 1 || PRICED.has(l.op)) continue
    let j = i + 1
    while (j < logs.length && (logs[j] as StructLog).depth > l.depth) j++
    const cost = j < logs.length ? l.gas - (logs[j] as StructLog).gas : l.gasCost
    interp += cost
    const e = m?.entries[m.pcIndex.get(l.pc) ?? -1]
    const fn = e === undefined ? '(unmapped)' : functionAt(maps, e.f, e.s, e.l)
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + cost)
  }
  return { interp, byFunction }
}

async function record(s: ParityScenario, chain: Chain): Promise<Array<[string, Receipt]>> {
  const out: Array<[string, Receipt]> = []
  await s.run(chain, (op, r) => {
    out.push([op, r])
  })
  return out
}

/**
 * Profiles every operation of `scenarios` (`contracts`: the Solidity contract
 * each scenario calls). `evm` must run with step tracing.
 */
export async function profileParity(
  scenarios: readonly ParityScenario[],
  contracts: readonly string[],
  evm: EvmL1,
  steps: typeof EVM_STEP,
): Promise<ProfileRow[]> {
  const maps = sourceMaps()
  const rows: ProfileRow[] = []
  for (const [k, s] of scenarios.entries()) {
    const mock = new Map(await record(s, mockChain(new MockL1())))
    for (const [operation, r] of await record(s, evmChain(evm))) {
      const m = mock.get(operation)
      if (m === undefined) continue
      const { interp, byFunction } = await interpretation(evm, r, maps, contracts[k] as string)
      const units = Object.fromEntries(STEP_UNITS.map((u) => [u, 0])) as Record<StepUnit, number>
      let modelled = 0
      for (const c of m.breakdown) {
        if (c.op !== 'evmStep') continue
        modelled += c.gas
        const unit = UNIT_OF_LABEL[c.label] ?? (c.label.endsWith('.encode') ? 'codecAmount' : undefined)
        if (unit !== undefined && steps[unit] > 0) units[unit] += c.gas / steps[unit]
      }
      const execution = r.breakdown.filter((c) => c.op === 'evm').reduce((t, c) => t + c.gas, 0)
      rows.push({ design: s.design, operation, execution, interpretation: interp, byFunction: [...byFunction].sort((a, b) => b[1] - a[1]), units, modelled })
    }
  }
  return rows
}

/**
 * Least-squares per-unit costs of the units not in `fixed`, non-negative
 * (a unit whose cost comes out negative is dropped and the rest refitted),
 * from the measured interpretation of `rows`.
 */
export function fitSteps(rows: readonly ProfileRow[], fixed: Partial<Record<StepUnit, number>>): Record<StepUnit, number> {
  const ys = rows.map((r) => r.interpretation - STEP_UNITS.reduce((t, u) => t + (fixed[u] ?? 0) * r.units[u], 0))
  let free = STEP_UNITS.filter((u) => fixed[u] === undefined)
  const solve = (us: readonly StepUnit[]): Map<StepUnit, number> => {
    const n = us.length
    const a = Array.from({ length: n }, () => new Array<number>(n + 1).fill(0))
    rows.forEach((r, k) => {
      for (let i = 0; i < n; i++) {
        const xi = r.units[us[i] as StepUnit]
        ;(a[i] as number[])[n] = ((a[i] as number[])[n] as number) + xi * (ys[k] as number)
        for (let j = 0; j < n; j++) (a[i] as number[])[j] = ((a[i] as number[])[j] as number) + xi * r.units[us[j] as StepUnit]
      }
    })
    for (let c = 0; c < n; c++) {
      let p = c
      for (let r = c + 1; r < n; r++) if (Math.abs((a[r] as number[])[c] as number) > Math.abs((a[p] as number[])[c] as number)) p = r
      ;[a[c], a[p]] = [a[p] as number[], a[c] as number[]]
      for (let r = 0; r < n; r++) {
        if (r === c) continue
        const f = ((a[r] as number[])[c] as number) / ((a[c] as number[])[c] as number)
        for (let k = c; k <= n; k++) (a[r] as number[])[k] = ((a[r] as number[])[k] as number) - f * ((a[c] as number[])[k] as number)
      }
    }
    return new Map(us.map((u, i) => [u, ((a[i] as number[])[n] as number) / ((a[i] as number[])[i] as number)]))
  }
  let w = solve(free)
  while ([...w.values()].some((v) => v < 0 || !Number.isFinite(v))) {
    const worst = free.reduce((m, u) => ((w.get(u) ?? 0) < (w.get(m) ?? 0) || !Number.isFinite(w.get(u) ?? 0) ? u : m))
    free = free.filter((u) => u !== worst)
    w = solve(free)
  }
  return Object.fromEntries(STEP_UNITS.map((u) => [u, Math.round(fixed[u] ?? w.get(u) ?? 0)])) as Record<StepUnit, number>
}

export function profileMarkdown(rows: readonly ProfileRow[], fit: Record<StepUnit, number>, current: typeof EVM_STEP): string {
  const out: string[] = []
  out.push('| design | operation | execution | interpretation (EVM) | modelled (mock) | units (' + STEP_UNITS.join(', ') + ') |')
  out.push('|---|---|---:|---:|---:|---|')
  for (const r of rows)
    out.push(`| ${r.design} | ${r.operation} | ${r.execution} | ${r.interpretation} | ${r.modelled} | ${STEP_UNITS.map((u) => r.units[u]).join(', ')} |`)
  out.push('')
  out.push(`Current EVM_STEP: ${STEP_UNITS.map((u) => `${u} ${current[u]}`).join(', ')}.`)
  out.push(`Least-squares fit: ${STEP_UNITS.map((u) => `${u} ${fit[u]}`).join(', ')}.`)
  out.push('')
  out.push('Interpretation by Solidity function (self gas):')
  for (const r of rows) out.push(`- ${r.design} / ${r.operation}: ${r.byFunction.slice(0, 6).map(([f, g]) => `${f} ${g}`).join(', ')}`)
  return `${out.join('\n')}\n`
}
