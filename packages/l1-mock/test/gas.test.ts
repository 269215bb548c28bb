/**
 * The gas model against the EVM's rules, case by case: per-slot cold/warm
 * access, SSTORE prices and refunds (EIP-2200/2929/3529), value transfers to
 * warm, cold and new accounts, the EIP-7623 calldata floor, and calldata
 * charged as the ABI encoding of the contract's port.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type Address, NobleSigner, codec, keccak256, secretKeyFromSeed, toHex, utf8ToBytes } from '@l2bench/core'
import {
  type AbiCall,
  type AbiItem,
  type CallContext,
  Contract,
  EVM_STEP,
  GAS_SCHEDULE,
  MockL1,
  type Receipt,
  type SlotLayout,
  Wallet,
  calldataFloorGas,
  encodeAbiCall,
  findEvent,
  logShape,
  parseAbi,
  parseAbiItem,
  selectorOf,
  signatureOf,
} from '@l2bench/l1-mock'

interface Rec {
  a: bigint
  b: bigint
}
const REC: SlotLayout<Rec> = (r) => [[r.a], [r.b]]

const abi = codec.messages({
  /** Writes the record's a, then each of `then` in turn, in one transaction. */
  writes: [1, codec.struct({ key: codec.u32, values: codec.list(codec.amount, 8) })],
  clear: [2, codec.struct({ key: codec.u32 })],
  plain: [3, codec.struct({ key: codec.u32, value: codec.u32 })],
  pay: [4, codec.struct({ to: codec.address, amount: codec.amount })],
  blob: [5, codec.struct({ data: codec.bytes(1 << 16) })],
})
type Call = codec.Infer<typeof abi>

const SOLIDITY: readonly AbiItem[] = parseAbi([
  'function writes(uint32 key, uint256[] values)',
  'function clear(uint32 key)',
  'function plain(uint32 key, uint32 value)',
  'function pay(address to, uint256 amount)',
  'function blob(bytes data)',
])

class Slots extends Contract<Call> {
  readonly name = 'Slots'
  readonly abi = abi
  override readonly solidityAbi = SOLIDITY
  override toAbiCall(call: Call): AbiCall {
    switch (call.type) {
      case 'writes':
        return { functionName: 'writes', args: [call.key, call.values] }
      case 'clear':
        return { functionName: 'clear', args: [call.key] }
      case 'plain':
        return { functionName: 'plain', args: [call.key, call.value] }
      case 'pay':
        return { functionName: 'pay', args: [call.to, call.amount] }
      case 'blob':
        return { functionName: 'blob', args: [call.data] }
    }
  }
  execute(ctx: CallContext, call: Call): unknown {
    switch (call.type) {
      case 'writes': {
        const key = `r:${call.key}`
        for (const a of call.values) {
          const r = ctx.sload<Rec>(key, 'rec', REC, []) ?? { a: 0n, b: 0n }
          ctx.sstore(key, { ...r, a }, 'rec', REC)
        }
        return undefined
      }
      case 'clear':
        ctx.sstore(`r:${call.key}`, undefined, 'rec', REC)
        return undefined
      case 'plain':
        ctx.sstore(`p:${call.key}`, call.value, 'plain')
        return undefined
      case 'pay':
        ctx.transfer(call.to, call.amount, 'pay')
        return undefined
      case 'blob':
        return undefined
    }
  }
}

const STORAGE_OPS = new Set(['storageColdRead', 'storageWarmRead', 'storageNew', 'storageUpdate', 'storageDirty'])

function gasOf(r: Receipt, ops: Set<string>): number {
  return r.breakdown.filter((c) => ops.has(c.op)).reduce((s, c) => s + c.gas, 0)
}
const refundOf = (r: Receipt) => 0 - gasOf(r, new Set(['storageRefund']))

