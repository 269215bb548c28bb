/**
 * Witness computation with the circuit's wasm (snarkjs wtns.calculate, which
 * runs circom's witness calculator) returned as the array of wire values, for
 * checking against the r1cs (src/r1cs.ts). The calculator also evaluates every
 * `===` as it goes and throws "Assert Failed … Error in template X line: n"
 * at the first one that does not hold.
 */
import { DecodeError } from '@l2bench/core'
import type { CircuitInput } from './batch.ts'
import { loadSnarkjs } from './pipeline/index.ts'

/** Parses an iden3 .wtns file: section 1 (n8, prime, count), section 2 (values, little-endian). */
export function parseWtns(bytes: Uint8Array): bigint[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== 'wtns') throw new DecodeError('wtns', 'not a wtns file')
  const nSections = view.getUint32(8, true)
  let at = 12
  let n8 = 0
  let count = 0
  let values: bigint[] | undefined
  for (let s = 0; s < nSections; s++) {
    const type = view.getUint32(at, true)
    const size = Number(view.getBigUint64(at + 4, true))
    const start = at + 12
    if (type === 1) {
      n8 = view.getUint32(start, true)
      count = view.getUint32(start + 4 + n8, true)
    } else if (type === 2) {
      values = new Array<bigint>(count)
      for (let i = 0; i < count; i++) {
        let v = 0n
        for (let j = n8 - 1; j >= 0; j--) v = (v << 8n) | BigInt(bytes[start + i * n8 + j] as number)
        values[i] = v
      }
    }
    at = start + size
  }
  if (values === undefined) throw new DecodeError('wtns', 'no witness section')
  return values
}

/** Every wire value of the witness for `input` (wire 0 = 1, then public signals, then the rest). */
export async function calculateWitness(wasm: string, input: CircuitInput): Promise<bigint[]> {
  const snarkjs = await loadSnarkjs()
  const out: { type: 'mem'; data?: Uint8Array } = { type: 'mem' }
  await snarkjs.wtns.calculate(input, wasm, out)
  if (out.data === undefined) throw new DecodeError('wtns', 'snarkjs returned no witness')
  return parseWtns(out.data)
}
