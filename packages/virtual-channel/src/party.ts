/**
 * Alice's and Bob's part of a virtual channel (Ingrid's is hub.ts).
 *
 * Open (the three-party agreement):
 *   Alice  checks her ledger with Ingrid and her balance, signs version 0,
 *          saves (proposed) → propose to Bob
 *   Bob    checks the parameters (he is Bob, his ledger with Ingrid, Ingrid's
 *          key in it, his share within his limits and his balance, Alice's
 *          signature), signs version 0, saves (accepted) → accept
 *   Alice  checks Bob's signature, saves (funding) → fund to Ingrid
 *   Ingrid locks both ledgers (each lock a ledger update her peer checks),
 *          then activates → active to both
 *   each   checks the activation and its own ledger's lock, saves (active),
 *          then adopts the virtual channel in its ChannelNode (openFunded)
 * Payments are the ChannelNode's ordinary updates of the virtual channel.
 * Close: either signs a final state with the other (ChannelNode.finalState);
 * on the final state each saves (settling) → settle to Ingrid, who unlocks
 * both ledgers by it; when our ledger no longer holds the lock: closed.
 *
 * Every step saves before it sends what depends on it; a restart resends
 * what the record says is outstanding when the peer reconnects.
 */
import { type Address, type Amount, AmountError, InvalidInputError, L2Error, SignatureError, bytesEqual, toAddress, toAmount } from '@l2bench/core'
import { ChannelError, type SignedState } from '@l2bench/payment-channel'
import { type VirtualContext, hasChannel, hex, ledgerBalances, ledgerWith, peerKeyIn, readOutcome } from './context.ts'
import { VirtualError } from './errors.ts'
import { holdsLock } from './policy.ts'
import { type VirtualParams, activationDigest, channelParamsOf, checkParams, initialDigest, virtualId } from './params.ts'
import type { VirtualRecord } from './store.ts'
import type { VirtualMessage } from './wire.ts'

export interface OpenVirtualParameters {
  /** Bob. */
  peer: Address
  peerPublicKey: Uint8Array
  /** The intermediary. */
  ingrid: Address
  /** Our ledger channel with Ingrid. */
  ledger: Uint8Array | `0x${string}`
  /** Bob's ledger channel with Ingrid. */
  peerLedger: Uint8Array | `0x${string}`
  /** Our share x_A. */
  deposit: Amount
  /** Bob's share x_B (default 0). */
  peerDeposit?: Amount
  /** Virtual dispute window, blocks (default 20). */
  disputeWindow?: number
  /** Blocks from now until Ingrid alone may register the virtual channel (default 10,000). */
  validity?: number
  nonce?: bigint
}

type Waiter = { resolve: () => void; reject: (e: Error) => void; since: number }

export class Party {
  readonly openWaiters = new Map<string, Waiter>()
  readonly closeWaiters = new Map<string, Waiter>()
  /** Virtual ids whose lock our ledger has held (so its removal means unlocked). */
  private readonly locked = new Set<string>()
  /** Virtual ids found unregistered on L1 before activation (later registrations come as events). */
  private readonly clearOnL1 = new Set<string>()
  private readonly checking = new Map<string, Promise<boolean>>()

  constructor(private readonly ctx: VirtualContext) {}

  /** After a restart: which locks our ledgers hold, and virtual channels saved active but not yet adopted. */
  recover(): void {
    for (const r of this.ctx.records.all()) {
      if (r.role === 'ingrid') continue
      const ledger = this.myLedger(r)
      const latest = latestLedger(this.ctx, ledger)
      const holds = latest !== undefined && holdsLock(latest.state, r.vid)
      if (holds) this.locked.add(hex(r.vid))
      if ((r.status === 'active' || r.status === 'settling') && !hasChannel(this.ctx.channel, r.vid)) this.adopt(r)
      // Activated means our ledger held the lock; if it no longer does, it was unlocked while we were down.
      if ((r.status === 'active' || r.status === 'settling') && latest !== undefined && !holds) this.unlocked(this.ctx.records.require(r.vid))
    }
  }

  private myLedger(r: VirtualRecord): Uint8Array {
    return r.role === 'alice' ? r.params.ledgerA : r.params.ledgerB
  }

  // ------------------------------------------------------------------ open

