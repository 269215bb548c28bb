/**
 * The opening transitions of the channel machine (pure; see funding.ts for
 * the shell's L1 side). Version 0 is signed by both before any money moves:
 *
 *   A  begin: sign v0 → persist → send open
 *   B  begin: countersign A's v0 → persist → send openAck → fund
 *   A  openAck: verify → persist (v0 signed by both) → fund (deposit)
 *   both  funded (L1 says open) → persist(open) → opened
 *
 * A's request is retransmitted on tick and given up (`openFailed`) after
 * `maxAttempts` — she has deposited nothing then. A `reject` of version 0
 * ends the opening the same way, but only while B's signature is missing:
 * once A holds v0 signed by both, nothing the peer says can end it.
 */
import { InvalidInputError, SignatureError, bytesEqual } from '@l2bench/core'
import { ChannelError } from './errors.ts'
import { DEFAULT_ATTEMPTS, DEFAULT_TIMEOUT_MS, type Machine, type StepContext, type StepResult, countersignV0, persisted, to } from './machine.ts'
import { isFullySigned } from './phase.ts'
import { type WireMessage, paramsToWire } from './wire.ts'


/** A's open request: the parameters and her signature on version 0. */
export function openMessage(m: Machine): WireMessage {
  return { type: 'open', params: paramsToWire(m.params), sig: m.latest.sigs[0] as Uint8Array }
}

function openAckMessage(m: Machine): WireMessage {
  return { type: 'openAck', channelId: m.params.channelId, sig: m.latest.sigs[1] as Uint8Array }
}

export function onBegin(ctx: StepContext, m: Machine, peerSig: Uint8Array | undefined, now: number): StepResult {
  if (m.phase !== 'funding') return { machine: m, effects: [] }
  if (m.me === 0) {
    if (peerSig !== undefined) throw new InvalidInputError('peerSig', 'the opener begins without the peer’s signature')
    return persisted({ ...m, fundingSentAt: now, fundingAttempts: 1 }, [{ type: 'send', msg: openMessage(m) }])
  }
  if (peerSig === undefined) throw new InvalidInputError('peerSig', 'the responder begins with the opener’s signature on version 0')
  if (isFullySigned(m.latest)) {
    // A repeated open request (the opener lost our ack or restarted): answer again, idempotently.
    if (!bytesEqual(peerSig, m.latest.sigs[0])) throw new SignatureError('sig', 'another signature on version 0 for a known channel')
    return { machine: m, effects: [{ type: 'send', msg: openAckMessage(m) }, { type: 'fund' }] }
  }
  const machine = { ...countersignV0(ctx, m, peerSig), fundingSentAt: now, fundingAttempts: 1 }
  return persisted(machine, [{ type: 'send', msg: openAckMessage(machine) }, { type: 'signed', signed: machine.latest }, { type: 'fund' }])
}

export function onOpenAck(ctx: StepContext, m: Machine, sig: Uint8Array, now: number): StepResult {
  if (m.me !== 0) throw new ChannelError('UNKNOWN_CHANNEL', 'channelId', 'only the opener takes an openAck')
  if (m.phase !== 'funding' || isFullySigned(m.latest)) return { machine: m, effects: [] }
  const machine = { ...countersignV0(ctx, m, sig), fundingSentAt: now, fundingAttempts: 1 }
  // Durable before the deposit: after a crash A still holds v0 signed by both, so she can always get her deposit back.
  return persisted(machine, [{ type: 'signed', signed: machine.latest }, { type: 'fund' }])
}

/** The peer refused our open request: nothing is on L1 yet (A deposits only after the ack), so the channel just ends. */
export function onOpenRejected(m: Machine, code: string): StepResult {
  if (m.me !== 0 || m.phase !== 'funding' || isFullySigned(m.latest)) return { machine: m, effects: [] }
  return persisted(to(m, 'closed'), [{ type: 'openFailed', code }])
}

export function fundingResync(m: Machine, now: number): StepResult {
  const machine = { ...m, fundingSentAt: now, fundingAttempts: 1 }
  if (m.me === 0) return { machine, effects: [isFullySigned(m.latest) ? { type: 'fund' } : { type: 'send', msg: openMessage(m) }] }
  return { machine, effects: [{ type: 'send', msg: openAckMessage(m) }, { type: 'fund' }] }
}

/** A's unanswered request is repeated, then given up (nothing was deposited); once both signed, L1 is checked again. */
export function onFundingTick(ctx: StepContext, m: Machine, now: number): StepResult {
  const timeout = ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS
  if (m.fundingSentAt === undefined || now - m.fundingSentAt < timeout) return { machine: m, effects: [] }
  const attempts = m.fundingAttempts ?? 1
  if (isFullySigned(m.latest)) return { machine: { ...m, fundingSentAt: now, fundingAttempts: attempts + 1 }, effects: [{ type: 'fund' }] }
  if (attempts < (ctx.maxAttempts ?? DEFAULT_ATTEMPTS))
    return { machine: { ...m, fundingSentAt: now, fundingAttempts: attempts + 1 }, effects: [{ type: 'send', msg: openMessage(m) }] }
  return persisted(to(m, 'closed'), [{ type: 'openFailed', code: 'TIMEOUT' }])
}
