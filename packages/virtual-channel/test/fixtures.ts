/** Shared test fixtures: an L1 with the VirtualAdjudicator, funded parties, ledger channels on chain, signed states. */
import { type Address, type Amount, NodeSigner, type Signer, secretKeyFromSeed } from '@l2bench/core'
import { type Contract, MockL1, type Receipt, Wallet } from '@l2bench/l1-mock'
import { AdjudicatorClient, type ChannelState, type Domain, type SignedState, stateDigest } from '@l2bench/payment-channel'
import { VirtualAdjudicator, VirtualClient, type VirtualParams, activationDigest, virtualId } from '../src/index.ts'

export const ETH = 10n ** 18n

/** A wallet that adds up the fees of its contract calls (so a test can tell payouts from gas). */
export class FeeWallet extends Wallet {
  fees = 0n
  override async call<M extends { type: string }>(contract: Contract<M>, call: M, options = {}): Promise<Receipt> {
    const r = await super.call(contract, call, options)
    this.fees += r.fee
    return r
  }
}

export interface Party {
  name: string
  signer: Signer
  wallet: FeeWallet
  client: AdjudicatorClient
  virtual: VirtualClient
  address: Address
}

export function makeWorld() {
  const l1 = new MockL1()
  const adj = l1.deploy(new VirtualAdjudicator())
  const domain: Domain = { chainId: l1.chainId, adjudicator: adj.address }
  const party = (name: string): Party => {
    const signer = new NodeSigner(secretKeyFromSeed(`virtual/${name}`))
    const wallet = new FeeWallet(signer, l1)
    l1.mint(signer.address, 1000n * ETH)
    return { name, signer, wallet, client: new AdjudicatorClient(wallet, adj), virtual: new VirtualClient(wallet, adj), address: signer.address }
  }
  return { l1, adj, domain, party }
}
export type World = ReturnType<typeof makeWorld>

export function sign(domain: Domain, state: ChannelState, a: Signer, b: Signer): SignedState {
  const digest = stateDigest(domain, state)
  return { state, digest, sigs: [a.sign(digest), b.sign(digest)] }
}

/** Opens and funds a ledger channel directly on L1 (contract-level tests); `a` is the opener (party 0). */
export async function ledgerOnChain(a: Party, b: Party, deposits: readonly [Amount, Amount], nonce = 1n, window = 10) {
  const r = await a.client.open({
    b: b.address,
    pkA: a.signer.publicKey,
    pkB: b.signer.publicKey,
    nonce,
    depositA: deposits[0],
    depositB: deposits[1],
    disputeWindow: window,
    fundingTimeout: 5,
    penalty: 'none',
  })
  const channelId = new Uint8Array(Buffer.from((r.result as string).slice(2), 'hex'))
  if (deposits[1] > 0n) await b.client.confirm(channelId, deposits[1])
  else await b.client.confirm(channelId, 0n)
  return channelId
}

export function params(w: World, alice: Party, bob: Party, ingrid: Party, ledgerA: Uint8Array, ledgerB: Uint8Array, deposits: readonly [Amount, Amount], extra: Partial<VirtualParams> = {}): VirtualParams {
  return {
    chainId: w.l1.chainId,
    adjudicator: w.adj.address,
    nonce: 1n,
    alice: alice.address,
    bob: bob.address,
    pkAlice: alice.signer.publicKey,
    pkBob: bob.signer.publicKey,
    ingrid: ingrid.address,
    pkIngrid: ingrid.signer.publicKey,
    ledgerA,
    ledgerB,
    deposits,
    disputeWindow: 8,
    validity: 1000n,
    ...extra,
  }
}

export function activation(p: VirtualParams, ingrid: Party): Uint8Array {
  return ingrid.signer.sign(activationDigest(virtualId(p)))
}

/** Σ balances + burnt = minted: no money created or lost on the L1. */
export function l1Conserved(w: World): boolean {
  return w.l1.totalBalances() + w.l1.totalBurnt() === w.l1.totalMinted()
}

// ------------------------------------------------------------------ nodes

import { MAX_AMOUNT } from '@l2bench/core'
import { type ChannelStore, MemoryStore, type MemoryLinkOptions, memoryLinkPair } from '@l2bench/payment-channel'
import { MemoryVirtualStore, VirtualNode, type VirtualNodeOptions, type VirtualStore } from '../src/index.ts'

export interface Stores {
  channel: ChannelStore
  virtual: VirtualStore
}

export function memoryStores(): Stores {
  return { channel: new MemoryStore(), virtual: new MemoryVirtualStore() }
}

/** A node of `party` over its stores (a restart is a new node over the same stores). */
export function makeNode(w: World, party: Party, stores: Stores, extra: Partial<VirtualNodeOptions> = {}): VirtualNode {
  return new VirtualNode({
    signer: party.signer,
    wallet: party.wallet,
    adjudicator: w.adj,
    store: stores.channel,
    virtualStore: stores.virtual,
    timers: false,
    acceptLimits: { maxDeposit: MAX_AMOUNT },
    limits: { maxShare: MAX_AMOUNT, maxCollateral: MAX_AMOUNT },
    ...extra,
  })
}

