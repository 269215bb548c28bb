/** Every design's parity script, in report order. */
import type { ParityScenario } from './index.ts'
import { paychParity } from './paych.ts'

export const PARITY_SCENARIOS: readonly ParityScenario[] = [paychParity]
