/**
 * The VirtualAdjudicator's calls as its Solidity port takes them
 * (packages/l1-evm/contracts/VirtualAdjudicator.sol), for the mock to charge
 * their ABI bytes (payment-channel's adjudicator does the same for its own
 * calls): the parameters as a tuple, each public key as its compressed
 * form's prefix byte and x coordinate (the port hashes those bytes into the
 * virtual channel id, and checks signatures by ecrecover against the three
 * addresses), the virtual state as the base's state tuple, signatures in
 * EIP-2098 form. `resolveLocked`'s witness stays the parameters in the
 * project's codec (the base call's bytes): the port hashes it as it is.
 */
import { toHex } from '@l2bench/core'
import { type AbiCall, type AbiEnv, type AbiItem, parseAbi } from '@l2bench/l1-mock'
import type { ChannelState } from '@l2bench/payment-channel'
import type { VirtualParams } from './params.ts'

const KEY = '(uint8 prefix, bytes32 x)'
const PARAMS = `(uint64 chainId, address adjudicator, uint64 nonce, address alice, address bob, ${KEY} pkAlice, ${KEY} pkBob, address ingrid, ${KEY} pkIngrid, bytes32 ledgerA, bytes32 ledgerB, uint256 depositA, uint256 depositB, uint32 disputeWindow, uint64 validity)`
const LOCK = '(bytes32 id, uint256 amount, uint8 direction, bytes32 hash, uint64 expiry)'
const STATE = `(bytes32 channelId, uint64 version, uint256 balanceA, uint256 balanceB, ${LOCK}[] locked, bool isFinal)`
const SIG = '(bytes32 r, bytes32 vs)'

export const VIRTUAL_ABI: readonly AbiItem[] = parseAbi([
  `function registerVirtual(${PARAMS} p, ${STATE} s, ${SIG} sigA, ${SIG} sigB, ${SIG} activation)`,
  `function concludeVirtual(${PARAMS} p, ${STATE} s, ${SIG} sigA, ${SIG} sigB)`,
  'event VirtualRegistered(bytes32 indexed channelId, uint64 version, uint32 deadline, address by)',
  'event VirtualConcluded(bytes32 indexed channelId, uint64 version)',
])

/** A compressed key (33 bytes, the params codec's) as the port's (prefix, x): the same bytes for the id's hash. */
function keyArg(pk: Uint8Array) {
  return { prefix: pk[0] as number, x: toHex(pk.subarray(1, 33)) }
}

function paramsArg(p: VirtualParams) {
  return {
    chainId: p.chainId,
    adjudicator: p.adjudicator,
    nonce: p.nonce,
    alice: p.alice,
    bob: p.bob,
    pkAlice: keyArg(p.pkAlice),
    pkBob: keyArg(p.pkBob),
    ingrid: p.ingrid,
    pkIngrid: keyArg(p.pkIngrid),
    ledgerA: toHex(p.ledgerA),
    ledgerB: toHex(p.ledgerB),
    depositA: p.deposits[0],
    depositB: p.deposits[1],
    disputeWindow: p.disputeWindow,
    validity: p.validity,
  }
}

function stateArg(s: ChannelState) {
  return { channelId: toHex(s.channelId), version: s.version, balanceA: s.balances[0], balanceB: s.balances[1], locked: [], isFinal: s.isFinal }
}

const ZERO_SIG = { r: toHex(new Uint8Array(32)), vs: toHex(new Uint8Array(32)) }

/** A virtual call as the port's ABI call (an absent signature — version 0 — as zero words). */
export function virtualAbiCall(
  call:
    | { type: 'registerVirtual'; params: VirtualParams; state: ChannelState; sigA: Uint8Array; sigB: Uint8Array; activation: Uint8Array }
    | { type: 'concludeVirtual'; params: VirtualParams; state: ChannelState; sigA: Uint8Array; sigB: Uint8Array },
  env: AbiEnv,
): AbiCall {
  const sig = (s: Uint8Array, signer: number) => (s.length === 64 ? env.compactSignature(s, signer) : ZERO_SIG)
  const common = [paramsArg(call.params), stateArg(call.state), sig(call.sigA, 0), sig(call.sigB, 1)]
  if (call.type === 'registerVirtual') return { functionName: 'registerVirtual', args: [...common, sig(call.activation, 2)] }
  return { functionName: 'concludeVirtual', args: common }
}