  /** Alice: checks, signs version 0, saves, sends the proposal; resolves once Ingrid activated it. */
  open(o: OpenVirtualParameters): { vid: Uint8Array; done: Promise<void> } {
    const ctx = this.ctx
    const peer = toAddress('peer', o.peer)
    const ingrid = toAddress('ingrid', o.ingrid)
    if (peer === ctx.address) throw new InvalidInputError('peer', 'cannot open a virtual channel with oneself')
    const ledgerA = toId('ledger', o.ledger)
    const ledgerB = toId('peerLedger', o.peerLedger)
    const m = ledgerWith(ctx, ledgerA, ingrid, 'ledger')
    const deposit = toAmount('deposit', o.deposit)
    const peerDeposit = toAmount('peerDeposit', o.peerDeposit ?? 0n)
    if (ledgerBalances(m).mine < deposit) throw new VirtualError('INSUFFICIENT_BALANCE', 'deposit', `our balance in the ledger is ${ledgerBalances(m).mine}`)
    const window = o.disputeWindow ?? 20
    const p: VirtualParams = {
      chainId: ctx.l1.chainId,
      adjudicator: ctx.client.contract.address,
      nonce: o.nonce ?? BigInt(ctx.now()) * 1000n + BigInt(Math.floor(Math.random() * 1000)),
      alice: ctx.address,
      bob: peer,
      pkAlice: ctx.signer.publicKey,
      pkBob: o.peerPublicKey,
      ingrid,
      pkIngrid: peerKeyIn(m),
      ledgerA,
      ledgerB,
      deposits: [deposit, peerDeposit],
      disputeWindow: window,
      validity: BigInt(ctx.l1.head().height + (o.validity ?? 10_000)),
    }
    checkParams(p, 'params')
    const vid = virtualId(p)
    if (ctx.records.get(vid) !== undefined) throw new InvalidInputError('nonce', 'virtual channel exists')
    const sigA = ctx.signer.sign(initialDigest(p, vid))
    // Saved before the signature leaves.
    ctx.records.save({ vid, params: p, role: 'alice', status: 'proposed', sigs: [sigA, new Uint8Array()], activation: new Uint8Array(), final: undefined })
    const done = this.wait(this.openWaiters, vid)
    ctx.send(peer, { type: 'propose', params: p, sig: sigA })
    return { vid, done }
  }

  /** Bob: Alice's proposal. */
  onPropose(from: Address, msg: Extract<VirtualMessage, { type: 'propose' }>): void {
    const ctx = this.ctx
    const p = msg.params
    const vid = virtualId(p)
    const known = ctx.records.get(vid)
    if (known !== undefined) {
      // Alice repeats herself (she lost our answer or restarted): answer again.
      if (known.role === 'bob' && from === p.alice && (known.sigs[1]?.length ?? 0) === 64) ctx.send(from, { type: 'accept', channelId: vid, sig: known.sigs[1] as Uint8Array })
      return
    }
    if (from !== p.alice) throw new VirtualError('NOT_PARTY', 'params.alice', 'the proposal does not come from its Alice')
    if (p.bob !== ctx.address) throw new VirtualError('NOT_PARTY', 'params.bob', 'we are not this virtual channel’s Bob')
    if (!bytesEqual(p.pkBob, ctx.signer.publicKey)) throw new VirtualError('MISMATCH', 'params.pkBob', 'not our public key')
    checkDomain(ctx, p)
    checkParams(p, 'params')
    checkWindow(ctx, p)
    const m = ledgerWith(ctx, p.ledgerB, p.ingrid, 'params.ledgerB')
    if (!bytesEqual(peerKeyIn(m), p.pkIngrid)) throw new VirtualError('MISMATCH', 'params.pkIngrid', 'not the key Ingrid holds our ledger with')
    if (p.deposits[1] > ctx.limits.maxShare) throw new VirtualError('LIMIT', 'params.deposits[1]', `asks us to lock ${p.deposits[1]}; we lock at most ${ctx.limits.maxShare}`)
    if (ledgerBalances(m).mine < p.deposits[1])
      throw new VirtualError('INSUFFICIENT_BALANCE', 'params.deposits[1]', `locks ${p.deposits[1]}, our ledger balance is ${ledgerBalances(m).mine}`)
    // A record per proposal is kept until Ingrid funds it (or never): bounded per proposing peer.
    let pending = 0
    for (const r of ctx.records.all()) if (r.role === 'bob' && r.status === 'accepted' && r.params.alice === from) pending++
    if (pending >= ctx.limits.maxPendingPerPeer) throw new VirtualError('LIMIT', 'sender', `${pending} virtual channels proposed by this peer still wait for their locks`)
    const digest = initialDigest(p, vid)
    if (!ctx.verifier.verify(msg.sig, digest, p.pkAlice)) throw new SignatureError('sig', 'Alice’s signature on version 0 invalid')
    const sigB = ctx.signer.sign(digest)
    ctx.records.save({ vid, params: p, role: 'bob', status: 'accepted', sigs: [msg.sig, sigB], activation: new Uint8Array(), final: undefined })
    ctx.send(from, { type: 'accept', channelId: vid, sig: sigB })
  }

