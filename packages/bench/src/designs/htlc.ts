/**
 * HTLC network adapter (@l2bench/htlc-router). Two engines behind one design:
 *
 *   real       (htlc-real.ts) every user (and the hub) an HtlcNode with its
 *              own key, wallet and store; every payment an HTLC added,
 *              forwarded and settled (or failed) inside countersigned channel
 *              states, with real preimages, per-hop fee and timelock checks,
 *              retries through the router's mission control; faults happen to
 *              those nodes and their on-chain steps are real L1 transactions.
 *   simulated  (htlc-sim.ts) the router's discrete-event NetworkSimulator over
 *              abstract balances: no signatures on the payment path. Used
 *              for graphs too big to run node by node (the 16,500-node
 *              network); every report labels it "simulated forwarding".
 *
 * `designOptions.htlc.forwarding` picks one ('auto': real up to
 * `maxRealChannels` channels). This file builds what both share: the channel
 * plan of the topology.
 *
 * Topology: `hub` — every user that pays or is paid opens one channel to a
 * single hub run by an operator, funded with perfect foresight (the user's
 * peak net outflow on its side plus the fees on it, the hub's peak net
 * outflow to the user on the other, × headroom) or with the scenario's fixed
 * deposit; `scale-free` — the workload's preferential-attachment graph over
 * the users, every channel `topology.capacity`, split in half.
 */
import type { Amount } from '@l2bench/core'
import type { CapacityInputs, Design, ExtraCost, PaymentBound, PaymentResult, User, World } from '../design.ts'
import type { StoreJson } from '../results.ts'
import type { Payment } from '../workload.ts'
import { type HtlcOptions, designOptions } from './options.ts'

/** Wei per router msat (the router searches in numbers below 2^53: 1 msat here = 1 gwei). */
export const UNIT = 10n ** 9n

export interface PlannedChannel {
  a: number
  b: number
  /** Wei, whole gwei. */
  depositA: Amount
  depositB: Amount
}

export interface HtlcPlan {
  /** Graph nodes: the users (index = user), then the hub if any. */
  nodes: number
  hub: User | undefined
  channels: PlannedChannel[]
  /** How the channels were funded (the report says it). */
  funding: string
  topology: string
}

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b
const wholeGwei = (wei: bigint) => ceilDiv(wei, UNIT) * UNIT

/** The channels of the scenario's topology, funded from the workload. */
export async function planChannels(world: World, o: HtlcOptions): Promise<HtlcPlan> {
  const s = world.scenario
  if (s.topology.kind === 'hub') {
    const hub = await world.operator('htlc-hub')
    const hubNode = world.users.length
    const fixed = s.capital.channelDeposit
    const h = BigInt(Math.round(s.capital.headroom * 1000))
    const channels: PlannedChannel[] = []
    world.workload.userNeeds.forEach((need, u) => {
      if (need.a === 0n && need.b === 0n) return
      let mine: bigint
      let hubs: bigint
      if (fixed === 'auto') {
        const out = ceilDiv(need.a * h, 1000n)
        // The user's side also pays the hub's fee on what it sends (and up to 64 base fees).
        mine = wholeGwei(out + ceilDiv(out * BigInt(o.feeRatePpm), 1_000_000n) + BigInt(o.baseFeeMsat) * UNIT * 64n)
        hubs = wholeGwei(ceilDiv(need.b * h, 1000n))
      } else {
        mine = wholeGwei(fixed)
        hubs = wholeGwei(fixed)
      }
      if (mine + hubs === 0n) return
      channels.push({ a: u, b: hubNode, depositA: mine, depositB: hubs })
    })
    return {
      nodes: world.users.length + 1,
      hub,
      channels,
      funding:
        fixed === 'auto'
          ? `perfect foresight: each user's side holds its peak net outflow in this workload × headroom ${s.capital.headroom} (+ the hub's fees on it), the hub's side its peak net outflow to that user × headroom`
          : `a fixed ${fixed} wei per side (capital.channelDeposit), no foresight`,
      topology: `hub and spoke: one channel per user that pays or is paid to an operator's hub (${channels.length} channels)`,
    }
  }
  const cap = wholeGwei(s.topology.capacity)
  const channels = (world.workload.graph?.edges ?? []).map(([x, y]) => ({ a: x, b: y, depositA: (cap / UNIT / 2n) * UNIT, depositB: cap - (cap / UNIT / 2n) * UNIT }))
  return {
    nodes: world.users.length,
    hub: undefined,
    channels,
    funding: `every channel ${s.topology.capacity} wei split in half, whatever the workload (no foresight)`,
    topology: `scale-free graph of ${world.users.length} nodes and ${channels.length} channels (m = ${s.topology.m}), multi-hop routing`,
  }
}

