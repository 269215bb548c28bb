/** Every design's parity script, in report order. */
import { channelParity, htlcParity } from './channel.ts'
import type { ParityScenario } from './index.ts'
import { paychParity } from './paych.ts'
import { ROLLUP_PARITY_CIRCUITS, rollupParity } from './rollup.ts'
import { virtualParity } from './virtual.ts'

/** What `npm test`'s gate runs: every design, the rollup on its smallest circuit (each batch is proven for real, per backend). */
export const PARITY_SCENARIOS: readonly ParityScenario[] = [
  channelParity,
  paychParity,
  htlcParity,
  virtualParity,
  rollupParity(ROLLUP_PARITY_CIRCUITS[0] as (typeof ROLLUP_PARITY_CIRCUITS)[number]),
]

/** The table's rows (`npm run parity`): the gate's, and the rollup on its other circuits too. */
export const PARITY_TABLE_SCENARIOS: readonly ParityScenario[] = [...PARITY_SCENARIOS, ...ROLLUP_PARITY_CIRCUITS.slice(1).map(rollupParity)]
