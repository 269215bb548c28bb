/**
 * EvmL1.trial: calls run as real transactions on a throwaway copy of the
 * chain, with code overridden (a stub in place of a verifier), each one's
 * receipt gas and call trace returned; afterwards the chain (state, code,
 * nonces, balances, height, time) and the client's view (head, events,
 * receipts) are as before. No calls: nothing happens. A reverted call fails
 * the trial with its reason (and the chain is still returned); pending
 * transactions, bad input and a node that dies midway fail with typed errors
 * and leave the client's view untouched. `trace` reads a mined transaction's
 * call trace.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { after, before, test } from 'node:test'
import { type Address, InvalidInputError, NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import { Wallet } from '@l2bench/l1-mock'
import { type Abi, type Hex, decodeFunctionResult, encodeFunctionData } from 'viem'
import { AnvilError, DEPLOYER, EvmL1, TrialRevertedError, rpcCall } from '../src/index.ts'

const SOURCES = {
  'Trial.sol': `// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// Refuses every check (stands for a verifier the trial replaces with a stub).
contract Refuses {
    function check(uint256) external pure returns (uint256) {
        return 0;
    }
}

contract Counter {
    address public immutable verifier;
    uint256 public count;
    event Counted(uint256 count);

    constructor(address verifier_) {
        verifier = verifier_;
    }

    function bump(uint256 x) external {
        (bool ok, bytes memory out) = verifier.staticcall(abi.encodeWithSignature("check(uint256)", x));
        require(ok && out.length == 32 && abi.decode(out, (uint256)) == 1, "verifier refused");
        count += 1;
        emit Counted(count);
    }
}
`,
}
/** Returns uint256(1): PUSH1 1, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN. */
const ACCEPT: Hex = '0x600160005260206000f3'

let l1: EvmL1
let refuses: Address
let counter: { address: Address; abi: Abi }
let w: Wallet

before(async () => {
  l1 = await EvmL1.start()
  refuses = (await l1.deploySolidity(SOURCES, 'Refuses')).address
  counter = await l1.deploySolidity(SOURCES, 'Counter', [refuses])
  w = new Wallet(new NodeSigner(secretKeyFromSeed('evm-trial')), l1)
  await l1.mint(w.address, 10n ** 18n)
})

after(async () => {
  await l1?.stop()
})

const bump = (x: bigint) => ({ from: w.address, to: counter.address, data: encodeFunctionData({ abi: counter.abi, functionName: 'bump', args: [x] }) })

async function count(): Promise<bigint> {
  const data = encodeFunctionData({ abi: counter.abi, functionName: 'count' })
  const out = (await rpcCall(l1.node, 'eth_call', [{ to: counter.address, data }, 'latest'])) as Hex
  return decodeFunctionResult({ abi: counter.abi, functionName: 'count', data: out }) as bigint
}

/** What the trial must leave as it found: the chain's and the client's. */
async function state() {
  return {
    head: l1.head(),
    events: l1.events().length,
    block: await rpcCall(l1.node, 'eth_blockNumber', []),
    nonce: l1.nonceOf(w.address),
    balance: l1.balanceOf(w.address),
    count: await count(),
    code: await rpcCall(l1.node, 'eth_getCode', [refuses, 'latest']),
  }
}

test('a trial runs its calls in order with the stub in place, returns each receipt gas and trace, and leaves chain and client as they were', async () => {
  const before = await state()
  const runs: number[] = []
  const results = await l1.trial([bump(1n), bump(2n), bump(3n)], { code: new Map([[refuses, ACCEPT]]), onProgress: (done, total) => runs.push(done, total) })
  assert.deepEqual(runs, [1, 3, 2, 3, 3, 3])
  assert.equal(results.length, 3)
  for (const r of results) {
    const frames = (r.trace.calls ?? []).filter((c) => c.to?.toLowerCase() === refuses)
    assert.equal(frames.length, 1, 'one call to the stubbed verifier')
    // The stub: 5 pushes and an MSTORE at 3 gas, a word of memory 3, RETURN 0.
    assert.equal(Number(BigInt(frames[0]?.gasUsed ?? '0x0')), 18)
    assert.equal(Number(BigInt(r.trace.gasUsed ?? '0x0')), r.gasUsed, "the top frame's gas is the receipt's")
  }
  // State carries over between the calls: the first bump writes the counter slot for the first time.
  const [first, second, third] = results.map((r) => r.gasUsed) as [number, number, number]
  assert.ok(first - second >= 15_000, `${first} then ${second}`)
  assert.equal(second, third)
  assert.deepEqual(await state(), before, 'chain, code, nonce, balance, head and events as before')
  // Time goes on from where the run left it: the trial's blocks are gone.
  await l1.mine(1)
  assert.deepEqual(l1.head(), { height: before.head.height + 1, timestamp: before.head.timestamp + l1.blockTime })
})

