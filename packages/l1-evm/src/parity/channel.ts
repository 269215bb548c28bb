/**
 * Parity scripts of the two-party channel (payment-channel's Adjudicator) and
 * the HTLC network's adjudicator (htlc-router's HtlcAdjudicator): every
 * contract method, through the design's own AdjudicatorClient.
 */
import { type Amount, NodeSigner, type Signer, secretKeyFromSeed, sha256 } from '@l2bench/core'
import { HtlcAdjudicator } from '@l2bench/htlc-router'
import { Wallet } from '@l2bench/l1-mock'
import { Adjudicator, AdjudicatorClient, type ChannelState, type Domain, type LockedEntry, type SignedState, stateDigest } from '@l2bench/payment-channel'
import type { Chain } from '../chain.ts'
import type { ParityScenario } from './index.ts'

const ETH = 10n ** 18n

function sign(domain: Domain, state: ChannelState, a: Signer, b: Signer): SignedState {
  const digest = stateDigest(domain, state)
  return { state, digest, sigs: [a.sign(digest), b.sign(digest)] }
}

async function parties(chain: Chain, adj: Adjudicator, tag: string) {
  const make = async (name: string) => {
    const signer = new NodeSigner(secretKeyFromSeed(`parity/${tag}/${name}`))
    const wallet = new Wallet(signer, chain.l1)
    await chain.mint(signer.address, 1000n * ETH)
    return { signer, client: new AdjudicatorClient(wallet, adj), address: signer.address }
  }
  return { a: await make('a'), b: await make('b') }
}

async function openChannel(
  chain: Chain,
  adj: Adjudicator,
  p: Awaited<ReturnType<typeof parties>>,
  nonce: bigint,
  record?: (op: string, r: Awaited<ReturnType<AdjudicatorClient['open']>>) => void,
) {
  const r = await p.a.client.open({
    b: p.b.address,
    pkA: p.a.signer.publicKey,
    pkB: p.b.signer.publicKey,
    nonce,
    depositA: 10n * ETH,
    depositB: 5n * ETH,
    disputeWindow: 5,
    fundingTimeout: 3,
    penalty: 'slash',
  })
  record?.('open', r)
  const channelId = Uint8Array.from(Buffer.from((r.result as string).slice(2), 'hex'))
  const state = (version: bigint, balances: readonly [Amount, Amount], isFinal = false, locked: LockedEntry[] = []): ChannelState => ({
    channelId,
    version,
    balances,
    locked,
    isFinal,
  })
  const domain: Domain = { chainId: chain.l1.chainId, adjudicator: adj.address }
  return { channelId, state, domain, opened: r }
}

export const channelParity: ParityScenario = {
  design: 'direct channel',
  contract: 'PaymentChannelAdjudicator',
  async run(chain, record) {
    const adj = await chain.deploy(new Adjudicator())
    const p = await parties(chain, adj, 'channel')
    const { a, b } = p
    // open → confirm → topUp → cooperative close
    const c1 = await openChannel(chain, adj, p, 1n, record)
    record('confirm', await b.client.confirm(c1.channelId, 5n * ETH))
    record('topUp', await b.client.topUp(sign(c1.domain, c1.state(1n, [10n * ETH, 6n * ETH]), a.signer, b.signer), ETH))
    record('close (cooperative)', await a.client.close(sign(c1.domain, c1.state(4n, [9n * ETH, 7n * ETH], true), a.signer, b.signer)))
    // register → challenge (slash) → finalize
    const c2 = await openChannel(chain, adj, p, 2n)
    await b.client.confirm(c2.channelId, 5n * ETH)
    record('register', await a.client.register(sign(c2.domain, c2.state(3n, [12n * ETH, 3n * ETH]), a.signer, b.signer)))
    record('challenge', await b.client.challenge(sign(c2.domain, c2.state(6n, [8n * ETH, 7n * ETH]), a.signer, b.signer)))
    await chain.mine(6)
    record('finalize', await b.client.finalize(c2.channelId))
    // refund of an unconfirmed channel
    const c3 = await openChannel(chain, adj, p, 3n)
    await chain.mine(4)
    record('refund', await a.client.refund(c3.channelId))
  },
}

export const htlcParity: ParityScenario = {
  design: 'HTLC network',
  contract: 'HtlcAdjudicator',
  async run(chain, record) {
    const adj = await chain.deploy(new HtlcAdjudicator())
    const p = await parties(chain, adj, 'htlc')
    const { a, b } = p
    const c = await openChannel(chain, adj, p, 1n)
    await b.client.confirm(c.channelId, 5n * ETH)
    const preimage = new Uint8Array(32).fill(5)
    const head = chain.l1.head().height
    const lock = (n: number, expiry: number): LockedEntry => ({ id: new Uint8Array(32).fill(n), amount: ETH, direction: 0, hash: sha256(preimage), expiry: BigInt(expiry) })
    const claimed = lock(1, head + 100)
    const refunded = lock(2, head + 10)
    record(
      'close with 2 HTLCs',
      await a.client.close(sign(c.domain, c.state(5n, [8n * ETH, 5n * ETH], true, [claimed, refunded]), a.signer, b.signer)),
    )
    record('claim HTLC (preimage)', await b.client.resolveLocked(c.channelId, claimed.id, preimage))
    await chain.advanceTo(head + 10)
    record('refund HTLC (expiry)', await a.client.resolveLocked(c.channelId, refunded.id))
  },
}