  /** Alice: Bob's signature on version 0; she asks Ingrid to lock the ledgers. */
  onAccept(from: Address, msg: Extract<VirtualMessage, { type: 'accept' }>): void {
    const ctx = this.ctx
    const r = ctx.records.require(msg.channelId)
    if (r.role !== 'alice') throw new VirtualError('STATE', 'channelId', 'we did not propose this virtual channel')
    if (from !== r.params.bob) throw new VirtualError('NOT_PARTY', 'sender', 'the answer does not come from Bob')
    if (r.status === 'funding') {
      if (bytesEqual(msg.sig, r.sigs[1])) this.sendFund(r)
      return
    }
    if (r.status !== 'proposed') return
    if (!ctx.verifier.verify(msg.sig, initialDigest(r.params, r.vid), r.params.pkBob)) throw new SignatureError('sig', 'Bob’s signature on version 0 invalid')
    this.sendFund(ctx.records.update(r, { status: 'funding', sigs: [r.sigs[0], msg.sig] }))
  }

  private sendFund(r: VirtualRecord): void {
    this.ctx.send(r.params.ingrid, { type: 'fund', params: r.params, sigA: r.sigs[0] as Uint8Array, sigB: r.sigs[1] as Uint8Array })
  }

  /** Alice or Bob: Ingrid's activation. */
  onActive(from: Address, msg: Extract<VirtualMessage, { type: 'active' }>): void {
    const ctx = this.ctx
    const r = ctx.records.require(msg.channelId)
    if (r.role === 'ingrid') throw new VirtualError('STATE', 'channelId', 'we are this virtual channel’s intermediary')
    if (from !== r.params.ingrid) throw new VirtualError('NOT_PARTY', 'sender', 'the activation does not come from Ingrid')
    if (r.status === 'active' || r.status === 'settling') {
      if (!hasChannel(ctx.channel, r.vid)) this.adopt(r)
      return
    }
    if (r.status !== (r.role === 'alice' ? 'funding' : 'accepted')) throw new VirtualError('STATE', 'channelId', `virtual channel is ${r.status}`)
    if (!ctx.verifier.verify(msg.sig, activationDigest(r.vid), r.params.pkIngrid)) throw new SignatureError('sig', 'Ingrid’s activation invalid')
    const latest = latestLedger(ctx, this.myLedger(r))
    if (latest === undefined || !holdsLock(latest.state, r.vid)) throw new VirtualError('STATE', 'channelId', 'our ledger holds no lock for this virtual channel')
    if (!this.clearOnL1.has(hex(r.vid))) {
      // Anyone of the three may register the parameters on L1 before we knew them (our event
      // watch starts with our record): that outcome would ignore every payment. Read L1 first.
      this.checkL1(r.vid)
        .then((registered) => {
          if (!registered) this.onActive(from, msg)
        })
        .catch((err: unknown) => ctx.record(err))
      return
    }
    this.adopt(ctx.records.update(r, { status: 'active', activation: msg.sig }))
  }

  /**
   * Whether the virtual channel is registered on L1 before its activation:
   * then it never runs (disputed: its ledgers are unlocked by that outcome,
   * off chain once Ingrid sees it is final, or on L1).
   */
  private checkL1(vid: Uint8Array): Promise<boolean> {
    const key = hex(vid)
    const running = this.checking.get(key)
    if (running !== undefined) return running
    const check = readOutcome(this.ctx, vid)
      .then((d) => {
        if (d === undefined) {
          this.clearOnL1.add(key)
          return false
        }
        const cur = this.ctx.records.require(vid)
        if (cur.status !== 'disputed' && cur.status !== 'closed') this.ctx.records.update(cur, { status: 'disputed' })
        this.settle(this.openWaiters, vid, new VirtualError('STATE', 'channelId', 'the virtual channel was registered on L1 before its activation: it runs no payments'))
        return true
      })
      .finally(() => this.checking.delete(key))
    this.checking.set(key, check)
    return check
  }

