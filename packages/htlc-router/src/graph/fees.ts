/**
 * Lightning fee arithmetic (BOLT 7): fee = base_fee_msat + ⌊amount · ppm / 10⁶⌋.
 *
 * Two versions that must agree: `feeMsat` on bigint for route construction and
 * the API, and `feeMsatNumber` on float64 for the pathfinder's hot loop. The
 * number version is exact whenever its result is below 2^53 msat (≈ 90,000 BTC):
 * it splits the amount at 10⁶ so neither product leaves the exact integer range,
 * and corrects the floor of the one division. Anything larger is above every
 * capacity the graph accepts, so an inexact value there can only be rejected.
 */

export const PPM = 1_000_000

/** Exact fee in msat for forwarding `amountMsat` under (base, ppm). */
export function feeMsat(baseFeeMsat: bigint, feeRatePpm: bigint, amountMsat: bigint): bigint {
  return baseFeeMsat + (amountMsat * feeRatePpm) / 1_000_000n
}

/** Same as `feeMsat` on numbers (exact for results < 2^53; see the module header). */
export function feeMsatNumber(baseFeeMsat: number, feeRatePpm: number, amountMsat: number): number {
  if (feeRatePpm === 0) return baseFeeMsat
  const hi = Math.floor(amountMsat / PPM)
  const lo = amountMsat - hi * PPM
  // lo · ppm < 10⁶ · 10⁷ = 10¹³: exact. The quotient of an exact integer by 10⁶ can
  // round across an integer boundary in float64, so fix the floor explicitly.
  const p = lo * feeRatePpm
  let q = Math.floor(p / PPM)
  if (q * PPM > p) q -= 1
  else if ((q + 1) * PPM <= p) q += 1
  return baseFeeMsat + hi * feeRatePpm + q
}
