/**
 * PaychContract: the on-chain half of Filecoin-style voucher channels, hosted
 * by the L1 mock. One contract holds every channel (like Filecoin's init actor
 * plus one paych actor per channel); a channel's address is derived from the
 * contract and the hash of the transaction that created it, so the creator
 * knows it the moment it signs the transaction, before any block.
 *
 * Methods (calldata = a tagged message of `paychAbi`):
 *  - create {to, fromPublicKey} + value: opens from → to with the value.
 *    The sender registers its public key (signatures carry no recovery id).
 *  - addFunds {channel} + value: anyone may top a channel up until settling ends.
 *  - update {voucher, secret}: from or to redeems a voucher signed by `from`
 *    (rules.ts: lanes, nonces, cumulative amounts, merges, time locks, secret).
 *  - settle {channel}: from or to starts the settle delay (default 3,600 blocks,
 *    12 hours of 12 s blocks), or waits until minSettleHeight if later.
 *  - collect {channel}: after settlingAt, `to` gets toSend and `from` the rest.
 *
 * Gas goes through the CallContext only: storage per channel (meta: 3 slots,
 * state: 2 slots) and per lane (1 slot: nonce and redeemed packed), keccak of
 * the voucher digest, one signature check, sha256 of a secret, value
 * transfers and events. Voucher `extra` (a call into another contract) is not
 * supported.
 */
import {
  type Address,
  InvalidInputError,
  addressFromBytes,
  addressToBytes,
  assertInt,
  codec,
  fromHex,
  keccakTagged,
  publicKeyToAddress,
  sha256,
} from '@l2bench/core'
import { type CallContext, Contract, GAS_SCHEDULE, type ReadContext, words } from '@l2bench/l1-mock'
import { PaychError } from './errors.ts'
import { type ChannelState, type LaneState, applyVoucher } from './rules.ts'
import { MAX_SECRET_BYTES, type SignedVoucher, signedVoucherCodec, voucherBody, voucherDigest, voucherSigningBytes } from './voucher.ts'

/** 12 hours of 12-second blocks (Filecoin's SettleDelay is 12 hours of epochs). */
export const DEFAULT_SETTLE_DELAY = 3600

export const paychAbi = codec.messages({
  create: [1, codec.struct({ to: codec.address, fromPublicKey: codec.fixedBytes(33) })],
  addFunds: [2, codec.struct({ channel: codec.address })],
  update: [3, codec.struct({ voucher: signedVoucherCodec, secret: codec.optional(codec.bytes(MAX_SECRET_BYTES)) })],
  settle: [4, codec.struct({ channel: codec.address })],
  collect: [5, codec.struct({ channel: codec.address })],
})
export type PaychCall = codec.Infer<typeof paychAbi>

interface ChannelMeta {
  from: Address
  to: Address
  fromKey: Uint8Array
}

interface ChannelSlot extends ChannelState {
  closed: boolean
  /** Bumped on every state change, so readers can tell their snapshot is stale. */
  version: number
}

/** Everything the chain knows about one channel (the `channel` view). */
export interface ChannelInfo extends ChannelState {
  channel: Address
  from: Address
  to: Address
  fromKey: Uint8Array
  closed: boolean
  version: number
}

export interface PaychConfig {
  settleDelay: number
}

const CHANNEL_TAG = 'l2bench/paych/channel/v1'

/** The address of the channel created by transaction `txHash` on `contract`. */
export function channelAddressFor(contract: Address, txHash: `0x${string}`): Address {
  return addressFromBytes(keccakTagged(CHANNEL_TAG, addressToBytes('contract', contract), fromHex('txHash', txHash, 32)).subarray(12))
}

const metaKey = (ch: Address) => `c:${ch}:m`
const slotKey = (ch: Address) => `c:${ch}:s`
const laneKey = (ch: Address, lane: number) => `l:${ch}:${lane}`

export class PaychContract extends Contract<PaychCall> {
  readonly name = 'Paych'
  readonly abi = paychAbi
  readonly settleDelay: number

  constructor(options: { settleDelay?: number } = {}) {
    super()
    this.settleDelay = options.settleDelay ?? DEFAULT_SETTLE_DELAY
    assertInt('settleDelay', this.settleDelay, 1, 2 ** 31)
  }

  execute(ctx: CallContext, call: PaychCall): unknown {
    switch (call.type) {
      case 'create':
        return this.create(ctx, call.to, call.fromPublicKey)
      case 'addFunds':
        return this.addFunds(ctx, call.channel)
      case 'update':
        return this.update(ctx, call.voucher, call.secret)
      case 'settle':
        return this.settle(ctx, call.channel)
      case 'collect':
        return this.collect(ctx, call.channel)
    }
  }

