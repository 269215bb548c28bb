/**
 * The Redis connection of a farm participant, bounded in time both ways:
 * starting fails within `connectTimeoutMs` when Redis cannot be reached
 * (REDIS_UNREACHABLE), and a Redis that goes away mid-run is retried for
 * `giveUpMs`, then given up (REDIS_LOST): commands waiting on it fail instead
 * of waiting forever, and `lost` settles so the owner can fail its work.
 *
 * BullMQ needs `maxRetriesPerRequest: null` on its connections; the retry
 * strategy here is what bounds the wait instead.
 */
import { InvalidInputError } from '@l2bench/core'
import { Redis } from 'ioredis'
import { ProverFarmError } from './errors.ts'

export interface RedisLinkOptions {
  /** Fail to start after this long without a connection (default 5,000 ms). */
  connectTimeoutMs?: number
  /** Give up on a Redis that went away after this long (default 20,000 ms). */
  giveUpMs?: number
  /** Shown in CLIENT LIST. */
  name?: string
}

export interface RedisLink {
  client: Redis
  /** The URL without its password. */
  label: string
  /** Settles (never rejects) with the error once the connection is given up for good. */
  lost: Promise<ProverFarmError>
  /** The last connection error seen, if any. */
  lastError(): string | undefined
  close(): Promise<void>
}

/** The URL with any password replaced by `***`. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '***'
    return u.toString()
  } catch {
    return '(unparsable URL)'
  }
}

export function checkRedisUrl(url: unknown, field = 'redis'): string {
  if (typeof url !== 'string' || url === '') throw new InvalidInputError(field, 'expected a Redis URL such as redis://127.0.0.1:6379')
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new InvalidInputError(field, `not a URL: ${JSON.stringify(url)} (expected e.g. redis://127.0.0.1:6379)`)
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new InvalidInputError(field, `expected a redis:// or rediss:// URL, got ${u.protocol}//`)
  if (u.hostname === '') throw new InvalidInputError(field, 'the URL names no host')
  return url
}

/** Connects, or throws REDIS_UNREACHABLE naming the URL and the socket error. */
export async function connectRedis(url: string, options: RedisLinkOptions = {}): Promise<RedisLink> {
  checkRedisUrl(url)
  const label = redactRedisUrl(url)
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000
  const giveUpMs = options.giveUpMs ?? 20_000
  let last: string | undefined
  let downSince: number | undefined
  let ended = false
  let signalLost: (e: ProverFarmError) => void = () => {}
  const lost = new Promise<ProverFarmError>((resolve) => {
    signalLost = resolve
  })
  const client = new Redis(url, {
    maxRetriesPerRequest: null,
    connectTimeout: Math.min(connectTimeoutMs, 10_000),
    ...(options.name !== undefined ? { connectionName: options.name } : {}),
    retryStrategy: () => {
      downSince ??= Date.now()
      if (Date.now() - downSince >= giveUpMs) return null
      return 250
    },
  })
  client.on('error', (err: Error) => {
    last = err.message
    downSince ??= Date.now()
  })
  client.on('ready', () => {
    downSince = undefined
  })
  client.on('end', () => {
    if (ended) return
    ended = true
    signalLost(
      new ProverFarmError('REDIS_LOST', `Redis at ${label} went away and did not come back within ${giveUpMs} ms${last === undefined ? '' : ` (${last})`}`, {
        field: 'redis',
      }),
    )
  })
  const link: RedisLink = {
    client,
    label,
    lost,
    lastError: () => last,
    close: async () => {
      ended = true
      if (client.status === 'end') return
      await client.quit().catch(() => client.disconnect())
    },
  }
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), connectTimeoutMs)
    const done = (ok: boolean) => {
      clearTimeout(timer)
      resolve(ok)
    }
    client.once('ready', () => done(true))
    client.once('end', () => done(false))
  })
  if (!ready) {
    ended = true
    client.disconnect()
    throw new ProverFarmError('REDIS_UNREACHABLE', `cannot reach Redis at ${label} within ${connectTimeoutMs} ms${last === undefined ? '' : `: ${last}`}`, {
      field: 'redis',
    })
  }
  return link
}

/** Waits for `p`, but at most `ms` (for clean-ups on a connection that may be dead). */
export function within(ms: number, p: Promise<unknown>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([p.then(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer))
}
