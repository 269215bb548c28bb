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
 * Storage and gas mirror the Solidity port (packages/l1-evm/contracts/
 * Paych.sol), slot for slot: per channel 3 slots (from, settle heights, lane
 * count, closed; to, version; balance, toSend) and per lane 1 (nonce and
 * redeemed packed). The sender's key is not stored on chain (the port logs it
 * at create and recovers the voucher signer with ecrecover); the host keeps it
 * beside the contract (no slots) for its own check. Reads charge the slots
 * the port reads, writes the slots it changes; calls are charged as their
 * ABI bytes (abi.ts). Voucher `extra` (a call into another contract) is not
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
import {
  type AbiCall,
  type AbiEnv,
  type AbiItem,
  type CallContext,
  Contract,
  NO_SLOTS,
  type ReadContext,
  type SlotLayout,
  findEvent,
  codecStepGas,
  keccakGas,
  logShape,
  sha256Gas,
} from '@l2bench/l1-mock'
import { PAYCH_ABI, paychAbiCall } from './abi.ts'
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

/** A channel as the port's `Channel` struct holds it. */
interface ChannelRecord extends ChannelState {
  from: Address
  to: Address
  closed: boolean
  /** Bumped on every state change, so readers can tell their snapshot is stale. */
  version: number
}

/** Slot 0: from, settlingAt, minSettleHeight, laneCount, closed; 1: to, version; 2: balance, toSend. */
const CHANNEL_SLOTS: SlotLayout<ChannelRecord> = (c) => [
  [c.from, c.settlingAt, c.minSettleHeight, c.laneCount, c.closed],
  [c.to, c.version],
  [c.balance, c.toSend],
]
const SLOT_HEAD = 0
const SLOT_TO = 1
const SLOT_MONEY = 2
/** A lane: nonce and redeemed packed in one slot. */
const LANE_SLOTS: SlotLayout<LaneState> = (l) => [[l.nonce, l.redeemed]]

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

const channelKey = (ch: Address) => `c:${ch}`
const keyKey = (ch: Address) => `k:${ch}`
const laneKey = (ch: Address, lane: number) => `l:${ch}:${lane}`

export class PaychContract extends Contract<PaychCall> {
  readonly name = 'Paych'
  readonly abi = paychAbi
  override readonly solidityAbi: readonly AbiItem[] = PAYCH_ABI
  readonly settleDelay: number

  constructor(options: { settleDelay?: number } = {}) {
    super()
    this.settleDelay = options.settleDelay ?? DEFAULT_SETTLE_DELAY
    assertInt('settleDelay', this.settleDelay, 1, 2 ** 31)
  }

  override toAbiCall(call: PaychCall, env: AbiEnv): AbiCall {
    return paychAbiCall(call, env)
  }

  private log(name: string): { topics: number; dataBytes: number } {
    return logShape(findEvent(PAYCH_ABI, name))
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
    ctx.chargeGas('keccakBase', 'create.keyAddress', keccakGas(64))
    let keyAddress: Address
    try {
      keyAddress = publicKeyToAddress(fromKey)
    } catch {
      throw new PaychError('BAD_PUBLIC_KEY', 'fromPublicKey is not a valid secp256k1 point', { field: 'fromPublicKey' })
    }
    if (keyAddress !== ctx.sender)
      throw new PaychError('BAD_PUBLIC_KEY', `fromPublicKey belongs to ${keyAddress}, not the sender ${ctx.sender}`, { field: 'fromPublicKey' })
    if (to === ctx.sender) throw new InvalidInputError('to', 'a channel to oneself is not allowed')
    ctx.chargeGas('keccakBase', 'create.channelAddress', keccakGas(32 + 20 + 32))
    const channel = channelAddressFor(ctx.self, ctx.txHash)
    if (ctx.sload(channelKey(channel), 'create.exists', CHANNEL_SLOTS, [SLOT_HEAD]) !== undefined)
      throw new InvalidInputError('channel', `channel ${channel} already exists`)
    const record: ChannelRecord = {
      from: ctx.sender,
      to,
      balance: ctx.value,
      toSend: 0n,
      settlingAt: 0,
      minSettleHeight: 0,
      laneCount: 0,
      closed: false,
      version: 1,
    }
    ctx.sstore(channelKey(channel), record, 'create.channel', CHANNEL_SLOTS)
    // The port stores no key (it logs it in Create); the host keeps it for its own signature check.
    ctx.sstore(keyKey(channel), fromKey.slice(), 'create.key', NO_SLOTS)
    ctx.emit('Create', { channel, from: ctx.sender, to, amount: ctx.value }, this.log('Create'))
    return channel
  }