  private create(ctx: CallContext, to: Address, fromKey: Uint8Array): Address {
    // Deriving the address of a key is a keccak over its 64-byte uncompressed form.
    ctx.chargeGas('keccakBase', 'create.keyAddress', GAS_SCHEDULE.keccakBase + GAS_SCHEDULE.keccakWord * 2)
    let keyAddress: Address
    try {
      keyAddress = publicKeyToAddress(fromKey)
    } catch {
      throw new PaychError('BAD_PUBLIC_KEY', 'fromPublicKey is not a valid secp256k1 point', { field: 'fromPublicKey' })
    }
    if (keyAddress !== ctx.sender)
      throw new PaychError('BAD_PUBLIC_KEY', `fromPublicKey belongs to ${keyAddress}, not the sender ${ctx.sender}`, { field: 'fromPublicKey' })
    if (to === ctx.sender) throw new InvalidInputError('to', 'a channel to oneself is not allowed')
    ctx.chargeGas('keccakBase', 'create.channelAddress', GAS_SCHEDULE.keccakBase + GAS_SCHEDULE.keccakWord * 2)
    const channel = channelAddressFor(ctx.self, ctx.txHash)
    if (ctx.sload(slotKey(channel), 'create.exists') !== undefined)
      throw new InvalidInputError('channel', `channel ${channel} already exists`)
    const meta: ChannelMeta = { from: ctx.sender, to, fromKey: fromKey.slice() }
    ctx.sstore(metaKey(channel), meta, 'create.meta', 3)
    const slot: ChannelSlot = {
      balance: ctx.value,
      toSend: 0n,
      settlingAt: 0,
      minSettleHeight: 0,
      laneCount: 0,
      closed: false,
      version: 1,
    }
    ctx.sstore(slotKey(channel), slot, 'create.state', 2)
    ctx.emit('Create', { channel, from: ctx.sender, to, amount: ctx.value }, { topics: 3 })
    return channel
  }

  /** Loads a live channel or reverts; the state slot is read as 2 slots. */
  private load(ctx: CallContext, channel: Address, label: string): { meta: ChannelMeta; slot: ChannelSlot } {
    const slot = ctx.sload<ChannelSlot>(slotKey(channel), `${label}.state`)
    if (slot === undefined) throw new PaychError('UNKNOWN_CHANNEL', `no channel ${channel}`, { field: 'channel' })
    ctx.charge('storageWarmRead', `${label}.state`)
    if (slot.closed) throw new PaychError('CHANNEL_CLOSED', `channel ${channel} was collected`, { field: 'channel' })
    const meta = ctx.sload<ChannelMeta>(metaKey(channel), `${label}.meta`) as ChannelMeta
    ctx.charge('storageWarmRead', `${label}.meta`, 2)
    return { meta, slot }
  }

  private requireParty(ctx: CallContext, meta: ChannelMeta): void {
    if (ctx.sender !== meta.from && ctx.sender !== meta.to)
      throw new PaychError('NOT_PARTY', `${ctx.sender} is neither from nor to`, { field: 'sender' })
  }

  private addFunds(ctx: CallContext, channel: Address): void {
    if (ctx.value === 0n) throw new PaychError('ZERO_AMOUNT', 'addFunds needs a positive value', { field: 'value' })
    const { slot } = this.load(ctx, channel, 'addFunds')
    if (slot.settlingAt !== 0 && ctx.height >= slot.settlingAt)
      throw new PaychError('SETTLING_FINISHED', `settling finished at height ${slot.settlingAt}`, { field: 'channel' })
    const balance = slot.balance + ctx.value
    ctx.sstore(slotKey(channel), { ...slot, balance, version: slot.version + 1 }, 'addFunds.state', 1)
    ctx.emit('AddFunds', { channel, amount: ctx.value, balance }, { topics: 2 })
  }

