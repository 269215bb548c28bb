/**
 * A small reader and evaluator for circom's .r1cs files, and its .sym signal
 * names. Used by the circuit tests to check a (tampered) witness against the
 * constraints directly — A·w × B·w = C·w for every constraint — which is what
 * a Groth16 proof attests, independently of the witness calculator's own
 * asserts. Also finds wires that no constraint touches (unconstrained signals).
 *
 * Format: iden3 binary r1cs v1 (header section 1, constraints section 2).
 */
import { readFile } from 'node:fs/promises'
import { DecodeError } from '@l2bench/core'

export type LinearCombination = Map<number, bigint>

export interface R1cs {
  prime: bigint
  nWires: number
  nPubOut: number
  nPubIn: number
  nPrvIn: number
  nConstraints: number
  constraints: [LinearCombination, LinearCombination, LinearCombination][]
}

function readLe(view: DataView, at: number, n8: number): bigint {
  let v = 0n
  for (let i = n8 - 1; i >= 0; i--) v = (v << 8n) | BigInt(view.getUint8(at + i))
  return v
}

export function parseR1cs(bytes: Uint8Array): R1cs {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const magic = String.fromCharCode(...bytes.subarray(0, 4))
  if (magic !== 'r1cs') throw new DecodeError('r1cs', 'not an r1cs file')
  const nSections = view.getUint32(8, true)
  let at = 12
  const sections = new Map<number, { start: number; size: number }>()
  for (let s = 0; s < nSections; s++) {
    const type = view.getUint32(at, true)
    const size = Number(view.getBigUint64(at + 4, true))
    sections.set(type, { start: at + 12, size })
    at += 12 + size
  }
  const header = sections.get(1)
  const body = sections.get(2)
  if (header === undefined || body === undefined) throw new DecodeError('r1cs', 'missing header or constraints section')
  let h = header.start
  const n8 = view.getUint32(h, true)
  h += 4
  const prime = readLe(view, h, n8)
  h += n8
  const nWires = view.getUint32(h, true)
  const nPubOut = view.getUint32(h + 4, true)
  const nPubIn = view.getUint32(h + 8, true)
  const nPrvIn = view.getUint32(h + 12, true)
  const nConstraints = view.getUint32(h + 24, true)
  const constraints: R1cs['constraints'] = []
  let c = body.start
  const readLc = (): LinearCombination => {
    const n = view.getUint32(c, true)
    c += 4
    const lc: LinearCombination = new Map()
    for (let i = 0; i < n; i++) {
      const wire = view.getUint32(c, true)
      lc.set(wire, readLe(view, c + 4, n8))
      c += 4 + n8
    }
    return lc
  }
  for (let i = 0; i < nConstraints; i++) constraints.push([readLc(), readLc(), readLc()])
  return { prime, nWires, nPubOut, nPubIn, nPrvIn, nConstraints, constraints }
}

export async function loadR1cs(path: string): Promise<R1cs> {
  return parseR1cs(new Uint8Array(await readFile(path)))
}

function evalLc(lc: LinearCombination, w: readonly bigint[], p: bigint): bigint {
  let acc = 0n
  for (const [wire, coeff] of lc) acc += coeff * (w[wire] as bigint)
  return acc % p
}

/** Indices of the constraints the witness violates (empty = satisfied). Stops after `limit` failures. */
export function failingConstraints(r1cs: R1cs, witness: readonly bigint[], limit = Number.POSITIVE_INFINITY): number[] {
  if (witness.length < r1cs.nWires) throw new DecodeError('witness', `has ${witness.length} values, r1cs needs ${r1cs.nWires}`)
  if (witness[0] !== 1n) return [-1] // wire 0 is the constant 1
  const p = r1cs.prime
  const failed: number[] = []
  for (let i = 0; i < r1cs.constraints.length && failed.length < limit; i++) {
    const [a, b, c] = r1cs.constraints[i] as [LinearCombination, LinearCombination, LinearCombination]
    if ((evalLc(a, witness, p) * evalLc(b, witness, p) - evalLc(c, witness, p)) % p !== 0n) failed.push(i)
  }
  return failed
}

/** Wires (other than the constant) that appear in no constraint: values a prover could set freely. */
export function unconstrainedWires(r1cs: R1cs): number[] {
  const seen = new Uint8Array(r1cs.nWires)
  for (const [a, b, c] of r1cs.constraints) for (const lc of [a, b, c]) for (const [wire, coeff] of lc) if (coeff !== 0n) seen[wire] = 1
  const out: number[] = []
  for (let w = 1; w < r1cs.nWires; w++) if (seen[w] === 0) out.push(w)
  return out
}

/** Wires referenced by a constraint. */
export function constraintWires(r1cs: R1cs, index: number): Set<number> {
  const out = new Set<number>()
  const con = r1cs.constraints[index]
  if (con !== undefined) for (const lc of con) for (const wire of lc.keys()) out.add(wire)
  return out
}

/** Signal name → witness index from a .sym file (signals optimised away are omitted). */
export async function loadSymbols(path: string): Promise<Map<string, number>> {
  const text = await readFile(path, 'utf8')
  const map = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '') continue
    const [, wire, , name] = line.split(',')
    const w = Number(wire)
    if (name !== undefined && w >= 0) map.set(name, w)
  }
  return map
}
