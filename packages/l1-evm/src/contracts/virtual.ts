/**
 * Binding of virtual-channel's VirtualAdjudicator to
 * contracts/VirtualAdjudicator.sol: the base adjudicator's calls, events and
 * views as payment-channel's binding maps them, plus registerVirtual and
 * concludeVirtual (virtual-channel's own ABI description, abi.ts: the mock
 * charges the same bytes), their events and the `virtual` view (the stored
 * outcome). Signatures go in EIP-2098 form, the parity found against Alice
 * and Bob (the virtual state's digest) and Ingrid (the activation digest).
 */
import { type Address, type Hex, fromHex, toHex } from '@l2bench/core'
import type { AbiCall } from '@l2bench/l1-mock'
import { stateDigest } from '@l2bench/payment-channel'
import { type VirtualAdjudicator, type VirtualCall, type VirtualDispute, activationDigest, virtualAbiCall, virtualId } from '@l2bench/virtual-channel'
import { type ContractBinding, type DecodedLog, lower } from '../binding.ts'
import { toCompact } from '../signature.ts'
import { adjudicatorBinding } from './adjudicator.ts'

interface SolOutcome {
  version: bigint
  deadline: number
  concluded: boolean
  by: number
  balanceA: bigint
  balanceB: bigint
}

const base = adjudicatorBinding('VirtualAdjudicator', 'VirtualAdjudicator') as unknown as ContractBinding

const isVirtual = (call: { type: string }): call is VirtualCall => call.type === 'registerVirtual' || call.type === 'concludeVirtual'

export const virtualAdjudicatorBinding: ContractBinding<VirtualAdjudicator> = {
  ...base,

  toAbi(call, env, view): AbiCall | Promise<AbiCall> {
    if (!isVirtual(call)) return base.toAbi(call, env, view)
    const p = call.params
    const digest = stateDigest({ chainId: env.chainId, adjudicator: env.contract }, call.state)
    const signers: readonly [Uint8Array, Address][] = [
      [digest, p.alice],
      [digest, p.bob],
      [activationDigest(virtualId(p)), p.ingrid],
    ]
    return virtualAbiCall(call, {
      ...env,
      compactSignature: (sig, i) => {
        const [d, who] = signers[i] as [Uint8Array, Address]
        return toCompact(sig, d, who)
      },
    })
  },

  event(log: DecodedLog) {
    const a = log.args
    switch (log.eventName) {
      case 'VirtualRegistered':
        return {
          name: 'VirtualRegistered',
          data: { channelId: fromHex('channelId', a.channelId as string, 32), version: a.version, deadline: Number(a.deadline), by: lower(a.by) },
        }
      case 'VirtualConcluded':
        return { name: 'VirtualConcluded', data: { channelId: fromHex('channelId', a.channelId as string, 32), version: a.version } }
      default:
        return base.event(log)
    }
  },

  async view(contract, method, args, env) {
    if (method !== 'virtual') return base.view(contract, method, args, env)
    const id = args[0]
    if (!(id instanceof Uint8Array) || id.length !== 32) throw new TypeError('virtual(id): id must be 32 bytes')
    const o = (await env.call('virtualOutcome', [toHex(id) as Hex])) as SolOutcome
    if (o.deadline === 0) return undefined
    return {
      version: o.version,
      balances: [o.balanceA, o.balanceB],
      deadline: o.deadline,
      concluded: o.concluded,
      by: o.by as VirtualDispute['by'],
    } satisfies VirtualDispute
  },
}