  private update(ctx: CallContext, sv: SignedVoucher, secret: Uint8Array | undefined): { delta: bigint; toSend: bigint } {
    const { meta, slot } = this.load(ctx, sv.channel, 'update')
    this.requireParty(ctx, meta)
    const effect = applyVoucher(sv.channel, slot, sv, {
      height: ctx.height,
      locks: 'all',
      secret,
      getLane: (lane) => ctx.sload<LaneState>(laneKey(sv.channel, lane), 'update.lane'),
      verifySignature: (v) => {
        const body = voucherBody(v)
        const n = voucherSigningBytes(body).length + 8 + 20 + 32
        ctx.chargeGas('keccakBase', 'update.digest', GAS_SCHEDULE.keccakBase + GAS_SCHEDULE.keccakWord * words(n))
        const digest = voucherDigest({ chainId: ctx.chainId, contract: ctx.self }, body)
        return ctx.verifySignature('update.signature', v.signature, digest, meta.fromKey)
      },
      hashSecret: (s) => {
        ctx.chargeGas('sha256Base', 'update.secret', GAS_SCHEDULE.sha256Base + GAS_SCHEDULE.sha256Word * words(s.length))
        return sha256(s)
      },
    })
    for (const [lane, state] of effect.laneWrites) ctx.sstore(laneKey(sv.channel, lane), state, 'update.lane')
    const next: ChannelSlot = {
      ...slot,
      toSend: effect.toSend,
      laneCount: effect.laneCount,
      settlingAt: effect.settlingAt,
      minSettleHeight: effect.minSettleHeight,
      version: slot.version + 1,
    }
    // toSend shares a slot with the balance; the heights and lane count share the second one.
    const touchesSecond = next.settlingAt !== slot.settlingAt || next.minSettleHeight !== slot.minSettleHeight || effect.newLane
    ctx.sstore(slotKey(sv.channel), next, 'update.state', touchesSecond ? 2 : 1)
    // A redeemed hash lock publishes its secret, so an intermediary paying on the same
    // hash (hub and spoke, seed 004 V1) can redeem its own incoming voucher with it.
    const revealed = sv.secretHash !== undefined && secret !== undefined ? secret.slice() : undefined
    ctx.emit(
      'Update',
      { channel: sv.channel, lane: sv.lane, nonce: sv.nonce, amount: sv.amount, toSend: effect.toSend, secret: revealed },
      { topics: 2, dataBytes: 5 * 32 + (revealed?.length ?? 0) },
    )
    return { delta: effect.delta, toSend: effect.toSend }
  }

  private settle(ctx: CallContext, channel: Address): number {
    const { meta, slot } = this.load(ctx, channel, 'settle')
    this.requireParty(ctx, meta)
    if (slot.settlingAt !== 0) throw new PaychError('ALREADY_SETTLING', `channel settles at height ${slot.settlingAt}`, { field: 'channel' })
    const settlingAt = Math.max(ctx.height + this.settleDelay, slot.minSettleHeight)
    ctx.sstore(slotKey(channel), { ...slot, settlingAt, version: slot.version + 1 }, 'settle.state', 1)
    ctx.emit('Settle', { channel, settlingAt, from: meta.from, to: meta.to }, { topics: 2 })
    return settlingAt
  }

  private collect(ctx: CallContext, channel: Address): { toTo: bigint; toFrom: bigint } {
    const { meta, slot } = this.load(ctx, channel, 'collect')
    this.requireParty(ctx, meta)
    if (slot.settlingAt === 0) throw new PaychError('NOT_SETTLING', 'settle the channel first', { field: 'channel' })
    if (ctx.height < slot.settlingAt)
      throw new PaychError('SETTLE_NOT_DUE', `collect from height ${slot.settlingAt}, now ${ctx.height}`, { field: 'channel' })
    const toTo = slot.toSend
    const toFrom = slot.balance - slot.toSend
    ctx.sstore(slotKey(channel), { ...slot, balance: 0n, toSend: 0n, closed: true, version: slot.version + 1 }, 'collect.state', 2)
    ctx.transfer(meta.to, toTo, 'collect.toTo')
    ctx.transfer(meta.from, toFrom, 'collect.toFrom')
    ctx.emit('Collect', { channel, toTo, toFrom }, { topics: 2 })
    return { toTo, toFrom }
  }

  override view(ctx: ReadContext, method: string, args: unknown[]): unknown {
    switch (method) {
      case 'config':
        return { settleDelay: this.settleDelay } satisfies PaychConfig
      case 'channel': {
        const channel = args[0] as Address
        const slot = ctx.sload<ChannelSlot>(slotKey(channel))
        const meta = ctx.sload<ChannelMeta>(metaKey(channel))
        if (slot === undefined || meta === undefined) return undefined
        return { channel, ...meta, fromKey: meta.fromKey.slice(), ...slot } satisfies ChannelInfo
      }
      case 'lanes': {
        const channel = args[0] as Address
        const lanes = args[1] as number[]
        return lanes.map((l) => {
          const s = ctx.sload<LaneState>(laneKey(channel, l))
          return s === undefined ? undefined : { ...s }
        })
      }
      default:
        return super.view(ctx, method, args)
    }
  }
}
