/**
 * Poseidon over BN254 exactly as circomlib's Poseidon(n) computes it, so
 * leaves, roots and signed messages computed here are the values the circuit
 * recomputes.
 *
 * This is circomlib's own optimised schedule (PoseidonEx in
 * circuits/poseidon.circom): the first full rounds with M, the last of them
 * with P, the partial rounds with the sparse matrices S (2t − 1 products per
 * round instead of t²), the last full rounds with M — run in JS on bigints
 * reduced after every product. The constants C, S, M, P are read once per
 * width from circomlib's poseidon_constants.circom (the file the circuit
 * includes). About 2–3× faster than the textbook schedule of poseidon-lite
 * (same constants, full MDS in every round), which the tests use to check
 * this one on random inputs for every width used here.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { FIELD_MODULUS as F } from './constants.ts'
import { circomlibDir } from './pipeline/libs.ts'

const N_ROUNDS_F = 8
const N_ROUNDS_P = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68]

interface Constants {
  t: number
  nRoundsP: number
  C: bigint[]
  S: bigint[]
  /** M[j][i]: the circuit's Mix sums M[j][i]·in[j] into out[i]. */
  M: bigint[][]
  P: bigint[][]
}

let source: string | undefined
const byWidth = new Map<number, Constants>()

/** The hex literals of `function NAME(t)`'s branch for width t, in order. */
function literals(name: string, t: number): bigint[] {
  source ??= readFileSync(join(circomlibDir(), 'poseidon_constants.circom'), 'utf8')
  const fn = source.indexOf(`function ${name}(t)`)
  if (fn < 0) throw new Error(`poseidon: ${name} not found in circomlib's constants`)
  const branch = new RegExp(`if \\(t\\s*==\\s*${t}\\)\\s*\\{`, 'g')
  branch.lastIndex = fn
  const m = branch.exec(source)
  if (m === null) throw new Error(`poseidon: ${name}(${t}) not found in circomlib's constants`)
  const start = m.index + m[0].length
  const next = source.indexOf('} else if', start)
  const end = source.indexOf('\nfunction ', start)
  const stop = next >= 0 && (end < 0 || next < end) ? next : end < 0 ? source.length : end
  return [...source.slice(start, stop).matchAll(/0x[0-9a-fA-F]+/g)].map((x) => BigInt(x[0]))
}

function constants(t: number): Constants {
  let c = byWidth.get(t)
  if (c !== undefined) return c
  const nRoundsP = N_ROUNDS_P[t - 2] as number
  const square = (flat: bigint[]) => Array.from({ length: t }, (_, j) => flat.slice(j * t, (j + 1) * t))
  c = { t, nRoundsP, C: literals('POSEIDON_C', t), S: literals('POSEIDON_S', t), M: square(literals('POSEIDON_M', t)), P: square(literals('POSEIDON_P', t)) }
  if (c.C.length !== t * N_ROUNDS_F + nRoundsP || c.S.length !== nRoundsP * (2 * t - 1) || c.M.flat().length !== t * t || c.P.flat().length !== t * t)
    throw new Error(`poseidon: unexpected constant sizes for t = ${t}`)
  byWidth.set(t, c)
  return c
}

const pow5 = (x: bigint): bigint => {
  const x2 = (x * x) % F
  const x4 = (x2 * x2) % F
  return (x4 * x) % F
}

function mix(state: bigint[], M: bigint[][], t: number): bigint[] {
  const out = new Array<bigint>(t)
  for (let i = 0; i < t; i++) {
    let acc = 0n
    for (let j = 0; j < t; j++) acc += (M[j] as bigint[])[i] as bigint * (state[j] as bigint)
    out[i] = acc % F
  }
  return out
}

/** circomlib's Poseidon(inputs.length) with initial state 0 (inputs must be field elements). */
export function poseidon(inputs: readonly bigint[]): bigint {
  const t = inputs.length + 1
  const { C, S, M, P, nRoundsP } = constants(t)
  const half = N_ROUNDS_F / 2
  let s = [0n, ...inputs].map((x, i) => (x + (C[i] as bigint)) % F)
  for (let r = 0; r < half - 1; r++) {
    s = s.map((x, i) => (pow5(x) + (C[(r + 1) * t + i] as bigint)) % F)
    s = mix(s, M, t)
  }
  s = s.map((x, i) => (pow5(x) + (C[half * t + i] as bigint)) % F)
  s = mix(s, P, t)
  for (let r = 0; r < nRoundsP; r++) {
    s[0] = (pow5(s[0] as bigint) + (C[(half + 1) * t + r] as bigint)) % F
    const base = (t * 2 - 1) * r
    let acc = 0n
    for (let i = 0; i < t; i++) acc += (S[base + i] as bigint) * (s[i] as bigint)
    const s0 = s[0] as bigint
    for (let i = 1; i < t; i++) s[i] = ((s[i] as bigint) + s0 * (S[base + t + i - 1] as bigint)) % F
    s[0] = acc % F
  }
  for (let r = 0; r < half - 1; r++) {
    s = s.map((x, i) => (pow5(x) + (C[(half + 1) * t + nRoundsP + r * t + i] as bigint)) % F)
    s = mix(s, M, t)
  }
  let out = 0n
  for (let j = 0; j < t; j++) out += (M[j] as bigint[])[0] as bigint * pow5(s[j] as bigint)
  return out % F
}

export function hash2(a: bigint, b: bigint): bigint {
  return poseidon([a, b])
}

export function hash4(a: bigint, b: bigint, c: bigint, d: bigint): bigint {
  return poseidon([a, b, c, d])
}

export function hash5(a: bigint, b: bigint, c: bigint, d: bigint, e: bigint): bigint {
  return poseidon([a, b, c, d, e])
}
