/** Shared fixtures for the paych tests: a mock chain, funded wallets, a deployed contract. */
import assert from 'node:assert/strict'
import { type Address, NodeSigner, type Signer, secretKeyFromSeed } from '@l2bench/core'
import { type CallContext, MockL1, type MockL1Options, type Receipt, RevertError, Wallet } from '@l2bench/l1-mock'
import { type PaychCall, PaychContract, PaychManager, SqliteStore, type ChannelInfo, type LaneState, PaychError, type PaychErrorCode, type SignedVoucher, type VoucherBody, plainVoucher, signVoucher } from '../src/index.ts'

export const ETH = 10n ** 18n

export interface World {
  l1: MockL1
  contract: PaychContract
  payer: Wallet
  payee: Wallet
  mallory: Wallet
  /** Calls of these types revert when mined (on-chain failure without a reorg); filled by tests. */
  reverts: Set<PaychCall['type']>
}

/** The paych contract with injected reverts: a call whose type is in `reverts` fails in the block. */
class RevertingPaych extends PaychContract {
  constructor(
    options: { settleDelay?: number },
    readonly reverts: Set<PaychCall['type']>,
  ) {
    super(options)
  }
  override execute(ctx: CallContext, call: PaychCall): unknown {
    if (this.reverts.has(call.type)) throw new RevertError(`injected revert of ${call.type}`)
    return super.execute(ctx, call)
  }
}

export function makeWorld(options: MockL1Options & { settleDelay?: number; seed?: string; injectReverts?: boolean } = {}): World {
  const { settleDelay, seed = 'w', injectReverts = false, ...l1Options } = options
  const l1 = new MockL1(l1Options)
  const reverts = new Set<PaychCall['type']>()
  const config = settleDelay === undefined ? {} : { settleDelay }
  const contract = l1.deploy(injectReverts ? new RevertingPaych(config, reverts) : new PaychContract(config))
  const wallet = (name: string) => new Wallet(new NodeSigner(secretKeyFromSeed(`${seed}/${name}`)), l1)
  const payer = wallet('payer')
  const payee = wallet('payee')
  const mallory = wallet('mallory')
  for (const w of [payer, payee, mallory]) l1.mint(w.address, 1000n * ETH)
  return { l1, contract, payer, payee, mallory, reverts }
}

/** Opens a channel payer → payee directly through the contract (auto-mine). */
export async function openChannel(w: World, amount: bigint, from = w.payer, to = w.payee.address): Promise<Address> {
  const r = await from.callOk(w.contract, { type: 'create', to, fromPublicKey: from.signer.publicKey }, { value: amount })
  return r.result as Address
}

export function voucher(signer: Signer, w: World, body: VoucherBody): SignedVoucher {
  return signVoucher(signer, { chainId: w.l1.chainId, contract: w.contract.address }, body)
}

export function plain(signer: Signer, w: World, channel: Address, lane: number, nonce: bigint, amount: bigint, extra: Partial<VoucherBody> = {}): SignedVoucher {
  return voucher(signer, w, { ...plainVoucher(channel, lane, nonce, amount), ...extra })
}

export function channelInfo(w: World, channel: Address): ChannelInfo {
  const info = w.l1.readSync<ChannelInfo | undefined>(w.contract.address, 'channel', [channel])
  assert.ok(info, `channel ${channel} exists`)
  return info
}

export function lanes(w: World, channel: Address, ids: number[]): Array<LaneState | undefined> {
  return w.l1.readSync(w.contract.address, 'lanes', [channel, ids])
}

export function revertCode(r: Receipt): PaychErrorCode | undefined {
  return PaychError.fromRevert(r.revertReason)?.code
}

export function assertReverted(r: Receipt, code: PaychErrorCode): void {
  assert.equal(r.status, 'reverted', `expected revert ${code}`)
  assert.equal(revertCode(r), code, r.revertReason)
}

export async function rejectsWith(p: Promise<unknown> | (() => unknown), code: PaychErrorCode): Promise<void> {
  await assert.rejects(
    async () => (typeof p === 'function' ? p() : p),
    (err: unknown) => {
      assert.ok(err instanceof PaychError, `expected PaychError ${code}, got ${String(err)}`)
      assert.equal(err.code, code, err.message)
      return true
    },
  )
}

/** The process died at this point (thrown by a CrashPlan; nothing after it may touch the store or the L1). */
export class CrashError extends Error {
  override name = 'CrashError'
}

/**
 * Crash injection: every store write and every L1 send is a numbered point
 * (a send is two: before it reaches the L1 and after). At point `crashAt`
 * the "process" dies: that call throws CrashError and so does every later
 * write or send, as if the process were gone. A transaction cut in the middle
 * rolls back (SQLite), so crashing before write k is crashing after write k − 1.
 */
export class CrashPlan {
  points = 0
  crashed = false
  readonly log: string[] = []
  constructor(readonly crashAt = Number.POSITIVE_INFINITY) {}
  step(label: string): void {
    if (this.crashed) throw new CrashError(`dead (${label})`)
    this.points++
    this.log.push(label)
    if (this.points === this.crashAt) {
      this.crashed = true
      throw new CrashError(`crash at point ${this.points}: ${label}`)
    }
  }
}

const STORE_WRITES = new Set(['putChannel', 'deleteChannel', 'putLane', 'addVoucher', 'setSubmitted', 'setReserved', 'putPending', 'deletePending'])

