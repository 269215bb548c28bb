/**
 * Binding of PaychContract (packages/paych-manager/src/contract.ts) to
 * contracts/Paych.sol.
 *
 * Calls are mapped onto the ABI by paych-manager's own description (abi.ts:
 * the mock charges the same bytes): `create` passes the transaction hash as
 * the channel's salt (a contract cannot see its own transaction's hash) and
 * the sender's key uncompressed (the contract checks that it hashes to the
 * sender; the key is logged, not stored). `update` sends the voucher's
 * signature in EIP-2098 form; its parity is found against the channel's
 * `from`, read from chain.
 * The `channel` view rebuilds `fromKey` from the Create log.
 */
import { type Address, type Hex, fromHex } from '@l2bench/core'
import type { AbiCall, AbiEnv, ContractCallOf } from '@l2bench/l1-mock'
import { type ChannelInfo, type LaneState, type PaychContract, paychAbiCall, voucherBody, voucherDigest } from '@l2bench/paych-manager'
import { type CallEnv, type ContractBinding, type DecodedLog, type ViewEnv, lower } from '../binding.ts'
import { toCompact } from '../signature.ts'

type PaychCall = ContractCallOf<PaychContract>

const ZERO32: Hex = `0x${'00'.repeat(32)}`

interface SolChannel {
  from: Hex
  settlingAt: number
  minSettleHeight: number
  laneCount: number
  closed: boolean
  to: Hex
  version: bigint
  balance: bigint
  toSend: bigint
}

async function channelFrom(view: ViewEnv, channel: Address): Promise<Address> {
  const c = (await view.call('channel', [channel])) as SolChannel
  return lower(c.from)
}

export const paychBinding: ContractBinding<PaychContract> = {
  name: 'Paych',
  solidity: 'Paych',
  constructorArgs: (c) => [c.settleDelay],

  async toAbi(call: PaychCall, env: CallEnv, view: ViewEnv): Promise<AbiCall> {
    let compactSignature: AbiEnv['compactSignature'] = () => ({ r: ZERO32, vs: ZERO32 })
    if (call.type === 'update') {
      const from = await channelFrom(view, call.voucher.channel)
      const digest = voucherDigest({ chainId: env.chainId, contract: env.contract }, voucherBody(call.voucher))
      compactSignature = (sig) => toCompact(sig, digest, from)
    }
    return paychAbiCall(call, { ...env, compactSignature })
  },

  result(functionName, output) {
    switch (functionName) {
      case 'create':
        return lower(output)
      case 'update': {
        const [delta, toSend] = output as [bigint, bigint]
        return { delta, toSend }
      }
      case 'settle':
        return Number(output)
      case 'collect': {
        const [toTo, toFrom] = output as [bigint, bigint]
        return { toTo, toFrom }
      }
      default:
        return undefined
    }
  },

  event({ eventName, args: a }: DecodedLog) {
    switch (eventName) {
      case 'Create':
        return { name: 'Create', data: { channel: lower(a.channel), from: lower(a.from), to: lower(a.to), amount: a.amount } }
      case 'AddFunds':
        return { name: 'AddFunds', data: { channel: lower(a.channel), amount: a.amount, balance: a.balance } }
      case 'Update':
        return {
          name: 'Update',
          data: {
            channel: lower(a.channel),
            lane: Number(a.lane),
            nonce: a.nonce,
            amount: a.amount,
            toSend: a.toSend,
            secret: a.revealed === true ? fromHex('secret', a.secret as string) : undefined,
          },
        }
      case 'Settle':
        return { name: 'Settle', data: { channel: lower(a.channel), settlingAt: Number(a.settlingAt), from: lower(a.from), to: lower(a.to) } }
      case 'Collect':
        return { name: 'Collect', data: { channel: lower(a.channel), toTo: a.toTo, toFrom: a.toFrom } }
      default:
        return undefined
    }
  },

  async view(contract, method, args, env) {
    switch (method) {
      case 'config':
        return { settleDelay: contract.settleDelay }
      case 'channel': {
        const channel = lower(args[0])
        const c = (await env.call('channel', [channel])) as SolChannel
        if (BigInt(c.from) === 0n) return undefined
        const [created] = await env.logs('Create', { channel })
        const x = fromHex('keyX', created?.args.keyX as string, 32)
        const y = fromHex('keyY', created?.args.keyY as string, 32)
        const fromKey = Uint8Array.of(((y[31] as number) & 1) === 0 ? 2 : 3, ...x)
        return {
          channel,
          from: lower(c.from),
          to: lower(c.to),
          fromKey,
          balance: c.balance,
          toSend: c.toSend,
          settlingAt: Number(c.settlingAt),
          minSettleHeight: Number(c.minSettleHeight),
          laneCount: Number(c.laneCount),
          closed: c.closed,
          version: Number(c.version),
        } satisfies ChannelInfo
      }
      case 'lanes': {
        const channel = lower(args[0])
        const ids = args[1] as number[]
        const out = (await env.call('laneStates', [channel, ids])) as Array<{ nonce: bigint; redeemed: bigint }>
        return out.map((l): LaneState | undefined => (l.nonce === 0n ? undefined : { nonce: l.nonce, redeemed: l.redeemed }))
      }
      default:
        throw new Error(`Paych: no view method ${method}`)
    }
  },
}