test('no calls: nothing is sent, nothing changes', async () => {
  const before = await state()
  assert.deepEqual(await l1.trial([], { code: new Map([[refuses, ACCEPT]]) }), [])
  assert.deepEqual(await state(), before)
})

test('a reverted call fails the trial loudly with its index and reason; the chain is returned all the same', async () => {
  const before = await state()
  // Without the stub the verifier refuses: the second call reverts after the first succeeded on the copy.
  await assert.rejects(
    l1.trial([bump(1n), { ...bump(2n), data: '0xdeadbeef' }]),
    (e: unknown) => e instanceof TrialRevertedError && e.code === 'TRIAL_REVERTED' && e.index === 0 && /verifier refused/.test(e.reason),
  )
  await assert.rejects(
    l1.trial([bump(1n), { ...bump(2n), data: '0xdeadbeef' }], { code: new Map([[refuses, ACCEPT]]) }),
    (e: unknown) => e instanceof TrialRevertedError && e.index === 1 && e.field === 'calls[1]',
  )
  assert.deepEqual(await state(), before)
})

test('bad input and pending transactions: typed errors, nothing sent', async () => {
  const before = await state()
  await assert.rejects(l1.trial([{ ...bump(1n), data: '0xzz' as Hex }]), (e: unknown) => e instanceof InvalidInputError && e.field === 'calls[0].data')
  await assert.rejects(l1.trial([{ ...bump(1n), to: 'nope' as Address }]), (e: unknown) => e instanceof InvalidInputError && e.field === 'calls[0].to')
  await assert.rejects(l1.trial([bump(1n)], { code: new Map([[refuses, '0x6' as Hex]]) }), (e: unknown) => e instanceof InvalidInputError)
  assert.deepEqual(await state(), before)
  l1.autoMine = false
  try {
    const hash = await w.sendRaw(w.address, new Uint8Array(), { value: 1n, gasLimit: 21_000n })
    await assert.rejects(l1.trial([bump(1n)], { code: new Map([[refuses, ACCEPT]]) }), (e: unknown) => e instanceof InvalidInputError && e.field === 'trial')
    await l1.mine(1)
    assert.equal((await l1.receipt(hash)).status, 'success', 'the pending transaction is mined as usual')
    // trace: a mined transaction's call trace by the project's hash.
    const t = await l1.trace(hash)
    assert.equal(t.type, 'CALL')
    assert.equal(Number(BigInt(t.gasUsed ?? '0x0')), 21_000)
    await assert.rejects(l1.trace(`0x${'11'.repeat(32)}` as never), (e: unknown) => e instanceof InvalidInputError && e.field === 'hash')
  } finally {
    l1.autoMine = true
  }
})

test('anvil dies midway through a trial: ANVIL_DIED, and the client’s view is untouched', async () => {
  const node = await EvmL1.start()
  try {
    const r = (await node.deploySolidity(SOURCES, 'Refuses')).address
    const c = await node.deploySolidity(SOURCES, 'Counter', [r])
    const call = { from: DEPLOYER, to: c.address, data: encodeFunctionData({ abi: c.abi, functionName: 'bump', args: [1n] }) }
    const head = node.head()
    const events = node.events().length
    const anvilPid = Number(execFileSync('pgrep', ['-P', String(node.node.pid), '-x', 'anvil'], { encoding: 'utf8' }).trim())
    await assert.rejects(
      node.trial([call, call, call], { code: new Map([[r, ACCEPT]]), onProgress: (done) => done === 1 && process.kill(anvilPid, 'SIGKILL') }),
      (e: unknown) => e instanceof AnvilError && e.code === 'ANVIL_DIED',
    )
    assert.deepEqual(node.head(), head)
    assert.equal(node.events().length, events)
  } finally {
    await node.stop()
  }
})
