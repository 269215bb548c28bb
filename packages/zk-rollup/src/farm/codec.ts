/**
 * Witness inputs on the wire: a job's data is JSON, so every bigint becomes a
 * decimal string and back. Every leaf of a circuit input is a field element,
 * so decoding turns every string leaf into a bigint and refuses anything else
 * (the data comes from Redis: it is untrusted).
 */
import { InvalidInputError } from '@l2bench/core'
import type { CircuitInput } from '../batch.ts'

export type WireValue = string | WireValue[]
export type WireInput = Record<string, WireValue>

export function encodeInput(input: CircuitInput): WireInput {
  const enc = (v: unknown, field: string): WireValue => {
    if (typeof v === 'bigint') return v.toString()
    if (Array.isArray(v)) return v.map((x, i) => enc(x, `${field}[${i}]`))
    throw new InvalidInputError(field, 'a circuit input holds bigints and arrays of them only')
  }
  const out: WireInput = {}
  for (const [k, v] of Object.entries(input)) out[k] = enc(v, `input.${k}`)
  return out
}

export function decodeInput(wire: unknown): CircuitInput {
  if (typeof wire !== 'object' || wire === null || Array.isArray(wire)) throw new InvalidInputError('input', 'expected an object of field elements')
  const dec = (v: unknown, field: string): bigint | bigint[] | bigint[][] => {
    if (typeof v === 'string' && /^\d{1,80}$/.test(v)) return BigInt(v)
    if (Array.isArray(v)) return v.map((x, i) => dec(x, `${field}[${i}]`)) as bigint[] | bigint[][]
    throw new InvalidInputError(field, 'expected a decimal field element or an array of them')
  }
  const out: CircuitInput = {}
  for (const [k, v] of Object.entries(wire)) {
    // Signal names are identifiers; '__proto__' and friends would reach the object's prototype.
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(k) || k === '__proto__' || k === 'constructor' || k === 'prototype')
      throw new InvalidInputError('input', `${JSON.stringify(k.slice(0, 64))} is not a signal name`)
    out[k] = dec(v, `input.${k}`)
  }
  return out
}