function world() {
  const l1 = new MockL1()
  const w = new Wallet(new NobleSigner(secretKeyFromSeed('gas-test')), l1)
  l1.mint(w.address, 10n ** 21n)
  const c = l1.deploy(new Slots())
  l1.mint(c.address, 10n ** 20n)
  return { l1, w, c }
}

test('SSTORE: new slot, update, a second write in the same transaction, zero slots untouched', async () => {
  const { w, c } = world()
  const s = GAS_SCHEDULE
  // 0 → 1 in slot 0; slot 1 stays zero and is not written.
  const r1 = await w.callOk(c, { type: 'writes', key: 1, values: [1n] })
  assert.equal(gasOf(r1, STORAGE_OPS), s.storageColdRead + s.storageNew)
  // 1 → 2: a clean non-zero slot.
  const r2 = await w.callOk(c, { type: 'writes', key: 1, values: [2n] })
  assert.equal(gasOf(r2, STORAGE_OPS), s.storageColdRead + s.storageUpdate)
  // 2 → 3 → 4: the second write finds the slot dirty (100).
  const r3 = await w.callOk(c, { type: 'writes', key: 1, values: [3n, 4n] })
  assert.equal(gasOf(r3, STORAGE_OPS), s.storageColdRead + s.storageUpdate + s.storageDirty)
  assert.equal(refundOf(r3), 0)
})

test('SSTORE refunds: clearing refunds 4,800; restoring the original value refunds the difference; all capped at a fifth', async () => {
  const { w, c } = world()
  const s = GAS_SCHEDULE
  await w.callOk(c, { type: 'writes', key: 2, values: [5n] })
  // 5 → 9 → 5: restored to its original non-zero value.
  const restore = await w.callOk(c, { type: 'writes', key: 2, values: [9n, 5n] })
  assert.equal(gasOf(restore, STORAGE_OPS), s.storageColdRead + s.storageUpdate + s.storageDirty)
  assert.equal(refundOf(restore), s.storageUpdate - s.storageDirty)
  // 0 → 7 → 0 in one transaction: 19,900 back, but never more than a fifth of the gas used.
  const transient = await w.callOk(c, { type: 'writes', key: 3, values: [7n, 0n] })
  const before = transient.gasUsed + refundOf(transient)
  assert.equal(refundOf(transient), Math.min(s.storageNew - s.storageDirty, Math.floor(before / s.refundQuotient)))
  assert.equal(refundOf(transient), Math.floor(before / 5), 'the cap binds here')
  // Clearing a non-zero slot: 2,900 and a 4,800 refund.
  const clear = await w.callOk(c, { type: 'clear', key: 2 })
  assert.equal(gasOf(clear, STORAGE_OPS), s.storageColdRead + s.storageUpdate)
  assert.equal(refundOf(clear), Math.min(s.storageClearRefund, Math.floor((clear.gasUsed + refundOf(clear)) / 5)))
  const sum = clear.breakdown.reduce((t, ch) => t + ch.gas, 0)
  assert.equal(sum, clear.gasUsed, 'the breakdown (refund included) adds up to gasUsed')
})

test('SSTORE without a layout: writing the value a slot holds costs the cold access and 100', async () => {
  const { w, c } = world()
  const s = GAS_SCHEDULE
  await w.callOk(c, { type: 'plain', key: 1, value: 7 })
  const same = await w.callOk(c, { type: 'plain', key: 1, value: 7 })
  assert.equal(gasOf(same, STORAGE_OPS), s.storageColdRead + s.storageDirty)
  const zero = await w.callOk(c, { type: 'plain', key: 2, value: 0 })
  assert.equal(gasOf(zero, STORAGE_OPS), s.storageColdRead + s.storageDirty, 'zero over a never-written slot is a no-op write')
})

