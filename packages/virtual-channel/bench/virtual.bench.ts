/**
 * `npm run bench -w @l2bench/virtual-channel`: the VirtualAdjudicator's gas
 * per operation (mock schedule), and the wall time of a virtual open, a
 * payment and a cooperative close between three in-process nodes (memory
 * stores, in-memory links; noisy on a shared machine — the harness's
 * `virtual` design measures the same with SQLite).
 */
import { MAX_AMOUNT, NodeSigner, monotonicMs, secretKeyFromSeed } from '@l2bench/core'
import { MockL1, type Receipt, Wallet } from '@l2bench/l1-mock'
import { type ChannelState, MemoryStore, memoryLinkPair, stateDigest } from '@l2bench/payment-channel'
import { MemoryVirtualStore, VirtualAdjudicator, VirtualNode } from '../src/index.ts'

const ETH = 10n ** 18n
const l1 = new MockL1()
const adjudicator = l1.deploy(new VirtualAdjudicator())
const mk = (name: string) => {
  const signer = new NodeSigner(secretKeyFromSeed(`bench/${name}`))
  l1.mint(signer.address, 1000n * ETH)
  return new VirtualNode({
    signer,
    wallet: new Wallet(signer, l1),
    adjudicator,
    store: new MemoryStore(),
    virtualStore: new MemoryVirtualStore(),
    timers: false,
    acceptLimits: { maxDeposit: MAX_AMOUNT },
    limits: { maxShare: MAX_AMOUNT, maxCollateral: MAX_AMOUNT },
  })
}
const [alice, bob, ingrid] = [mk('alice'), mk('bob'), mk('ingrid')]
for (const [x, y] of [
  [alice, ingrid],
  [bob, ingrid],
  [alice, bob],
] as const) {
  const [a, b] = memoryLinkPair()
  x.attach(a)
  y.attach(b)
  const [c, d] = memoryLinkPair()
  x.attachVirtual(c)
  y.attachVirtual(d)
}
await Promise.all([alice.whenConnected(ingrid.address), bob.whenConnected(ingrid.address), alice.whenConnected(bob.address)])
const open = (n: VirtualNode, nonce: bigint) =>
  n.channel.open({ peer: ingrid.address, peerPublicKey: ingrid.channel.signer.publicKey, deposit: 100n * ETH, peerDeposit: 100n * ETH, disputeWindow: 10, nonce })
const ledgerA = await open(alice, 1n)
const ledgerB = await open(bob, 2n)
const turn = () => new Promise((r) => setImmediate(r))

const ROUNDS = Number(process.env.ROUNDS ?? 20)
const PAYMENTS = 50
const t = { open: [] as number[], pay: [] as number[], close: [] as number[] }
for (let i = 0; i < ROUNDS; i++) {
  let t0 = monotonicMs()
  const vid = await alice.openVirtual({ peer: bob.address, peerPublicKey: bob.channel.signer.publicKey, ingrid: ingrid.address, ledger: ledgerA, peerLedger: ledgerB, deposit: ETH, peerDeposit: ETH, nonce: BigInt(i + 1) })
  while (bob.virtualStatus(vid).status !== 'active') await turn()
  t.open.push(monotonicMs() - t0)
  t0 = monotonicMs()
  for (let k = 0; k < PAYMENTS; k++) await (k % 2 === 0 ? alice : bob).pay({ channelId: vid, amount: 1000n + BigInt(k) })
  t.pay.push((monotonicMs() - t0) / PAYMENTS)
  t0 = monotonicMs()
  await alice.closeVirtual({ channelId: vid })
  while (ingrid.virtualStatus(vid).status !== 'closed') await turn()
  t.close.push(monotonicMs() - t0)
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number
console.log(`${ROUNDS} virtual channels (memory stores, node:crypto verify), median wall ms:`)
console.log(`  open (propose, accept, fund, two ledger locks, activation)  ${median(t.open).toFixed(2)}`)
console.log(`  payment (one two-party update)                              ${median(t.pay).toFixed(2)}`)
console.log(`  close (final state, settle, two ledger unlocks)             ${median(t.close).toFixed(2)}`)

// ---- gas of the virtual operations (a channel opened and paid above)
const vid = await alice.openVirtual({ peer: bob.address, peerPublicKey: bob.channel.signer.publicKey, ingrid: ingrid.address, ledger: ledgerA, peerLedger: ledgerB, deposit: ETH, peerDeposit: ETH, nonce: 999n })
while (bob.virtualStatus(vid).status !== 'active') await turn()
await alice.pay({ channelId: vid, amount: 5n })
const r = alice.records.require(vid)
const sign = (state: ChannelState) => {
  const digest = stateDigest({ chainId: l1.chainId, adjudicator: adjudicator.address }, state)
  return { state, digest, sigs: [alice.channel.signer.sign(digest), bob.channel.signer.sign(digest)] as const }
}
const gas: [string, Receipt][] = []
alice.options.autoDefend = false
bob.options.autoDefend = false
ingrid.options.autoDefend = false
gas.push(['registerVirtual, version 0 (no signature)', await alice.client.register(r.params, undefined)])
const v5 = sign({ channelId: r.vid, version: 5n, balances: [ETH - 5n, ETH + 5n], locked: [], isFinal: false })
gas.push(['registerVirtual, refute (2 sigs + activation)', await bob.client.register(r.params, v5, r.activation)])
const final = sign({ channelId: r.vid, version: 6n, balances: [ETH - 5n, ETH + 5n], locked: [], isFinal: true })
gas.push(['concludeVirtual (Ingrid, 2 sigs)', await ingrid.client.conclude(r.params, final)])
gas.push(['register ledger A (with the lock)', await alice.channel.forceClose({ channelId: ledgerA })])
l1.mine(11)
gas.push(['finalize ledger A (lock kept apart)', await alice.channel.finalize({ channelId: ledgerA })])
gas.push(['resolveLocked, split by the outcome', await alice.client.resolve(new Uint8Array(Buffer.from(ledgerA.slice(2), 'hex')), r.params)])
console.log('\nVirtualAdjudicator gas (mock schedule):')
for (const [what, rc] of gas) console.log(`  ${what.padEnd(48)} ${String(rc.gasUsed).padStart(8)}  calldata ${rc.calldataBytes} B`)
for (const n of [alice, bob, ingrid]) n.stop()