/** Both kinds of link between two nodes; returns the raw links (to cut them). */
export function connect(x: VirtualNode, y: VirtualNode, options: MemoryLinkOptions = {}) {
  const ch = memoryLinkPair(options)
  const vc = memoryLinkPair(options)
  x.attach(ch[0])
  y.attach(ch[1])
  x.attachVirtual(vc[0])
  y.attachVirtual(vc[1])
  return { ch, vc }
}

/** Lets queued microtasks and immediate callbacks run. */
export async function turns(n = 10): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r))
}

export async function until(cond: () => boolean, rounds = 5000): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (cond()) return
    await new Promise((r) => setImmediate(r))
  }
  throw new Error('condition not reached')
}

export interface Trio {
  w: World
  alice: Party
  bob: Party
  ingrid: Party
  nodes: { alice: VirtualNode; bob: VirtualNode; ingrid: VirtualNode }
  stores: { alice: Stores; bob: Stores; ingrid: Stores }
  ledgerA: `0x${string}`
  ledgerB: `0x${string}`
  links: { ai: ReturnType<typeof connect>; bi: ReturnType<typeof connect>; ab: ReturnType<typeof connect> }
}

/**
 * Alice, Bob and Ingrid as nodes: ledger A (Alice opens, Ingrid puts in
 * `hub`), ledger B (Bob opens, Ingrid puts in `hub`), all three linked.
 */
export async function trio(
  opts: { user?: Amount; hub?: Amount; window?: number; node?: Partial<VirtualNodeOptions>; stores?: Partial<Trio['stores']> } = {},
): Promise<Trio> {
  const w = makeWorld()
  const alice = w.party('alice')
  const bob = w.party('bob')
  const ingrid = w.party('ingrid')
  const stores = { alice: opts.stores?.alice ?? memoryStores(), bob: opts.stores?.bob ?? memoryStores(), ingrid: opts.stores?.ingrid ?? memoryStores() }
  const nodes = { alice: makeNode(w, alice, stores.alice, opts.node), bob: makeNode(w, bob, stores.bob, opts.node), ingrid: makeNode(w, ingrid, stores.ingrid, opts.node) }
  const links = { ai: connect(nodes.alice, nodes.ingrid), bi: connect(nodes.bob, nodes.ingrid), ab: connect(nodes.alice, nodes.bob) }
  await Promise.all([nodes.alice.whenConnected(ingrid.address), nodes.bob.whenConnected(ingrid.address), nodes.alice.whenConnected(bob.address)])
  const user = opts.user ?? 10n * ETH
  const hub = opts.hub ?? 10n * ETH
  const window = opts.window ?? 10
  const ledgerA = await nodes.alice.channel.open({ peer: ingrid.address, peerPublicKey: ingrid.signer.publicKey, deposit: user, peerDeposit: hub, disputeWindow: window, nonce: 1n })
  const ledgerB = await nodes.bob.channel.open({ peer: ingrid.address, peerPublicKey: ingrid.signer.publicKey, deposit: user, peerDeposit: hub, disputeWindow: window, nonce: 2n })
  await turns()
  return { w, alice, bob, ingrid, nodes, stores, ledgerA, ledgerB, links }
}

/** Opens a virtual channel Alice → Bob through Ingrid. */
export function openVirtual(t: Trio, deposit: Amount, peerDeposit: Amount = 0n, extra: { disputeWindow?: number; validity?: number; nonce?: bigint } = {}) {
  return t.nodes.alice.openVirtual({
    peer: t.bob.address,
    peerPublicKey: t.bob.signer.publicKey,
    ingrid: t.ingrid.address,
    ledger: t.ledgerA,
    peerLedger: t.ledgerB,
    deposit,
    peerDeposit,
    disputeWindow: extra.disputeWindow ?? 8,
    validity: extra.validity ?? 1000,
    nonce: extra.nonce ?? 1n,
  })
}

/** Ingrid's balance in ledger A + in ledger B (her newest signed states). */
export function ingridLedgerTotal(t: Trio): bigint {
  const n = t.nodes.ingrid.channel
  return n.status(t.ledgerA).myBalance + n.status(t.ledgerB).myBalance
}

/** Opens Alice → Bob and waits until both run it. */
export async function activeVirtual(t: Trio, deposit: Amount, peerDeposit: Amount = 0n, extra: { disputeWindow?: number; validity?: number; nonce?: bigint } = {}) {
  const vid = await openVirtual(t, deposit, peerDeposit, extra)
  await until(() => t.nodes.bob.records.get(vid)?.status === 'active' && t.nodes.alice.records.get(vid)?.status === 'active')
  return vid
}

/** A mark of `who`'s L1 balance and fees; `gained(mark)` is what it was paid since, gas added back. */
export function mark(w: World, who: Party): () => bigint {
  const balance = w.l1.balanceOf(who.address)
  const fees = who.wallet.fees
  return () => w.l1.balanceOf(who.address) - balance + (who.wallet.fees - fees)
}

/** Counts signatures made by a party's signer from now on. */
export function countSigns(signer: Signer): { readonly count: number } {
  const c = { count: 0 }
  const orig = signer.sign.bind(signer)
  signer.sign = (d: Uint8Array) => {
    c.count++
    return orig(d)
  }
  return c
}