/** `store` with a crash point before each write. */
export function crashingStore<S extends object>(store: S, plan: CrashPlan): S {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver)
      if (typeof v !== 'function') return v
      if (typeof prop === 'string' && STORE_WRITES.has(prop))
        return (...args: unknown[]) => {
          plan.step(`store.${prop}`)
          return v.apply(target, args)
        }
      return v.bind(target)
    },
  })
}

/** `l1` with crash points before and after each `send`. */
export function crashingL1(l1: MockL1, plan: CrashPlan): MockL1 {
  return new Proxy(l1, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver)
      if (typeof v !== 'function') return v
      if (prop === 'send')
        return async (tx: unknown) => {
          plan.step('l1.send')
          const hash = await v.call(target, tx)
          plan.step('l1.sent')
          return hash
        }
      return v.bind(target)
    },
  })
}

/** Lets promise callbacks and setImmediate tasks run. */
export async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r))
}

/** Mines until the mempool is empty and the managers have processed every receipt (bounded). */
export async function settleAll(l1: MockL1, managers: Array<{ idle(): Promise<void> }>, rounds = 16): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await turns() // background work (a reopened manager's settler, queued funding) runs before the next block
    if (l1.pendingCount() > 0) l1.mine()
    await turns()
    if (l1.pendingCount() === 0) {
      for (const m of managers) await m.idle()
      if (l1.pendingCount() === 0) return
    }
  }
  throw new Error(`still ${l1.pendingCount()} transactions pending after ${rounds} blocks`)
}

/** Opens a manager for `wallet`'s key over the SQLite file `path`, its store and L1 wired to `plan`. */
export async function openCrashing(w: World, wallet: Wallet, path: string, plan: CrashPlan): Promise<PaychManager> {
  const l1 = crashingL1(w.l1, plan)
  return PaychManager.open({ l1, wallet: new Wallet(wallet.signer, l1), contract: w.contract, store: crashingStore(new SqliteStore(path), plan) })
}

/** Reopens after a kill or a close: plain L1, plain store, a fresh Wallet object (it knows no nonces). */
export function reopen(w: World, wallet: Wallet, path: string): Promise<PaychManager> {
  return PaychManager.open({ l1: w.l1, wallet: new Wallet(wallet.signer, w.l1), contract: w.contract, store: new SqliteStore(path) })
}

/** Base-16 digits, least significant first (amounts are distinct powers of 16: a digit of 2 is a double send). */
export function base16Digits(x: bigint): number[] {
  const out: number[] = []
  for (let v = x; v > 0n; v /= 16n) out.push(Number(v % 16n))
  return out
}

export function log16(x: bigint): number {
  let n = 0
  for (let v = x; v > 1n; v /= 16n) n++
  return n
}

/**
 * After the payer's manager was killed or closed: reopens it over `path` with
 * a fresh Wallet, mines until nothing is pending, and checks the funding
 * outcome — the reopened manager met no error; every channel the payer
 * created on chain is tracked with matching confirmed funds and nothing
 * pending or queued; no amount (distinct powers of 16) reached L1 twice;
 * every acknowledged amount reached it; L1 holds exactly what the store
 * promised (confirmed + pending + queued) before the reopen; payer spent =
 * channel funds + gas (only the payer sends here).
 */
export async function checkFundingAfterRestart(w: World, path: string, acked: Iterable<bigint>, payerStart: bigint, where: string): Promise<void> {
  const reader = new SqliteStore(path)
  let promised = 0n
  for (const rec of reader.listChannels()) if (rec.direction === 'outbound') promised += rec.confirmed + rec.pendingAmount + rec.queued
  reader.close()
  const m = await reopen(w, w.payer, path)
  await settleAll(w.l1, [m])
  assert.deepEqual(m.backgroundErrors.map(String), [], where)
  const created = w.l1.events({ address: w.contract.address, name: 'Create' }).filter((e) => e.data.from === w.payer.address)
  let onChain = 0n
  for (const e of created) {
    const ch = e.data.channel as Address
    const st = await m.status(ch) // UNKNOWN_CHANNEL if the manager forgot a channel it created
    const balance = channelInfo(w, ch).balance
    assert.deepEqual([st.direction, st.confirmedAmount, st.pendingAmount, st.queuedAmount], ['outbound', balance, 0n, 0n], where)
    onChain += balance
  }
  assert.deepEqual((await m.list()).sort(), created.map((e) => e.data.channel as Address).sort(), where)
  const digits = base16Digits(onChain)
  assert.ok(
    digits.every((d) => d <= 1),
    `an amount reached L1 twice: 0x${onChain.toString(16)} (${where})`,
  )
  for (const a of acked) assert.equal(digits[log16(a)], 1, `acknowledged ${a} never reached L1 (${where})`)
  assert.equal(onChain, promised, `L1 holds ${onChain}, the store promised ${promised} (${where})`)
  assert.equal(w.l1.balanceOf(w.contract.address), onChain, where)
  assert.equal(payerStart - w.l1.balanceOf(w.payer.address), onChain + w.l1.totalBurnt(), `payer spent = channel funds + gas (${where})`)
  assert.equal(w.l1.totalBalances() + w.l1.totalBurnt(), w.l1.totalMinted())
  m.close()
}
