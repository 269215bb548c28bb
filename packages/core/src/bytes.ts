/** Byte helpers shared by every package (thin wrappers over @noble/hashes/utils). */
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { InvalidInputError } from './errors.ts'

export type Hex = `0x${string}`

export { concatBytes, utf8ToBytes }

export function toHex(bytes: Uint8Array): Hex {
  return `0x${bytesToHex(bytes)}`
}

export function fromHex(field: string, hex: string, length?: number): Uint8Array {
  if (typeof hex !== 'string' || !/^(0x)?([0-9a-fA-F]{2})*$/.test(hex))
    throw new InvalidInputError(field, 'expected an even-length hex string')
  const bytes = hexToBytes(hex.startsWith('0x') ? hex.slice(2) : hex)
  if (length !== undefined && bytes.length !== length)
    throw new InvalidInputError(field, `expected ${length} bytes, got ${bytes.length}`)
  return bytes
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number)
  return diff === 0
}

/** Big-endian unsigned bytes → bigint. */
export function bytesToBigint(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytesToHex(bytes)}`)
}

/** bigint → big-endian bytes of exactly `length` (throws if it does not fit). */
export function bigintToBytes(field: string, value: bigint, length: number): Uint8Array {
  if (value < 0n || value >= 1n << BigInt(8 * length))
    throw new InvalidInputError(field, `${value} does not fit in ${length} bytes`)
  return hexToBytes(value.toString(16).padStart(length * 2, '0'))
}
