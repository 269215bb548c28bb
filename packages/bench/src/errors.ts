/**
 * Typed errors of the harness. Every one derives from core's L2Error, so the
 * CLI can print `field: message` for any rejection and exit non-zero.
 */
import { L2Error, type L2ErrorOptions } from '@l2bench/core'

/** A scenario file is malformed; `field` is the dotted key path (e.g. `arrival.ratePerSecond`). */
export class ScenarioError extends L2Error {
  override name = 'ScenarioError'
  constructor(field: string, message: string, options: Omit<L2ErrorOptions, 'field'> & { file?: string; line?: number; excerpt?: string } = {}) {
    const where = options.file === undefined ? '' : ` (${options.file}${options.line === undefined ? '' : `:${options.line}`})`
    super('SCENARIO', `${message}${where}${options.excerpt === undefined ? '' : `\n${options.excerpt}`}`, { ...options, field })
  }
}

/** A command-line flag or argument is wrong. */
export class UsageError extends L2Error {
  override name = 'UsageError'
  constructor(field: string, message: string) {
    super('USAGE', message, { field })
  }
}

/** A results file could not be read back (wrong schema version, missing key). */
export class ResultsError extends L2Error {
  override name = 'ResultsError'
  constructor(field: string, message: string, options: Omit<L2ErrorOptions, 'field'> = {}) {
    super('RESULTS', message, { ...options, field })
  }
}

/** A design adapter broke an invariant the harness checks (e.g. funds not conserved). */
export class InvariantError extends L2Error {
  override name = 'InvariantError'
  constructor(field: string, message: string, options: Omit<L2ErrorOptions, 'field'> = {}) {
    super('INVARIANT', message, { ...options, field })
  }
}

/** Partial results of a sharded run that cannot be merged (another scenario, seed set, code version or gas schedule; a shard missing or twice). */
export class ShardError extends L2Error {
  override name = 'ShardError'
  constructor(field: string, message: string, options: Omit<L2ErrorOptions, 'field'> = {}) {
    super('SHARD', message, { ...options, field })
  }
}
