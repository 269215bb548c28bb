/**
 * The design registry: name → adapter factory. A design whose package does
 * not yet expose a usable API has no entry; the harness reports it as "not
 * run" with the reason instead of failing the whole run.
 */
import type { DesignFactory } from '../design.ts'
import type { DesignName } from '../scenario.ts'
import { ChannelDesign } from './channel.ts'
import { HtlcDesign } from './htlc.ts'
import { L1Design } from './l1.ts'
import { PaychDesign } from './paych.ts'

export const DESIGN_FACTORIES: Partial<Record<DesignName, DesignFactory>> = {
  l1: () => new L1Design(),
  channel: () => new ChannelDesign(),
  paych: () => new PaychDesign(),
  htlc: () => new HtlcDesign(),
}

export const MISSING_REASONS: Partial<Record<DesignName, string>> = {
  rollup: 'adapter pending: @l2bench/zk-rollup has no usable API yet',
}
