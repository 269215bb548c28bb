/**
 * Ethereum-style addresses: the last 20 bytes of keccak256 of the uncompressed
 * public key (without its 0x04 prefix), written as lowercase 0x-hex. Using the
 * EVM's derivation means a real EVM backend can be added without changing any
 * address the project hands out.
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { InvalidInputError, describe } from './errors.ts'

export type Address = `0x${string}`

const ADDRESS_RE = /^0x[0-9a-f]{40}$/

export const ZERO_ADDRESS: Address = `0x${'00'.repeat(20)}`

export function isAddress(value: unknown): value is Address {
  return typeof value === 'string' && ADDRESS_RE.test(value)
}

/** Validates (and lowercases) an address; throws InvalidInputError naming `field`. */
export function toAddress(field: string, value: unknown): Address {
  if (typeof value === 'string') {
    const lower = value.toLowerCase()
    if (ADDRESS_RE.test(lower)) return lower as Address
  }
  throw new InvalidInputError(field, `expected a 0x-prefixed 20-byte hex address, got ${describe(value)}`)
}

export function addressToBytes(field: string, value: unknown): Uint8Array {
  if (!isAddress(value)) throw new InvalidInputError(field, `expected a lowercase 0x address, got ${describe(value)}`)
  return hexToBytes(value.slice(2))
}

export function addressFromBytes(bytes: Uint8Array): Address {
  return `0x${bytesToHex(bytes)}`
}