  /** Runs the virtual channel in the ChannelNode (after the record says active). */
  private adopt(r: VirtualRecord): void {
    const me = r.role === 'alice' ? 0 : 1
    try {
      this.ctx.channel.openFunded(channelParamsOf(r.params, r.vid), me, r.sigs[me === 0 ? 1 : 0] as Uint8Array)
    } catch (err) {
      if (!(err instanceof ChannelError && err.code === 'UNKNOWN_CHANNEL')) throw err
    }
    this.settle(this.openWaiters, r.vid)
  }

  /**
   * A refusal of something we asked. Bob refusing Alice's proposal ends it
   * (nothing was signed by him nor locked). Ingrid's refusal only rejects
   * the waiting call: the record changes on what is signed — an unlock by
   * the deposits (aborted) or her activation — so a refusal cannot strand
   * a lock she did make.
   */
  onRefuse(from: Address, msg: Extract<VirtualMessage, { type: 'refuse' }>): void {
    const r = this.ctx.records.get(msg.channelId)
    if (r === undefined || r.role === 'ingrid') return
    const err = new VirtualError('REFUSED', msg.field || 'channelId', `${from} refused (${msg.code})`)
    if (r.role === 'alice' && r.status === 'proposed' && from === r.params.bob) {
      this.ctx.records.update(r, { status: 'aborted' })
      this.settle(this.openWaiters, r.vid, err)
    } else if (from === r.params.ingrid && (r.status === 'funding' || r.status === 'accepted')) this.settle(this.openWaiters, r.vid, err)
    else if (from === r.params.ingrid && r.status === 'settling') this.settle(this.closeWaiters, r.vid, err)
  }

  // ------------------------------------------------------------------ close

  /** Signs the final state with the peer, then asks Ingrid to unlock; resolves once our ledger no longer holds the lock. */
  async close(vid: Uint8Array): Promise<void> {
    const ctx = this.ctx
    const r = ctx.records.require(vid)
    if (r.role === 'ingrid') throw new VirtualError('STATE', 'channelId', 'the intermediary does not close a virtual channel it is not in')
    if (r.status === 'closed') return
    if (r.status !== 'active' && r.status !== 'settling') throw new VirtualError('STATE', 'channelId', `virtual channel is ${r.status}`)
    const done = this.wait(this.closeWaiters, vid)
    done.catch(() => {}) // (rejected with the stop if finalState fails first: the caller hears finalState's error)
    const final = await ctx.channel.finalState({ channelId: vid })
    this.onFinal(final)
    return done
  }

  /** A final virtual state signed by both (ours, or the peer's close): settling, and ask Ingrid. */
  onFinal(final: SignedState): void {
    const r = this.ctx.records.get(final.state.channelId)
    if (r === undefined || r.role === 'ingrid') return
    const s = r.status === 'active' ? this.ctx.records.update(r, { status: 'settling' }) : r
    if (s.status === 'settling') this.sendSettle(final, s)
  }

  private sendSettle(final: SignedState, r: VirtualRecord): void {
    this.ctx.send(r.params.ingrid, { type: 'settle', state: final.state, sigA: final.sigs[0] as Uint8Array, sigB: final.sigs[1] as Uint8Array })
  }

  /** Every newly signed state of one of our ledgers: a lock appeared or went away. */
  onLedgerSigned(state: SignedState['state']): void {
    for (const r of this.ctx.records.all()) {
      if (r.role === 'ingrid' || !bytesEqual(this.myLedger(r), state.channelId)) continue
      const key = hex(r.vid)
      if (holdsLock(state, r.vid)) {
        this.locked.add(key)
        continue
      }
      if (!this.locked.has(key)) continue
      this.locked.delete(key)
      if (r.status === 'active' || r.status === 'settling' || r.status === 'disputed') this.unlocked(r)
      else if (r.status !== 'closed' && r.status !== 'aborted') {
        this.ctx.records.update(r, { status: 'aborted' })
        this.settle(this.openWaiters, r.vid, new VirtualError('REFUSED', 'channelId', 'Ingrid unlocked our ledger before activating: the open is aborted'))
      }
    }
  }

