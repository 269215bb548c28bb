/**
 * The voucher rules, as one pure function shared by the contract and the manager.
 *
 * `applyVoucher(channel, state, voucher, env)` either throws a PaychError naming
 * the first rule the voucher breaks, or returns the channel state after the
 * voucher is applied (lane writes, new toSend, settle heights). It touches
 * nothing: the contract reads lanes through gas-charged storage and writes the
 * result back; the manager runs it over its local view (chain state overlaid
 * with stored vouchers) to decide what to accept. One function means the
 * contract rejects exactly what the manager rejects.
 *
 * Rules, in order (specs-actors UpdateChannelState, tightened where noted):
 *  1. WRONG_CHANNEL      voucher.channel is not this channel (replay elsewhere, #612)
 *  2. SETTLING_FINISHED  settlingAt reached: no more updates
 *  3. BAD_SIGNATURE      not signed by `from` (a receiver-signed voucher fails here)
 *  4. TIME_LOCK_MIN      height < timeLockMin            (when locks are checked)
 *  5. VOUCHER_EXPIRED    timeLockMax ≠ 0 and height > timeLockMax
 *  6. SECRET_MISMATCH    secretHash set and sha256(secret) differs (when locks are checked)
 *  7. NONCE_TOO_LOW      nonce ≤ lane nonce, or nonce 0 (equal-nonce replay, #660)
 *     TOO_MANY_LANES     a new lane past LANE_LIMIT
 *  8. MERGE_SAME_LANE / MERGE_DUPLICATE_LANE / MERGE_UNKNOWN_LANE / MERGE_NONCE_TOO_LOW
 *  9. AMOUNT_NOT_INCREASING  amount ≤ lane redeemed (Lotus CheckVoucherValid; tighter than the actor)
 * 10. MERGE_LOWERS_TO_SEND   delta < 0: a merge may not take back redeemed funds
 *     (#1046; the actor only required toSend ≥ 0 — here a voucher never lowers toSend)
 * 11. INSUFFICIENT_CHANNEL_FUNDS toSend + delta > balance
 */
import { sha256, bytesEqual, type Address } from '@l2bench/core'
import { PaychError } from './errors.ts'
import { LANE_LIMIT, type SignedVoucher } from './voucher.ts'

export interface LaneState {
  nonce: bigint
  redeemed: bigint
}

/** The part of a channel's on-chain state the rules read. */
export interface ChannelState {
  balance: bigint
  toSend: bigint
  /** 0 = not settling. */
  settlingAt: number
  minSettleHeight: number
  laneCount: number
}

export interface RuleEnv {
  height: number
  /** Lane state by id (undefined = lane never used). */
  getLane(lane: number): LaneState | undefined
  /** Checks the voucher's signature by `from` (the caller computes and charges the digest). */
  verifySignature(sv: SignedVoucher): boolean
  /** 'all': time locks and secret (redeeming now); 'expiry': only expiry (accepting for later). */
  locks: 'all' | 'expiry'
  secret?: Uint8Array | undefined
  /** Hash of the secret (the contract charges for it); defaults to sha256. */
  hashSecret?: (secret: Uint8Array) => Uint8Array
}

export interface VoucherEffect {
  /** Increase of toSend (never negative). */
  delta: bigint
  toSend: bigint
  /** Lanes to write, the voucher's own lane last. */
  laneWrites: Array<[number, LaneState]>
  newLane: boolean
  laneCount: number
  settlingAt: number
  minSettleHeight: number
}

