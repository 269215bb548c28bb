/**
 * Bindings of payment-channel's Adjudicator and htlc-router's HtlcAdjudicator
 * to contracts/PaymentChannelAdjudicator.sol (both contracts are in it).
 *
 * Calls are mapped onto the ABI by payment-channel's own description
 * (abi.ts: the mock charges the same bytes). `open` sends both public keys
 * uncompressed (the contract checks each hashes to its party and logs them;
 * the `channel` view reads them back from the Opened log). State-bearing
 * calls send the signatures in EIP-2098 form, the parity found against the
 * channel's parties read from chain.
 */
import { type Address, type Hex, InvalidInputError, fromHex, toHex } from '@l2bench/core'
import type { AbiCall, AbiEnv, ContractCallOf } from '@l2bench/l1-mock'
import {
  type Adjudicator,
  type ChannelInfo,
  type LockedEntry,
  PENALTIES,
  type PartyIndex,
  type StoredLock,
  adjudicatorAbiCall,
  stateDigest,
} from '@l2bench/payment-channel'
import { type CallEnv, type ContractBinding, type DecodedLog, type ViewEnv, lower } from '../binding.ts'
import { toCompact } from '../signature.ts'

type AdjudicatorCall = ContractCallOf<Adjudicator>

const ZERO32: Hex = `0x${'00'.repeat(32)}`
const PHASES = ['none', 'funding', 'open', 'disputed', 'closed'] as const

interface SolLock {
  id: Hex
  amount: bigint
  direction: number
  hash: Hex
  expiry: bigint
}

interface SolChannel {
  a: Hex
  phase: number
  disputeWindow: number
  penalty: number
  fundingDeadline: number
  b: Hex
  depositA: bigint
  depositB: bigint
  declaredDepositB: bigint
}

interface SolDispute {
  version: bigint
  deadline: number
  by: number
  cheaters: number
  balanceA: bigint
  balanceB: bigint
}

/** The compressed key from logged [x, y]. */
export function compressKey(x: unknown, y: unknown): Uint8Array {
  const xb = fromHex('key.x', x as string, 32)
  const yb = fromHex('key.y', y as string, 32)
  return Uint8Array.of(((yb[31] as number) & 1) === 0 ? 2 : 3, ...xb)
}

const bytes32 = (field: string, v: unknown) => fromHex(field, v as string, 32)

function lockFromSol(l: SolLock): LockedEntry {
  return { id: bytes32('id', l.id), amount: l.amount, direction: l.direction as PartyIndex, hash: bytes32('hash', l.hash), expiry: l.expiry }
}

/** The EIP-2098 signatures of a state-bearing call: parities found against the channel's parties, read from chain. */
async function signerOf(call: AdjudicatorCall, env: CallEnv, view: ViewEnv): Promise<AbiEnv['compactSignature']> {
  if (!('state' in call)) return () => ({ r: ZERO32, vs: ZERO32 })
  const [c] = (await view.call('channel', [toHex(call.state.channelId)])) as [SolChannel, SolDispute, SolLock[]]
  const digest = stateDigest({ chainId: env.chainId, adjudicator: env.contract }, call.state)
  const parties = [lower(c.a), lower(c.b)] as const
  return (sig, i) => toCompact(sig, digest, parties[i] as Address)
}