  /** Our ledger no longer holds the lock of an activated channel: it is paid out. */
  private unlocked(r: VirtualRecord): void {
    this.ctx.records.update(r, { status: 'closed' })
    if (hasChannel(this.ctx.channel, r.vid)) this.ctx.channel.settled({ channelId: r.vid })
    this.settle(this.closeWaiters, r.vid)
  }

  /** A peer (re)connected on the coordination link: resend what the records say is outstanding. */
  resend(peer: Address): void {
    for (const r of this.ctx.records.all()) {
      const p = r.params
      if (r.role === 'alice' && r.status === 'proposed' && peer === p.bob) this.ctx.send(peer, { type: 'propose', params: p, sig: r.sigs[0] as Uint8Array })
      if (r.role === 'alice' && r.status === 'funding' && peer === p.ingrid) this.sendFund(r)
      if (r.role !== 'ingrid' && r.status === 'settling' && peer === p.ingrid) {
        const latest = hasChannel(this.ctx.channel, r.vid) ? this.ctx.channel.latest(r.vid) : undefined
        if (latest?.state.isFinal) this.sendSettle(latest, r)
      }
    }
  }

  /** Gives up waiting (open or close) after `ms`; the records stay (the caller may retry or go to L1). */
  expire(now: number, ms: number): void {
    for (const [map, what] of [
      [this.openWaiters, 'open'],
      [this.closeWaiters, 'close'],
    ] as const)
      for (const [k, w] of map)
        if (now - w.since >= ms) {
          map.delete(k)
          w.reject(new VirtualError('TIMEOUT', 'channelId', `no ${what} of the virtual channel within ${ms} ms; retry, or settle it on L1`))
        }
  }

  rejectAll(err: Error): void {
    for (const map of [this.openWaiters, this.closeWaiters]) {
      for (const w of map.values()) w.reject(err)
      map.clear()
    }
  }

  private wait(map: Map<string, Waiter>, vid: Uint8Array): Promise<void> {
    const key = hex(vid)
    map.get(key)?.reject(new VirtualError('STATE', 'channelId', 'superseded by a newer request'))
    return new Promise<void>((resolve, reject) => map.set(key, { resolve, reject, since: this.ctx.now() }))
  }

  private settle(map: Map<string, Waiter>, vid: Uint8Array, err?: Error): void {
    const key = hex(vid)
    const w = map.get(key)
    map.delete(key)
    if (err === undefined) w?.resolve()
    else w?.reject(err)
  }
}

function latestLedger(ctx: VirtualContext, id: Uint8Array): SignedState | undefined {
  try {
    return ctx.channel.latest(id)
  } catch {
    return undefined
  }
}

function toId(field: string, v: Uint8Array | `0x${string}`): Uint8Array {
  const b = typeof v === 'string' ? Buffer.from(v.replace(/^0x/, ''), 'hex') : v
  if (!(b instanceof Uint8Array) || b.length !== 32) throw new InvalidInputError(field, 'expected a 32-byte channel id')
  return new Uint8Array(b)
}

export function checkDomain(ctx: VirtualContext, p: VirtualParams): void {
  if (p.chainId !== ctx.l1.chainId) throw new VirtualError('MISMATCH', 'params.chainId', 'another chain')
  if (p.adjudicator !== ctx.client.contract.address) throw new VirtualError('MISMATCH', 'params.adjudicator', 'another adjudicator')
}

export function checkWindow(ctx: VirtualContext, p: VirtualParams): void {
  const l = ctx.limits
  if (p.disputeWindow < l.minDisputeWindow || p.disputeWindow > l.maxDisputeWindow)
    throw new VirtualError('LIMIT', 'params.disputeWindow', `dispute window ${p.disputeWindow} outside [${l.minDisputeWindow}, ${l.maxDisputeWindow}]`)
}

/** Whether an error is a refusal worth telling the sender about (as opposed to a local failure). */
export function isRefusal(err: unknown): err is L2Error {
  return err instanceof L2Error && (err instanceof VirtualError ? err.code !== 'STOPPED' : err instanceof SignatureError || err instanceof AmountError || err instanceof InvalidInputError || err instanceof ChannelError || err.name === 'DecodeError')
}