  /** Loads a live channel or reverts, charging the slots `only` the caller reads (slot 0 always: from and closed). */
  private load(ctx: CallContext, channel: Address, label: string, only: readonly number[]): ChannelRecord {
    const c = ctx.sload<ChannelRecord>(channelKey(channel), `${label}.load`, CHANNEL_SLOTS, [SLOT_HEAD])
    if (c === undefined) throw new PaychError('UNKNOWN_CHANNEL', `no channel ${channel}`, { field: 'channel' })
    if (c.closed) throw new PaychError('CHANNEL_CLOSED', `channel ${channel} was collected`, { field: 'channel' })
    ctx.sload(channelKey(channel), `${label}.load`, CHANNEL_SLOTS, only)
    return c
  }

  /** from or to (the port reads `to`, slot 1, only when the sender is not `from`). */
  private requireParty(ctx: CallContext, channel: Address, c: ChannelRecord, label: string): void {
    if (ctx.sender === c.from) return
    ctx.sload(channelKey(channel), `${label}.load`, CHANNEL_SLOTS, [SLOT_TO])
    if (ctx.sender !== c.to) throw new PaychError('NOT_PARTY', `${ctx.sender} is neither from nor to`, { field: 'sender' })
  }

  private addFunds(ctx: CallContext, channel: Address): void {
    if (ctx.value === 0n) throw new PaychError('ZERO_AMOUNT', 'addFunds needs a positive value', { field: 'value' })
    const c = this.load(ctx, channel, 'addFunds', [SLOT_MONEY])
    if (c.settlingAt !== 0 && ctx.height >= c.settlingAt)
      throw new PaychError('SETTLING_FINISHED', `settling finished at height ${c.settlingAt}`, { field: 'channel' })
    const balance = c.balance + ctx.value
    ctx.sstore(channelKey(channel), { ...c, balance, version: c.version + 1 }, 'addFunds.channel', CHANNEL_SLOTS)
    ctx.emit('AddFunds', { channel, amount: ctx.value, balance }, this.log('AddFunds'))
  }

