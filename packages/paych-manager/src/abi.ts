/**
 * The paych contract's Solidity ABI (the port in packages/l1-evm/contracts/
 * Paych.sol): its methods and events, described once. The mock charges each
 * call's ABI bytes from it (a real EVM transaction carries that encoding),
 * and the EVM backend encodes the same calls with it; l1-evm's tests check it
 * against the compiled Solidity.
 */
import { type Hex, toHex, uncompressedPublicKey } from '@l2bench/core'
import { type AbiCall, type AbiEnv, type AbiItem, parseAbi } from '@l2bench/l1-mock'
import type { SignedVoucher } from './voucher.ts'

const VOUCHER =
  '(address channel, uint32 timeLockMin, uint32 timeLockMax, bool hasSecretHash, bytes32 secretHash, uint32 lane, uint64 nonce, uint256 amount, uint32 minSettleHeight, (uint32 lane, uint64 nonce)[] merges, bytes32 r, bytes32 vs)'

export const PAYCH_ABI: readonly AbiItem[] = parseAbi([
  'function create(address to, bytes32 salt, bytes32 keyX, bytes32 keyY) payable returns (address channel)',
  'function addFunds(address channel) payable',
  `function update(${VOUCHER} v, bool hasSecret, bytes secret) returns (uint256 delta, uint256 toSend)`,
  'function settle(address channel) returns (uint32 settlingAt)',
  'function collect(address channel) returns (uint256 toTo, uint256 toFrom)',
  'event Create(address indexed channel, address indexed from, address indexed to, uint256 amount, bytes32 keyX, bytes32 keyY)',
  'event AddFunds(address indexed channel, uint256 amount, uint256 balance)',
  'event Update(address indexed channel, uint32 lane, uint64 nonce, uint256 amount, uint256 toSend, bool revealed, bytes secret)',
  'event Settle(address indexed channel, uint32 settlingAt, address from, address to)',
  'event Collect(address indexed channel, uint256 toTo, uint256 toFrom)',
])

const ZERO_WORD: Hex = `0x${'00'.repeat(32)}`

type Call =
  | { type: 'create'; to: Hex; fromPublicKey: Uint8Array }
  | { type: 'addFunds' | 'settle' | 'collect'; channel: Hex }
  | { type: 'update'; voucher: SignedVoucher; secret: Uint8Array | undefined }

/**
 * The ABI call of a paych call. `create` passes the transaction hash as the
 * channel's salt (a contract cannot see its own transaction's hash) and the
 * sender's key uncompressed; `update` sends the voucher's signature in
 * EIP-2098 form (`env.compactSignature`, signer 0 = the channel's from).
 */
export function paychAbiCall(call: Call, env: AbiEnv): AbiCall {
  switch (call.type) {
    case 'create': {
      const xy = uncompressedPublicKey(call.fromPublicKey)
      const [x, y] = xy === undefined ? [ZERO_WORD, ZERO_WORD] : [toHex(xy.subarray(0, 32)), toHex(xy.subarray(32))]
      return { functionName: 'create', args: [call.to, env.txHash, x, y] }
    }
    case 'addFunds':
    case 'settle':
    case 'collect':
      return { functionName: call.type, args: [call.channel] }
    case 'update': {
      const v = call.voucher
      const sig = env.compactSignature(v.signature, 0)
      const secret = call.secret
      return {
        functionName: 'update',
        args: [
          {
            channel: v.channel,
            timeLockMin: v.timeLockMin,
            timeLockMax: v.timeLockMax,
            hasSecretHash: v.secretHash !== undefined,
            secretHash: v.secretHash === undefined ? ZERO_WORD : toHex(v.secretHash),
            lane: v.lane,
            nonce: v.nonce,
            amount: v.amount,
            minSettleHeight: v.minSettleHeight,
            merges: v.merges.map((m) => ({ lane: m.lane, nonce: m.nonce })),
            r: sig.r,
            vs: sig.vs,
          },
          secret !== undefined,
          secret === undefined ? '0x' : toHex(secret),
        ],
      }
    }
  }
}