export function adjudicatorBinding(name: string, solidity: string): ContractBinding<Adjudicator> {
  return {
    name,
    solidity,
    constructorArgs: () => [],

    async toAbi(call: AdjudicatorCall, env: CallEnv, view: ViewEnv): Promise<AbiCall> {
      const abiCall = adjudicatorAbiCall(call, { ...env, compactSignature: await signerOf(call, env, view) })
      if (abiCall === undefined) throw new InvalidInputError('call', `${name} (Solidity) has no method ${call.type}`)
      return abiCall
    },

    result(functionName, output) {
      return functionName === 'open' ? (output as Hex).toLowerCase() : undefined
    },

    event({ eventName, args: a }: DecodedLog) {
      const channelId = a.channelId === undefined ? undefined : bytes32('channelId', a.channelId)
      switch (eventName) {
        case 'Opened':
          return { name: 'Opened', data: { channelId, a: lower(a.a), b: lower(a.b), depositA: a.depositA, depositB: a.depositB } }
        case 'Funded':
          return { name: 'Funded', data: { channelId, depositA: a.depositA, depositB: a.depositB } }
        case 'Refunded':
          return { name: 'Refunded', data: { channelId, amount: a.amount } }
        case 'ToppedUp':
          return {
            name: 'ToppedUp',
            data: { channelId, party: Number(a.party), amount: a.amount, deposits: [a.depositA, a.depositB], version: a.version },
          }
        case 'Registered':
        case 'Challenged':
          return { name: eventName, data: { channelId, version: a.version, deadline: Number(a.deadline), by: lower(a.by) } }
        case 'Concluded':
          return {
            name: 'Concluded',
            data: { channelId, version: a.version, balances: [a.balanceA, a.balanceB], locked: a.locked, slashed: Number(a.slashed) },
          }
        case 'LockedResolved':
          return { name: 'LockedResolved', data: { channelId, lockId: bytes32('lockId', a.lockId), to: lower(a.to), amount: a.amount } }
        case 'PreimageRevealed':
          return { name: 'PreimageRevealed', data: { hash: bytes32('hash', a.hash), preimage: bytes32('preimage', a.preimage), channelId } }
        default:
          return undefined
      }
    },

    async view(_contract, method, args, env) {
      switch (method) {
        case 'channel': {
          const id = args[0]
          if (!(id instanceof Uint8Array) || id.length !== 32) throw new TypeError('channel(id): id must be 32 bytes')
          const [c, d, locks] = (await env.call('channel', [toHex(id)])) as [SolChannel, SolDispute, SolLock[]]
          if (c.phase === 0) return undefined
          const [opened] = await env.logs('Opened', { channelId: toHex(id) })
          const pkA = opened?.args.pkA as [Hex, Hex]
          const pkB = opened?.args.pkB as [Hex, Hex]
          const info: ChannelInfo = {
            channelId: toHex(id),
            parties: [lower(c.a), lower(c.b)],
            publicKeys: [compressKey(pkA[0], pkA[1]), compressKey(pkB[0], pkB[1])],
            phase: PHASES[c.phase] as ChannelInfo['phase'],
            disputeWindow: c.disputeWindow,
            penalty: PENALTIES[c.penalty] as ChannelInfo['penalty'],
            fundingDeadline: c.fundingDeadline,
            declaredDepositB: c.declaredDepositB,
            deposits: [c.depositA, c.depositB],
            ...(d.deadline === 0
              ? {}
              : {
                  dispute: {
                    version: d.version,
                    deadline: d.deadline,
                    balances: [d.balanceA, d.balanceB] as const,
                    locked: locks.map(lockFromSol),
                    by: d.by as PartyIndex | -1,
                    cheaters: d.cheaters,
                  },
                }),
          }
          return info
        }
        case 'locked': {
          const [id, lockId] = args
          if (!(id instanceof Uint8Array) || !(lockId instanceof Uint8Array)) throw new TypeError('locked(id, lockId): bytes expected')
          const k = (await env.call('locked', [toHex(id), toHex(lockId)])) as { hash: Hex; amount: bigint; direction: number; expiry: bigint }
          if (k.amount === 0n) return undefined
          const [c] = (await env.call('channel', [toHex(id)])) as [SolChannel]
          return {
            id: lockId.slice(),
            amount: k.amount,
            direction: k.direction as PartyIndex,
            hash: bytes32('hash', k.hash),
            expiry: k.expiry,
            channelId: id.slice(),
            parties: [lower(c.a), lower(c.b)] as const,
          } satisfies StoredLock
        }
        case 'preimage': {
          const hash = args[0]
          if (!(hash instanceof Uint8Array) || hash.length !== 32) throw new TypeError('preimage(hash): hash must be 32 bytes')
          const r = (await env.call('preimage', [toHex(hash)])) as { preimage: Hex; height: bigint }
          return r.height === 0n ? undefined : { preimage: bytes32('preimage', r.preimage), height: Number(r.height) }
        }
        default:
          throw new Error(`${name}: no view method ${method}`)
      }
    },
  }
}

export const paymentChannelBinding = adjudicatorBinding('PaymentChannelAdjudicator', 'PaymentChannelAdjudicator')
export const htlcAdjudicatorBinding = adjudicatorBinding('HtlcAdjudicator', 'HtlcAdjudicator')
