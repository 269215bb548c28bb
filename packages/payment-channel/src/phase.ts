/**
 * The channel's phases, the one table of allowed transitions between them,
 * and the predicates every shell (ChannelNode, the HTLC router) asks instead
 * of comparing phase strings.
 *
 *   funding ──(both deposits on L1)──────────────▶ open
 *   funding ──(refund, or the open never reached L1)▶ closed
 *   open ──(final state countersigned, or a registration on L1)▶ closing
 *   open / closing ──(concluded on L1)───────────▶ closed
 *
 * `closing` means: no more off-chain updates, but the channel's money is not
 * paid out yet. Its latest state (and its locked entries) must still be
 * enforced on L1 — a closing channel is watched exactly like an open one.
 */
import type { SignedState } from './state.ts'

export type Phase = 'funding' | 'open' | 'closing' | 'closed'

export const PHASES = ['funding', 'open', 'closing', 'closed'] as const satisfies readonly Phase[]

/** Allowed phase changes (go-perun's validPhaseTransitions): anything else is a bug. */
export const PHASE_TRANSITIONS: Readonly<Record<Phase, readonly Phase[]>> = {
  funding: ['open', 'closed'],
  open: ['closing', 'closed'],
  closing: ['closed'],
  closed: [],
}

export function canTransition(from: Phase, to: Phase): boolean {
  return from === to || PHASE_TRANSITIONS[from].includes(to)
}

/** Off-chain updates (payments, HTLC adds/settles/fails, top-ups, a final state) may be proposed and accepted. */
export function acceptsUpdates(phase: Phase): boolean {
  return phase === 'open'
}

/**
 * The channel still holds money that a party can claim: off chain while open,
 * on chain while closing (a final state or a registration is not paid yet).
 * A hop that learned a preimage must act on it in both phases: settle off
 * chain when `acceptsUpdates`, otherwise claim on L1.
 */
export function mayClaimLocked(phase: Phase): boolean {
  return phase === 'open' || phase === 'closing'
}

/** Nothing is left to watch or claim for this channel (L1 paid it out, or it never got funded). */
export function isSettled(phase: Phase): boolean {
  return phase === 'closed'
}

/** Both parties' signatures are present (a state only we signed is not enforceable). */
export function isFullySigned(s: SignedState): boolean {
  return s.sigs[0].length === 64 && s.sigs[1].length === 64
}
