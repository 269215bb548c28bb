/**
 * The rollup contract's Solidity ABI (the port in packages/l1-evm/contracts/
 * Rollup.sol): its methods and events, described once. The mock charges each
 * call's ABI bytes from it (a real EVM transaction carries that encoding) and
 * sizes each log from its event; the EVM backend encodes the same calls with
 * it, and l1-evm's tests check it against the compiled Solidity.
 *
 * The escape hatch (exodus.ts) is not ported yet: its calls have no ABI form
 * here (the mock charges their codec bytes, the EVM backend refuses them).
 */
import { bytesToBigint, toHex } from '@l2bench/core'
import { type AbiCall, type AbiItem, findEvent, logShape, parseAbi } from '@l2bench/l1-mock'
import { subgroupHint } from './eddsa.ts'
import type { PublicKey } from './keys.ts'

export const ROLLUP_ABI: readonly AbiItem[] = parseAbi([
  'function deposit(uint256 pubX, uint256 pubY, uint256 hintX, uint256 hintY) payable returns (uint256 index)',
  'function registerPayee(address payee) returns (uint256 id)',
  'function submitBatch(bytes body, uint256[8] proof, uint256[] publicInputs) returns (uint256 batch, address[] paid)',
  'function withdraw(uint64 batch, uint32 position, uint32 count, address payee, uint128 amount, bytes32[] proof)',
  'event Deposit(uint256 indexed index, uint256 pubX, uint256 pubY, uint256 amount, address from)',
  'event PayeeRegistered(uint256 indexed id, address payee)',
  'event BatchVerified(uint256 indexed batch, uint256 oldRoot, uint256 newRoot, uint256 deposits, uint256 ops, uint256 withdrawals)',
  'event Withdrawn(uint256 indexed batch, uint256 position, address payee, uint256 amount)',
  'event ForcedServed(uint256 indexed from, uint256 to, uint256 amount)',
])

/** Topics and data bytes of one of the port's events (what the mock charges for its LOG). */
export function rollupLog(name: string): { topics: number; dataBytes: number } {
  return logShape(findEvent(ROLLUP_ABI, name))
}

type PortedCall =
  | { type: 'deposit'; pubX: Uint8Array; pubY: Uint8Array }
  | { type: 'registerPayee'; payee: `0x${string}` }
  | { type: 'submitBatch'; body: Uint8Array; proof: Uint8Array; publicInputs: Uint8Array[] }
  | { type: 'withdraw'; batch: bigint; position: number; count: number; payee: `0x${string}`; amount: bigint; proof: Uint8Array[] }

/** The ABI call of a rollup call the port has; undefined for the escape hatch's (not ported). */
export function rollupAbiCall(call: { type: string }): AbiCall | undefined {
  const c = call as PortedCall
  switch (c.type) {
    case 'deposit': {
      // The port checks the key's subgroup membership against this hint (8·hint = key).
      const pk: PublicKey = [bytesToBigint(c.pubX), bytesToBigint(c.pubY)]
      const [hx, hy] = subgroupHint(pk)
      return { functionName: 'deposit', args: [pk[0], pk[1], hx, hy] }
    }
    case 'registerPayee':
      return { functionName: 'registerPayee', args: [c.payee] }
    case 'submitBatch': {
      // The wire proof's 8 coordinates (groth16.ts), each a word; the contract checks each is below q.
      const proof = Array.from({ length: 8 }, (_, i) => bytesToBigint(c.proof.subarray(32 * i, 32 * i + 32)))
      return { functionName: 'submitBatch', args: [toHex(c.body), proof, c.publicInputs.map(bytesToBigint)] }
    }
    case 'withdraw':
      return { functionName: 'withdraw', args: [c.batch, c.position, c.count, c.payee, c.amount, c.proof.map((p) => toHex(p))] }
    default:
      return undefined
  }
}