  private update(ctx: CallContext, sv: SignedVoucher, secret: Uint8Array | undefined): { delta: bigint; toSend: bigint } {
    const c = this.load(ctx, sv.channel, 'update', [])
    this.requireParty(ctx, sv.channel, c, 'update')
    const fromKey = ctx.sload<Uint8Array>(keyKey(sv.channel), 'update.key', NO_SLOTS) as Uint8Array
    const effect = applyVoucher(sv.channel, c, sv, {
      height: ctx.height,
      locks: 'all',
      secret,
      getLane: (lane) => ctx.sload<LaneState>(laneKey(sv.channel, lane), 'update.lane', LANE_SLOTS),
      verifySignature: (v) => {
        const body = voucherBody(v)
        const n = voucherSigningBytes(body).length + 8 + 20 + 32
        ctx.chargeGas('keccakBase', 'update.digest', keccakGas(n))
        ctx.step('update.encode', codecStepGas(1))
        const digest = voucherDigest({ chainId: ctx.chainId, contract: ctx.self }, body)
        return ctx.verifySignature('update.signature', v.signature, digest, fromKey)
      },
      hashSecret: (s) => {
        ctx.chargeGas('sha256Base', 'update.secret', sha256Gas(s.length))
        return sha256(s)
      },
    })
    // toSend is checked against the balance (slot 2).
    ctx.sload(channelKey(sv.channel), 'update.load', CHANNEL_SLOTS, [SLOT_MONEY])
    for (const [lane, state] of effect.laneWrites) ctx.sstore(laneKey(sv.channel, lane), state, 'update.lane', LANE_SLOTS)
    const next: ChannelRecord = {
      ...c,
      toSend: effect.toSend,
      laneCount: effect.laneCount,
      settlingAt: effect.settlingAt,
      minSettleHeight: effect.minSettleHeight,
      version: c.version + 1,
    }
    ctx.sstore(channelKey(sv.channel), next, 'update.channel', CHANNEL_SLOTS)
    // A redeemed hash lock publishes its secret, so an intermediary paying on the same
    // hash (hub and spoke, seed 004 V1) can redeem its own incoming voucher with it.
    const revealed = sv.secretHash !== undefined && secret !== undefined ? secret.slice() : undefined
    ctx.emit(
      'Update',
      { channel: sv.channel, lane: sv.lane, nonce: sv.nonce, amount: sv.amount, toSend: effect.toSend, secret: revealed },
      logShape(findEvent(PAYCH_ABI, 'Update'), { secret: revealed?.length ?? 0 }),
    )
    return { delta: effect.delta, toSend: effect.toSend }
  }

  private settle(ctx: CallContext, channel: Address): number {
    const c = this.load(ctx, channel, 'settle', [])
    this.requireParty(ctx, channel, c, 'settle')
    if (c.settlingAt !== 0) throw new PaychError('ALREADY_SETTLING', `channel settles at height ${c.settlingAt}`, { field: 'channel' })
    const settlingAt = Math.max(ctx.height + this.settleDelay, c.minSettleHeight)
    ctx.sstore(channelKey(channel), { ...c, settlingAt, version: c.version + 1 }, 'settle.channel', CHANNEL_SLOTS)
    ctx.sload(channelKey(channel), 'settle.load', CHANNEL_SLOTS, [SLOT_HEAD, SLOT_TO])
    ctx.emit('Settle', { channel, settlingAt, from: c.from, to: c.to }, this.log('Settle'))
    return settlingAt
  }

  private collect(ctx: CallContext, channel: Address): { toTo: bigint; toFrom: bigint } {
    const c = this.load(ctx, channel, 'collect', [SLOT_MONEY])
    this.requireParty(ctx, channel, c, 'collect')
    if (c.settlingAt === 0) throw new PaychError('NOT_SETTLING', 'settle the channel first', { field: 'channel' })
    if (ctx.height < c.settlingAt)
      throw new PaychError('SETTLE_NOT_DUE', `collect from height ${c.settlingAt}, now ${ctx.height}`, { field: 'channel' })
    const toTo = c.toSend
    const toFrom = c.balance - c.toSend
    ctx.sstore(channelKey(channel), { ...c, balance: 0n, toSend: 0n, closed: true, version: c.version + 1 }, 'collect.channel', CHANNEL_SLOTS)
    ctx.sload(channelKey(channel), 'collect.load', CHANNEL_SLOTS, [SLOT_HEAD, SLOT_TO])
    ctx.transfer(c.to, toTo, 'collect.toTo')
    ctx.transfer(c.from, toFrom, 'collect.toFrom')
    ctx.emit('Collect', { channel, toTo, toFrom }, this.log('Collect'))
    return { toTo, toFrom }
  }

  override view(ctx: ReadContext, method: string, args: unknown[]): unknown {
    switch (method) {
      case 'config':
        return { settleDelay: this.settleDelay } satisfies PaychConfig
      case 'channel': {
        const channel = args[0] as Address
        const c = ctx.sload<ChannelRecord>(channelKey(channel))
        const fromKey = ctx.sload<Uint8Array>(keyKey(channel))
        if (c === undefined || fromKey === undefined) return undefined
        return { channel, ...c, fromKey: fromKey.slice() } satisfies ChannelInfo
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
