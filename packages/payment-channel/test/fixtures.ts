/** Shared test fixtures: an L1 with the adjudicator, funded parties, signed states, node pairs. */
import { type Address, type Amount, NodeSigner, type Signer, secretKeyFromSeed } from '@l2bench/core'
import { MockL1, Wallet } from '@l2bench/l1-mock'
import {
  Adjudicator,
  AdjudicatorClient,
  type ChannelNodeOptions,
  type ChannelState,
  type ChannelStore,
  ChannelNode,
  type Domain,
  MemoryStore,
  type MemoryLinkOptions,
  type Penalty,
  type SecureLink,
  type SignedState,
  memoryLinkPair,
  stateDigest,
} from '../src/index.ts'

export const ETH = 10n ** 18n

export interface Party {
  name: string
  signer: Signer
  wallet: Wallet
  client: AdjudicatorClient
  address: Address
}

export function makeWorld() {
  const l1 = new MockL1()
  const adj = l1.deploy(new Adjudicator())
  const domain: Domain = { chainId: l1.chainId, adjudicator: adj.address }
  const party = (name: string): Party => {
    const signer = new NodeSigner(secretKeyFromSeed(name))
    const wallet = new Wallet(signer, l1)
    l1.mint(signer.address, 1000n * ETH)
    return { name, signer, wallet, client: new AdjudicatorClient(wallet, adj), address: signer.address }
  }
  return { l1, adj, domain, party }
}

export function sign(domain: Domain, state: ChannelState, a: Signer, b: Signer): SignedState {
  const digest = stateDigest(domain, state)
  return { state, digest, sigs: [a.sign(digest), b.sign(digest)] }
}

/** Opens and funds a channel directly on L1 (contract-level tests). */
export async function openOnChain(
  _world: ReturnType<typeof makeWorld>,
  a: Party,
  b: Party,
  opts: { depositA?: Amount; depositB?: Amount; window?: number; penalty?: Penalty; nonce?: bigint; fundingTimeout?: number } = {},
) {
  const depositA = opts.depositA ?? 10n * ETH
  const depositB = opts.depositB ?? 5n * ETH
  const nonce = opts.nonce ?? 1n
  const r = await a.client.open({
    b: b.address,
    pkA: a.signer.publicKey,
    pkB: b.signer.publicKey,
    nonce,
    depositA,
    depositB,
    disputeWindow: opts.window ?? 10,
    fundingTimeout: opts.fundingTimeout ?? 5,
    penalty: opts.penalty ?? 'none',
  })
  const channelId = Buffer.from((r.result as string).slice(2), 'hex')
  const id = new Uint8Array(channelId)
  const confirm = await b.client.confirm(id, depositB)
  const state = (version: bigint, balances: readonly [Amount, Amount], isFinal = false): ChannelState => ({
    channelId: id,
    version,
    balances,
    locked: [],
    isFinal,
  })
  return { channelId: id, openReceipt: r, confirmReceipt: confirm, state, total: depositA + depositB }
}

export interface NodePair {
  world: ReturnType<typeof makeWorld>
  alice: ChannelNode
  bob: ChannelNode
  a: Party
  b: Party
  channelId: `0x${string}`
  stores: [ChannelStore, ChannelStore]
  /** The raw in-memory links (what a third party on the wire sees). */
  links: ReturnType<typeof memoryLinkPair>
  /** The authenticated views of them (sending on secure[0] is sending as Alice). */
  secure: [SecureLink, SecureLink]
}

export async function nodePair(
  opts: {
    penalty?: Penalty
    window?: number
    depositA?: Amount
    depositB?: Amount
    link?: MemoryLinkOptions
    stores?: [ChannelStore, ChannelStore]
    node?: Partial<ChannelNodeOptions>
    /** Per-node overrides (A, B) on top of `node`. */
    nodes?: [Partial<ChannelNodeOptions>, Partial<ChannelNodeOptions>]
    names?: [string, string]
  } = {},
): Promise<NodePair> {
  const world = makeWorld()
  const [na, nb] = opts.names ?? ['alice', 'bob']
  const a = world.party(na)
  const b = world.party(nb)
  const stores = opts.stores ?? [new MemoryStore(), new MemoryStore()]
  // Bob accepts Alice's deposit request (a node deposits nothing for a stranger by default).
  const mk = (p: Party, store: ChannelStore, extra: Partial<ChannelNodeOptions> | undefined) =>
    new ChannelNode({ signer: p.signer, wallet: p.wallet, adjudicator: world.adj, store, timers: false, acceptLimits: { maxDeposit: 100n * ETH }, ...opts.node, ...extra })
  const alice = mk(a, stores[0], opts.nodes?.[0])
  const bob = mk(b, stores[1], opts.nodes?.[1])
  const links = memoryLinkPair(opts.link ?? {})
  const secure: [SecureLink, SecureLink] = [alice.attach(links[0]), bob.attach(links[1])]
  await alice.whenConnected(b.address)
  const channelId = await alice.open({
    peer: b.address,
    peerPublicKey: b.signer.publicKey,
    deposit: opts.depositA ?? 10n * ETH,
    peerDeposit: opts.depositB ?? 5n * ETH,
    disputeWindow: opts.window ?? 10,
    penalty: opts.penalty ?? 'none',
  })
  return { world, alice, bob, a, b, channelId, stores, links, secure }
}

/** Lets queued microtasks and zero-delay timers run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r))
}

/**
 * Polls `cond`: first across event-loop turns (in-memory delivery), then every
 * few ms (real sockets, other processes) up to a generous bound. The bound is a
 * hang guard, not a speed assertion.
 */
export async function until(cond: () => boolean, turns = 2000, maxMs = 30_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (cond()) return
    await new Promise((r) => setImmediate(r))
  }
  const deadline = Date.now() + maxMs
  while (Date.now() < deadline) {
    if (cond()) return
    await new Promise((r) => setTimeout(r, 2))
  }
  throw new Error('condition not reached')
}

/**
 * Mallory (A, autoChallenge off: her own node would refute her) pays Bob 1 ETH
 * five times and keeps v1, where she still had 9 of her 10.
 */
export async function staleStateScenario(penalty: Penalty, bobNode: Partial<ChannelNodeOptions> = {}) {
  const p = await nodePair({ penalty, window: 10, nodes: [{ autoChallenge: false }, bobNode] })
  const { alice: mallory, bob, channelId } = p
  await until(() => bob.status(channelId).phase === 'open')
  await mallory.pay({ channelId, amount: ETH })
  const old = mallory.latest(channelId)
  for (let i = 0; i < 4; i++) await mallory.pay({ channelId, amount: ETH })
  await settle()
  if (bob.status(channelId).version !== 5n) throw new Error('scenario: Bob should hold v5')
  return { ...p, mallory, old }
}
