/**
 * Baby Jubjub points outside the prime-order subgroup, for the ATTACK 41 tests.
 */
import { Base8, addPoint, mulPointEscalar } from '@zk-kit/baby-jubjub'
import type { PublicKey } from '../src/index.ts'

/** A point of order 8 (a curve point multiplied by the subgroup order; keys.test.ts checks its order). */
export const ORDER8: PublicKey = [
  17545522957889784193459637215142187266023652151580582754000402781682644312291n,
  4826523245007015323400664741523384119579596407052839571721035538011798951543n,
]

/** `key` plus the order-8 point: on the curve, not in the subgroup. */
export function mixedKey(key: PublicKey): PublicKey {
  const p = addPoint([key[0], key[1]], [ORDER8[0], ORDER8[1]])
  return [p[0], p[1]]
}

/** The forgery: R8 = S·B8 passes the curve-only check S·B8 = R8 + 8h·A under an order-8 key, for any S and message. */
export function forgedSignature(S = 12345n): { R8: [bigint, bigint]; S: bigint } {
  const R8 = mulPointEscalar(Base8, S)
  return { R8: [R8[0], R8[1]], S }
}
