/**
 * One typed error base for the whole project.
 *
 * Every rejection carries a stable `code` (for programs), the offending `field`
 * (for people) and an optional `cause`. Subclasses only narrow `name`, so a
 * caller can branch on `instanceof` or on `code`, whichever reads better.
 */

export interface L2ErrorOptions {
  /** The input field (dotted path) that was rejected, when there is one. */
  field?: string | undefined
  /** The error that led to this one. */
  cause?: unknown
  /** Structured details for logs and reports. */
  details?: Record<string, unknown> | undefined
}

export class L2Error extends Error {
  override name = 'L2Error'
  readonly code: string
  readonly field: string | undefined
  readonly details: Record<string, unknown> | undefined

  constructor(code: string, message: string, options: L2ErrorOptions = {}) {
    super(options.field === undefined ? message : `${options.field}: ${message}`, {
      cause: options.cause,
    })
    this.code = code
    this.field = options.field
    this.details = options.details
  }
}

/** A value handed to a public function is of the wrong type, size or range. */
export class InvalidInputError extends L2Error {
  override name = 'InvalidInputError'
  constructor(field: string, message: string, options: Omit<L2ErrorOptions, 'field'> = {}) {
    super('INVALID_INPUT', message, { ...options, field })
  }
}

/** Bytes on the wire could not be decoded into a message. */
export class DecodeError extends L2Error {
  override name = 'DecodeError'
  constructor(field: string, message: string, options: Omit<L2ErrorOptions, 'field'> = {}) {
    super('DECODE', message, { ...options, field })
  }
}

/** Arithmetic on amounts would go negative or past the declared bound. */
export class AmountError extends L2Error {
  override name = 'AmountError'
  constructor(field: string, message: string, options: Omit<L2ErrorOptions, 'field'> = {}) {
    super('AMOUNT', message, { ...options, field })
  }
}

/** A signature failed verification or was malformed. */
export class SignatureError extends L2Error {
  override name = 'SignatureError'
  constructor(field: string, message: string, options: Omit<L2ErrorOptions, 'field'> = {}) {
    super('SIGNATURE', message, { ...options, field })
  }
}

/** Short description of a value for error messages (never huge, never throws). */
export function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (value === null) return 'null'
  if (Array.isArray(value)) return `Array(${value.length})`
  if (typeof value === 'object') return 'object'
  return `${typeof value} ${String(value)}`
}
