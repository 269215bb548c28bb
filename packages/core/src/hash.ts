/**
 * Domain-separated hashing. Every digest the project signs or commits to is
 * tagged with a domain string, so a signature made for one purpose (a channel
 * state, a voucher, an L1 transaction) can never be replayed as another.
 *
 * - `taggedHash(tag, ...parts)`: BIP-340 style sha256(sha256(tag) ‖ sha256(tag) ‖ parts),
 *   the tag prefix precomputed once per tag.
 * - `keccakTagged(tag, ...parts)`: keccak256(keccak256(tag) ‖ parts), the shape an EVM
 *   contract computes cheaply (the planned real-chain backend).
 */
import { keccak_256 } from '@noble/hashes/sha3.js'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { assertBytes, assertString } from './assert.ts'

export function sha256(data: Uint8Array): Uint8Array {
  assertBytes('data', data)
  return nobleSha256(data)
}

export function keccak256(data: Uint8Array): Uint8Array {
  assertBytes('data', data)
  return keccak_256(data)
}

type HashState = ReturnType<typeof nobleSha256.create>
const sha256Prefixes = new Map<string, HashState>()
const keccakPrefixes = new Map<string, Uint8Array>()

export function taggedHash(tag: string, ...parts: Uint8Array[]): Uint8Array {
  checkParts(tag, parts)
  let prefix = sha256Prefixes.get(tag)
  if (prefix === undefined) {
    const t = nobleSha256(utf8ToBytes(tag))
    prefix = nobleSha256.create().update(t).update(t)
    sha256Prefixes.set(tag, prefix)
  }
  const h = prefix.clone()
  for (const p of parts) h.update(p)
  return h.digest()
}

export function keccakTagged(tag: string, ...parts: Uint8Array[]): Uint8Array {
  checkParts(tag, parts)
  let prefix = keccakPrefixes.get(tag)
  if (prefix === undefined) {
    prefix = keccak_256(utf8ToBytes(tag))
    keccakPrefixes.set(tag, prefix)
  }
  const h = keccak_256.create().update(prefix)
  for (const p of parts) h.update(p)
  return h.digest()
}

function checkParts(tag: string, parts: Uint8Array[]): void {
  assertString('tag', tag, 256)
  for (let i = 0; i < parts.length; i++) assertBytes(`parts[${i}]`, parts[i])
}