test('value transfers: 6,800 to a warm account, 9,300 to a cold one, 34,300 to a new one', async () => {
  const { l1, w, c } = world()
  const s = GAS_SCHEDULE
  const transferOps = new Set(['accountWarmAccess', 'accountColdAccess', 'valueTransfer', 'newAccount'])
  const warm = await w.callOk(c, { type: 'pay', to: w.address, amount: 1n })
  assert.equal(gasOf(warm, transferOps), 6_800)
  const other = new NobleSigner(secretKeyFromSeed('gas-test/other')).address
  l1.mint(other, 1n)
  const cold = await w.callOk(c, { type: 'pay', to: other, amount: 1n })
  assert.equal(gasOf(cold, transferOps), 9_300)
  const fresh = `0x${'ab'.repeat(20)}` as Address
  const created = await w.callOk(c, { type: 'pay', to: fresh, amount: 1n })
  assert.equal(gasOf(created, transferOps), 34_300)
  assert.equal(s.accountColdAccess + s.valueTransfer - s.callStipend + s.newAccount, 34_300)
  assert.equal(l1.balanceOf(fresh), 1n)
})

test('calldata is the ABI encoding of the port; a large blob with little execution pays the EIP-7623 floor', async () => {
  const { w, c } = world()
  const call: Call = { type: 'plain', key: 1, value: 7 }
  const r = await w.callOk(c, call)
  const data = encodeAbiCall(SOLIDITY, { functionName: 'plain', args: [1, 7] })
  assert.equal(r.calldataBytes, data.length)
  assert.equal(r.calldataBytes, 4 + 64)
  assert.ok(c.encodeCall(call).length < r.calldataBytes, 'the compact codec is smaller; the EVM sees the ABI')
  const blob = new Uint8Array(4000).fill(0xaa)
  const big = await w.callOk(c, { type: 'blob', data: blob })
  const abiData = encodeAbiCall(SOLIDITY, { functionName: 'blob', args: [blob] })
  assert.equal(big.gasUsed, calldataFloorGas(abiData))
  assert.ok(big.breakdown.some((ch) => ch.op === 'calldataFloor' && ch.gas > 0))
  // A blob's contents are not decoded word by word.
  const decode = big.breakdown.find((ch) => ch.label === 'evm.abiDecode')?.gas ?? 0
  assert.equal(decode, EVM_STEP.abiWord * 2, 'offset and length words only')
  // The gas limit must cover the floor: a limit between the standard cost and the floor runs out of gas.
  const short = await w.call(c, { type: 'blob', data: blob }, { gasLimit: BigInt(calldataFloorGas(abiData) - 1) })
  assert.equal(short.status, 'reverted')
})

test('the ABI helpers: signatures, selectors, encodings and event shapes', () => {
  const transfer = parseAbiItem('function transfer(address to, uint256 amount) returns (bool)')
  assert.equal(signatureOf(transfer), 'transfer(address,uint256)')
  assert.equal(toHex(selectorOf(transfer as never)), '0xa9059cbb')
  const data = encodeAbiCall([transfer], { functionName: 'transfer', args: [`0x${'11'.repeat(20)}`, 5n] })
  assert.equal(toHex(data), `0xa9059cbb${'00'.repeat(12)}${'11'.repeat(20)}${'00'.repeat(31)}05`)
  const tuple = parseAbiItem('function f((uint8 x, bytes y)[] list, bool z)')
  assert.equal(signatureOf(tuple), 'f((uint8,bytes)[],bool)')
  assert.throws(() => encodeAbiCall([tuple], { functionName: 'f', args: [[{ x: 256, y: '0x' }], true] }), /uint8/)
  const ev = parseAbiItem('event E(address indexed who, uint256 amount, bytes data)')
  assert.equal(toHex(keccak256(utf8ToBytes(signatureOf(ev)))).length, 66)
  assert.deepEqual(logShape(findEvent([ev], 'E'), { data: 40 }), { topics: 2, dataBytes: 32 + 32 + 32 + 64 })
  assert.throws(() => logShape(findEvent([ev], 'E')), /length of dynamic data/)
})