export class HtlcDesign implements Design {
  readonly name = 'htlc' as const
  private engine!: Design

  async setup(world: World): Promise<void> {
    const o = designOptions(world.scenario, 'htlc')
    const plan = await planChannels(world, o)
    const real = o.forwarding === 'real' || (o.forwarding === 'auto' && plan.channels.length <= o.maxRealChannels)
    if (real) {
      const { RealHtlc } = await import('./htlc-real.ts')
      this.engine = new RealHtlc(plan, o)
    } else {
      const { SimulatedHtlc } = await import('./htlc-sim.ts')
      this.engine = new SimulatedHtlc(plan, o)
      if (o.forwarding === 'auto')
        world.note(
          `Simulated forwarding: ${plan.channels.length} channels is more than maxRealChannels (${o.maxRealChannels}) to run node by node in the time budget (real nodes, measured in a separate run on the development machine at 1,000 nodes: 69 ms per channel to open, 29 ms to close, 0.38 MB per node — about an hour at this size; packages/bench/README.md, "The HTLC design"); the scenario's quick mode runs the same graph family with real nodes.`,
        )
    }
    await this.engine.setup(world)
  }

  /** Which engine ran ('real' or 'simulated'; undefined before setup). */
  get forwarding(): 'real' | 'simulated' | undefined {
    return (this.engine as { forwarding?: 'real' | 'simulated' } | undefined)?.forwarding
  }

  /** "simulated forwarding" when the simulator ran: every table and chart shows it with the name. */
  variant(): string | undefined {
    return this.forwarding === 'simulated' ? 'simulated forwarding' : undefined
  }

  /** The engine itself (tests reach the real nodes through it). */
  get inner(): Design {
    return this.engine
  }

  pay(p: Payment): Promise<PaymentResult> {
    return this.engine.pay(p)
  }

  flush(): Promise<void> {
    return this.engine.flush()
  }

  settle(): Promise<void> {
    return this.engine.settle()
  }

  lockedCapital(): bigint {
    return this.engine.lockedCapital()
  }

  heldFor(user: number): bigint {
    return this.engine.heldFor?.(user) ?? 0n
  }

  adjustments(): Map<number, bigint> {
    return this.engine.adjustments?.() ?? new Map()
  }

  extraCosts(): ExtraCost[] {
    return this.engine.extraCosts?.() ?? []
  }

  store(): StoreJson {
    return this.engine.store?.() ?? { kind: 'none', description: 'none' }
  }

  capacityInputs(): CapacityInputs {
    const i = this.engine.capacityInputs?.()
    if (i === undefined) throw new Error('the HTLC engine reports no capacity inputs')
    return i
  }

  /** The real engine's bound (the probe's one-pair hub network always runs real nodes, unless forwarding is forced to 'simulated'). */
  bound(): PaymentBound {
    const b = this.engine.bound?.()
    if (b === undefined) throw new Error("simulated forwarding has no signatures or commits to bound (designOptions.htlc.forwarding = 'simulated')")
    return b
  }
}
