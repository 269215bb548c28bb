/**
 * The design registry: name → adapter factory. Adapters load lazily, so a
 * design package that fails to load (mid-change, missing build artefact)
 * makes only that design "not run", with the error, instead of the harness.
 */
import type { Design } from '../design.ts'
import type { DesignName } from '../scenario.ts'

export type AsyncDesignFactory = () => Promise<Design>

export const DESIGN_FACTORIES: Partial<Record<DesignName, AsyncDesignFactory>> = {
  l1: async () => new (await import('./l1.ts')).L1Design(),
  channel: async () => new (await import('./channel.ts')).ChannelDesign(),
  paych: async () => new (await import('./paych.ts')).PaychDesign(),
  htlc: async () => new (await import('./htlc.ts')).HtlcDesign(),
  virtual: async () => new (await import('./virtual.ts')).VirtualDesign(),
  rollup: async () => new (await import('./rollup.ts')).RollupDesign(),
}

export const MISSING_REASONS: Partial<Record<DesignName, string>> = {}
