/** Every design's parity script, in report order. */
import type { ParityScenario } from './index.ts'
import { channelParity, htlcParity } from './channel.ts'
import { paychParity } from './paych.ts'
import { virtualParity } from './virtual.ts'

export const PARITY_SCENARIOS: readonly ParityScenario[] = [channelParity, paychParity, htlcParity, virtualParity]
