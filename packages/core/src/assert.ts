/**
 * Tiny boundary asserts (in the style of noble's `abytes`/`anumber`): each names
 * the field it checks and throws InvalidInputError with the offending value.
 */
import { InvalidInputError, describe } from './errors.ts'

export function assertBytes(field: string, value: unknown, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new InvalidInputError(field, `expected Uint8Array, got ${describe(value)}`)
  if (length !== undefined && value.length !== length)
    throw new InvalidInputError(field, `expected ${length} bytes, got ${value.length}`)
}

export function assertInt(field: string, value: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new InvalidInputError(field, `expected an integer, got ${describe(value)}`)
  if (value < min || value > max) throw new InvalidInputError(field, `expected ${min}..${max}, got ${value}`)
}

export function assertBigint(field: string, value: unknown, min = 0n, max?: bigint): asserts value is bigint {
  if (typeof value !== 'bigint') throw new InvalidInputError(field, `expected bigint, got ${describe(value)}`)
  if (value < min) throw new InvalidInputError(field, `must be ≥ ${min}, got ${value}`)
  if (max !== undefined && value > max) throw new InvalidInputError(field, `must be ≤ ${max}, got ${value}`)
}

export function assertString(field: string, value: unknown, maxLength = 1 << 16): asserts value is string {
  if (typeof value !== 'string') throw new InvalidInputError(field, `expected string, got ${describe(value)}`)
  if (value.length > maxLength) throw new InvalidInputError(field, `longer than ${maxLength} characters`)
}

export function assertOneOf<T extends string>(field: string, value: unknown, options: readonly T[]): asserts value is T {
  if (typeof value !== 'string' || !(options as readonly string[]).includes(value))
    throw new InvalidInputError(field, `expected one of ${options.join(', ')}, got ${describe(value)}`)
}
