/**
 * Success probability of sending x msat over a directed edge whose liquidity
 * (the sender side's balance) is unknown but known to lie in [lo, hi].
 *
 * The prior is uniform liquidity over [0, capacity] — lnd's "apriori"
 * estimator and LDK's ProbabilisticScorer both start there — giving
 * P = (c + 1 − x)/(c + 1). What mission control learns narrows the interval:
 * a failure at x means liquidity < x (hi = x − 1), forwarding x onward means
 * liquidity ≥ x (lo = x). P is then (hi + 1 − x)/(hi + 1 − lo), clipped to
 * [0, 1]. Amounts already in flight on the edge (other parts of the same
 * payment) are added to x by the caller.
 *
 * The pathfinder turns P into msat with LDK's default penalties: a flat
 * penalty per forwarding hop plus (multiplier + amount · multiplier / 2^20) ·
 * −log10 P, so a route through channels much larger than the amount is
 * preferred to a slightly cheaper one through channels barely large enough.
 */

/** P(liquidity ≥ x) for liquidity uniform on the integers of [lo, hi]. */
export function liquidityProbability(x: number, lo: number, hi: number): number {
  if (x <= lo) return 1
  if (x > hi) return 0
  return (hi + 1 - x) / (hi + 1 - lo)
}

export interface ProbabilityCostParams {
  /** Flat cost per forwarding hop (LDK base_penalty_msat: 500). */
  hopPenaltyMsat: number
  /** Cost per unit of −log10 P (LDK liquidity_penalty_multiplier_msat: 30,000). */
  liquidityPenaltyMsat: number
  /** Amount-proportional cost per unit of −log10 P, per 2^20 msat sent (LDK: 192). */
  liquidityPenaltyAmountPer2p20: number
}

export const DEFAULT_PROBABILITY_COST: ProbabilityCostParams = {
  hopPenaltyMsat: 500,
  liquidityPenaltyMsat: 30_000,
  liquidityPenaltyAmountPer2p20: 192,
}
