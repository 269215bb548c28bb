/**
 * The adjudicator's Solidity ABI (the port in packages/l1-evm/contracts/
 * PaymentChannelAdjudicator.sol): its methods and events, described once.
 * The mock charges each call's ABI bytes from it (a real EVM transaction
 * carries that encoding, not the compact codec the project signs), and the
 * EVM backend encodes the same calls with it; l1-evm's tests check it against
 * the compiled Solidity.
 */
import { type Hex, toHex, uncompressedPublicKey } from '@l2bench/core'
import { type AbiCall, type AbiEnv, type AbiItem, findEvent, logShape, parseAbi } from '@l2bench/l1-mock'
import { type ChannelState, PENALTIES } from './state.ts'

const LOCK = '(bytes32 id, uint256 amount, uint8 direction, bytes32 hash, uint64 expiry)'
const STATE = `(bytes32 channelId, uint64 version, uint256 balanceA, uint256 balanceB, ${LOCK}[] locked, bool isFinal)`
const SIG = '(bytes32 r, bytes32 vs)'

export const ADJUDICATOR_ABI: readonly AbiItem[] = parseAbi([
  'function open((address b, bytes32[2] pkA, bytes32[2] pkB, uint64 nonce, uint256 depositB, uint32 disputeWindow, uint32 fundingTimeout, uint8 penalty) o) payable returns (bytes32 id)',
  'function confirm(bytes32 id) payable',
  'function refund(bytes32 id)',
  `function topUp(${STATE} s, ${SIG} sigA, ${SIG} sigB) payable`,
  `function close(${STATE} s, ${SIG} sigA, ${SIG} sigB)`,
  `function register(${STATE} s, ${SIG} sigA, ${SIG} sigB)`,
  `function challenge(${STATE} s, ${SIG} sigA, ${SIG} sigB)`,
  'function finalize(bytes32 id)',
  'function resolveLocked(bytes32 id, bytes32 lockId, bytes witness)',
  'event Opened(bytes32 indexed channelId, address indexed a, address indexed b, uint256 depositA, uint256 depositB, bytes32[2] pkA, bytes32[2] pkB)',
  'event Funded(bytes32 indexed channelId, uint256 depositA, uint256 depositB)',
  'event Refunded(bytes32 indexed channelId, uint256 amount)',
  'event ToppedUp(bytes32 indexed channelId, uint8 party, uint256 amount, uint256 depositA, uint256 depositB, uint64 version)',
  'event Registered(bytes32 indexed channelId, uint64 version, uint32 deadline, address by)',
  'event Challenged(bytes32 indexed channelId, uint64 version, uint32 deadline, address by)',
  'event Concluded(bytes32 indexed channelId, uint64 version, uint256 balanceA, uint256 balanceB, uint256 locked, int8 slashed)',
  'event LockedResolved(bytes32 indexed channelId, bytes32 indexed lockId, address indexed to, uint256 amount)',
])

/** Topics and data bytes of one of the port's events (what its LOG costs). */
export function adjudicatorLog(abi: readonly AbiItem[], name: string): { topics: number; dataBytes: number } {
  return logShape(findEvent(abi, name))
}

const ZERO_WORD: Hex = `0x${'00'.repeat(32)}`

/** An uncompressed key's x and y (zeros when the bytes are not a point: the port then refuses them). */
export function keyWords(key: Uint8Array): readonly [Hex, Hex] {
  const xy = uncompressedPublicKey(key)
  return xy === undefined ? [ZERO_WORD, ZERO_WORD] : [toHex(xy.subarray(0, 32)), toHex(xy.subarray(32))]
}

function stateArg(s: ChannelState) {
  return {
    channelId: toHex(s.channelId),
    version: s.version,
    balanceA: s.balances[0],
    balanceB: s.balances[1],
    locked: s.locked.map((l) => ({ id: toHex(l.id), amount: l.amount, direction: l.direction, hash: toHex(l.hash), expiry: l.expiry })),
    isFinal: s.isFinal,
  }
}

type Call =
  | { type: 'open'; b: Hex; pkA: Uint8Array; pkB: Uint8Array; nonce: bigint; depositB: bigint; disputeWindow: number; fundingTimeout: number; penalty: (typeof PENALTIES)[number] }
  | { type: 'confirm' | 'refund' | 'finalize'; channelId: Uint8Array }
  | { type: 'topUp' | 'close' | 'register' | 'challenge'; state: ChannelState; sigA: Uint8Array; sigB: Uint8Array }
  | { type: 'resolveLocked'; channelId: Uint8Array; lockId: Uint8Array; witness: Uint8Array }

/**
 * The ABI call of an adjudicator call (undefined for a call the port lacks, a subclass's): open sends both keys uncompressed (the
 * port checks each hashes to its party and logs them); signatures go in
 * EIP-2098 form through `env.compactSignature` (signer 0 = A, 1 = B).
 */
export function adjudicatorAbiCall(call: Call | { type: string }, env: AbiEnv): AbiCall | undefined {
  return mapCall(call as Call, env)
}

function mapCall(call: Call, env: AbiEnv): AbiCall | undefined {
  switch (call.type) {
    case 'open':
      return {
        functionName: 'open',
        args: [
          {
            b: call.b,
            pkA: keyWords(call.pkA),
            pkB: keyWords(call.pkB),
            nonce: call.nonce,
            depositB: call.depositB,
            disputeWindow: call.disputeWindow,
            fundingTimeout: call.fundingTimeout,
            penalty: PENALTIES.indexOf(call.penalty),
          },
        ],
      }
    case 'confirm':
    case 'refund':
    case 'finalize':
      return { functionName: call.type, args: [toHex(call.channelId)] }
    case 'topUp':
    case 'close':
    case 'register':
    case 'challenge':
      return {
        functionName: call.type,
        args: [stateArg(call.state), env.compactSignature(call.sigA, 0), env.compactSignature(call.sigB, 1)],
      }
    case 'resolveLocked':
      return { functionName: 'resolveLocked', args: [toHex(call.channelId), toHex(call.lockId), toHex(call.witness)] }
    default:
      // A subclass's own call (the virtual channel's): the port has no such method.
      return undefined
  }
}
