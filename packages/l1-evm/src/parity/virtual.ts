/**
 * Parity script of the virtual channel's adjudicator (virtual-channel's
 * VirtualAdjudicator / VirtualAdjudicator.sol): both ledgers closed with the
 * virtual lock, every registration shape, Ingrid's conclusion and a lock
 * split by the outcome.
 */
import { type Address, type Amount, NodeSigner, type Signer, secretKeyFromSeed } from '@l2bench/core'
import { type L1, Wallet } from '@l2bench/l1-mock'
import { AdjudicatorClient, type ChannelState, type Domain, type SignedState, stateDigest } from '@l2bench/payment-channel'
import { VirtualAdjudicator, VirtualClient, type VirtualParams, activationDigest, lockFor, virtualId, withLock } from '@l2bench/virtual-channel'
import type { ParityScenario } from './index.ts'

const ETH = 10n ** 18n

function sign(domain: Domain, state: ChannelState, a: Signer, b: Signer): SignedState {
  const digest = stateDigest(domain, state)
  return { state, digest, sigs: [a.sign(digest), b.sign(digest)] }
}

/** A party of the virtual channel's scripts: its key and its clients of the adjudicator. */
export interface VirtualParty {
  signer: Signer
  address: Address
  client: AdjudicatorClient
  virtual: VirtualClient
}

/** Opens a ledger channel from `a` to `b`, 10 ETH each side, confirmed. */
export async function openLedger(a: VirtualParty, b: VirtualParty, nonce: bigint): Promise<Uint8Array> {
  const r = await a.client.open({
    b: b.address,
    pkA: a.signer.publicKey,
    pkB: b.signer.publicKey,
    nonce,
    depositA: 10n * ETH,
    depositB: 10n * ETH,
    disputeWindow: 10,
    fundingTimeout: 5,
    penalty: 'none',
  })
  const id = Uint8Array.from(Buffer.from((r.result as string).slice(2), 'hex'))
  await b.client.confirm(id, 10n * ETH)
  return id
}

/** Parameters of a virtual channel over the two ledgers: deposits [3, 1] ETH, window 8, Ingrid's validity 1,000 blocks ahead. */
export function virtualParams(
  l1: L1,
  adj: VirtualAdjudicator,
  [alice, bob, ingrid]: readonly [VirtualParty, VirtualParty, VirtualParty],
  ledgers: readonly [Uint8Array, Uint8Array],
  nonce: bigint,
): VirtualParams {
  return {
    chainId: l1.chainId,
    adjudicator: adj.address,
    nonce,
    alice: alice.address,
    bob: bob.address,
    pkAlice: alice.signer.publicKey,
    pkBob: bob.signer.publicKey,
    ingrid: ingrid.address,
    pkIngrid: ingrid.signer.publicKey,
    ledgerA: ledgers[0],
    ledgerB: ledgers[1],
    deposits: [3n * ETH, 1n * ETH],
    disputeWindow: 8,
    validity: BigInt(l1.head().height + 1000),
  }
}

export const virtualParity: ParityScenario = {
  design: 'virtual channel',
  contract: 'VirtualAdjudicator',
  async run(chain, record) {
    const adj = await chain.deploy(new VirtualAdjudicator())
    const domain: Domain = { chainId: chain.l1.chainId, adjudicator: adj.address }
    const party = async (name: string): Promise<VirtualParty> => {
      const signer = new NodeSigner(secretKeyFromSeed(`parity/virtual/${name}`))
      const wallet = new Wallet(signer, chain.l1)
      await chain.mint(signer.address, 1000n * ETH)
      return { signer, address: signer.address, client: new AdjudicatorClient(wallet, adj), virtual: new VirtualClient(wallet, adj) }
    }
    const alice = await party('alice')
    const bob = await party('bob')
    const ingrid = await party('ingrid')
    const ledgerA = await openLedger(alice, ingrid, 1n)
    const ledgerB = await openLedger(ingrid, bob, 2n)
    const params = (nonce: bigint) => virtualParams(chain.l1, adj, [alice, bob, ingrid], [ledgerA, ledgerB], nonce)
    const p = params(1n)
    const vstate = (q: VirtualParams, version: bigint, balances: readonly [Amount, Amount], isFinal = false) =>
      sign(domain, { channelId: virtualId(q), version, balances, locked: [], isFinal }, alice.signer, bob.signer)
    const act = (q: VirtualParams) => ingrid.signer.sign(activationDigest(virtualId(q)))

    // Both ledgers close with the virtual lock in them (kept apart until the outcome splits it).
    const base = (id: Uint8Array): ChannelState => ({ channelId: id, version: 0n, balances: [10n * ETH, 10n * ETH], locked: [], isFinal: false })
    const a1 = { ...withLock(base(ledgerA), p, lockFor(p, 'a', [alice.address, ingrid.address])), isFinal: true }
    const b1 = { ...withLock(base(ledgerB), p, lockFor(p, 'b', [ingrid.address, bob.address])), isFinal: true }
    record('close ledger with the virtual lock', await alice.client.close(sign(domain, a1, alice.signer, ingrid.signer)))
    await ingrid.client.close(sign(domain, b1, ingrid.signer, bob.signer))

    record('registerVirtual (version 0)', await alice.virtual.register(p, undefined))
    record('registerVirtual (refute: signed + activation)', await bob.virtual.register(p, vstate(p, 5n, [1n * ETH, 3n * ETH]), act(p)))
    const p2 = params(2n)
    record('registerVirtual (first, signed + activation)', await alice.virtual.register(p2, vstate(p2, 4n, [2n * ETH, 2n * ETH]), act(p2)))
    const p3 = params(3n)
    record('concludeVirtual', await ingrid.virtual.conclude(p3, vstate(p3, 6n, [2n * ETH, 2n * ETH], true)))
    await chain.mine(p.disputeWindow + 1)
    record('resolveLocked (virtual lock, split to both)', await bob.virtual.resolve(ledgerA, p))
  },
}
