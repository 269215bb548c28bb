/**
 * Compiling the Solidity sources with solc-js (the `solc` npm package, pinned
 * in package.json), cached on disk by content hash.
 *
 * Settings: optimizer on, 200 runs; EVM version `osaka`, the hardfork anvil
 * runs (anvil.ts). The cache key is the sha256 of the compiler version, the
 * settings and every source's text, so a change to any of them recompiles and
 * nothing stale is ever served. Loading solc-js alone takes about two seconds,
 * so it is loaded only on a cache miss.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Abi, Hex } from 'viem'
import { DEFAULT_HARDFORK } from './anvil.ts'
import { SolcError } from './errors.ts'

export interface Artifact {
  contract: string
  abi: Abi
  bytecode: Hex
  /** Size of the runtime code in bytes (EIP-170 caps it at 24,576). */
  runtimeSize: number
}

export const SOLC_SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  viaIR: true,
  evmVersion: DEFAULT_HARDFORK,
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
} as const

const here = dirname(fileURLToPath(import.meta.url))
/** The package's Solidity sources. */
export const CONTRACTS_DIR = join(here, '..', 'contracts')
const CACHE_DIR = join(here, '..', '.cache', 'solc')

export function solcVersion(): string {
  return (createRequire(import.meta.url)('solc/package.json') as { version: string }).version
}

/** Every .sol file of the package's contracts/ folder, by file name. */
export function packageSources(): Record<string, string> {
  const out: Record<string, string> = {}
  for (const f of readdirSync(CONTRACTS_DIR).sort()) if (f.endsWith('.sol')) out[f] = readFileSync(join(CONTRACTS_DIR, f), 'utf8')
  return out
}

export function cacheKey(sources: Record<string, string>, extra: unknown = null): string {
  const h = createHash('sha256')
  h.update(JSON.stringify({ solc: solcVersion(), settings: SOLC_SETTINGS, extra }))
  for (const name of Object.keys(sources).sort()) h.update(`\0${name}\0${sources[name]}`)
  return h.digest('hex')
}

interface SolcOutput {
  errors?: Array<{ severity: string; formattedMessage: string }>
  contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>>
}

/** Compiles `sources` (file name → text); returns every contract by name. Cached by content hash. */
export function compile(sources: Record<string, string>): Record<string, Artifact> {
  const key = cacheKey(sources)
  const file = join(CACHE_DIR, `${key}.json`)
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, Artifact>
  } catch {
    // cache miss
  }
  const solc = createRequire(import.meta.url)('solc') as { compile(input: string): string }
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(Object.entries(sources).map(([name, content]) => [name, { content }])),
    settings: SOLC_SETTINGS,
  }
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0) throw new SolcError(`solc ${solcVersion()} failed:\n${errors.map((e) => e.formattedMessage).join('\n')}`)
  const out: Record<string, Artifact> = {}
  for (const byName of Object.values(output.contracts ?? {}))
    for (const [contract, c] of Object.entries(byName)) {
      if (c.evm.bytecode.object === '') continue // interfaces, abstract contracts
      out[contract] = { contract, abi: c.abi, bytecode: `0x${c.evm.bytecode.object}`, runtimeSize: c.evm.deployedBytecode.object.length / 2 }
    }
  mkdirSync(CACHE_DIR, { recursive: true })
  // Write then rename, so a concurrent reader never sees half a file.
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(out))
  renameSync(tmp, file)
  return out
}

/** The artifact of `contract` from the package's sources. */
export function artifact(contract: string): Artifact {
  const a = compile(packageSources())[contract]
  if (a === undefined) throw new SolcError(`no contract ${contract} in ${CONTRACTS_DIR}`)
  return a
}