export function applyVoucher(channel: Address, state: ChannelState, sv: SignedVoucher, env: RuleEnv): VoucherEffect {
  if (sv.channel !== channel)
    throw new PaychError('WRONG_CHANNEL', `voucher is for channel ${sv.channel}, not ${channel}`, { field: 'voucher.channel' })
  if (state.settlingAt !== 0 && env.height >= state.settlingAt)
    throw new PaychError('SETTLING_FINISHED', `settling finished at height ${state.settlingAt}`, { field: 'channel' })
  if (!env.verifySignature(sv)) throw new PaychError('BAD_SIGNATURE', 'voucher is not signed by the channel sender', { field: 'voucher.signature' })
  if (env.locks === 'all' && env.height < sv.timeLockMin)
    throw new PaychError('TIME_LOCK_MIN', `voucher usable from height ${sv.timeLockMin}, now ${env.height}`, { field: 'voucher.timeLockMin' })
  if (sv.timeLockMax !== 0 && env.height > sv.timeLockMax)
    throw new PaychError('VOUCHER_EXPIRED', `voucher expired at height ${sv.timeLockMax}, now ${env.height}`, { field: 'voucher.timeLockMax' })
  if (env.locks === 'all' && sv.secretHash !== undefined) {
    const hash = env.hashSecret ?? sha256
    if (env.secret === undefined || !bytesEqual(hash(env.secret), sv.secretHash))
      throw new PaychError('SECRET_MISMATCH', 'secret does not hash to the voucher secretHash', { field: 'secret' })
  }

  const lane = env.getLane(sv.lane)
  if (sv.nonce === 0n) throw new PaychError('NONCE_TOO_LOW', 'nonce must be at least 1', { field: 'voucher.nonce' })
  if (lane !== undefined && sv.nonce <= lane.nonce)
    throw new PaychError('NONCE_TOO_LOW', `lane ${sv.lane} is at nonce ${lane.nonce}, voucher has ${sv.nonce}`, { field: 'voucher.nonce' })
  if (lane === undefined && state.laneCount >= LANE_LIMIT)
    throw new PaychError('TOO_MANY_LANES', `channel already has ${state.laneCount} lanes`, { field: 'voucher.lane' })

  const laneWrites: Array<[number, LaneState]> = []
  const seen = new Set<number>()
  let redeemedFromOthers = 0n
  for (let i = 0; i < sv.merges.length; i++) {
    const m = sv.merges[i] as { lane: number; nonce: bigint }
    const field = `voucher.merges[${i}]`
    if (m.lane === sv.lane) throw new PaychError('MERGE_SAME_LANE', `cannot merge lane ${m.lane} into itself`, { field })
    if (seen.has(m.lane)) throw new PaychError('MERGE_DUPLICATE_LANE', `lane ${m.lane} merged twice`, { field })
    seen.add(m.lane)
    const other = env.getLane(m.lane)
    if (other === undefined) throw new PaychError('MERGE_UNKNOWN_LANE', `merged lane ${m.lane} does not exist`, { field })
    if (other.nonce >= m.nonce)
      throw new PaychError('MERGE_NONCE_TOO_LOW', `merged lane ${m.lane} is at nonce ${other.nonce}, merge has ${m.nonce}`, { field })
    redeemedFromOthers += other.redeemed
    laneWrites.push([m.lane, { nonce: m.nonce, redeemed: other.redeemed }])
  }

  const laneRedeemed = lane?.redeemed ?? 0n
  if (lane !== undefined && sv.amount <= laneRedeemed)
    throw new PaychError('AMOUNT_NOT_INCREASING', `lane ${sv.lane} already redeemed ${laneRedeemed}, voucher amount ${sv.amount}`, {
      field: 'voucher.amount',
    })
  const delta = sv.amount - (redeemedFromOthers + laneRedeemed)
  if (delta < 0n)
    throw new PaychError('MERGE_LOWERS_TO_SEND', `merged lanes already redeemed ${redeemedFromOthers + laneRedeemed} > amount ${sv.amount}`, {
      field: 'voucher.merges',
    })
  const toSend = state.toSend + delta
  if (toSend > state.balance)
    throw new PaychError('INSUFFICIENT_CHANNEL_FUNDS', `channel holds ${state.balance}, vouchers would pay ${toSend}`, {
      field: 'voucher.amount',
      details: { balance: state.balance, toSend, shortfall: toSend - state.balance },
    })

  laneWrites.push([sv.lane, { nonce: sv.nonce, redeemed: sv.amount }])
  let { settlingAt, minSettleHeight } = state
  if (sv.minSettleHeight !== 0) {
    if (settlingAt !== 0 && settlingAt < sv.minSettleHeight) settlingAt = sv.minSettleHeight
    if (minSettleHeight < sv.minSettleHeight) minSettleHeight = sv.minSettleHeight
  }
  return {
    delta,
    toSend,
    laneWrites,
    newLane: lane === undefined,
    laneCount: lane === undefined ? state.laneCount + 1 : state.laneCount,
    settlingAt,
    minSettleHeight,
  }
}
