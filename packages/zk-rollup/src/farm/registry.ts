/**
 * What the farm's participants tell each other through Redis, besides the job
 * queues: each run announces the circuit it needs (`need:<id>`), each worker
 * what it serves and what it refused and why (`worker:<name>`). Entries carry
 * a TTL and are refreshed while their owner lives, so a dead run or worker
 * drops out by itself. Everything read back is untrusted: malformed entries
 * are skipped, ids are checked before they name a directory.
 *
 * Jobs for circuit <id> go to the BullMQ queue `prove-<id>` under the prefix
 * `l2bench:<farm>`: a worker only ever sees jobs of circuits it serves.
 */
import { InvalidInputError } from '@l2bench/core'
import type { Redis } from 'ioredis'
import { type FarmCircuitMeta, checkCircuitId } from './circuit.ts'

export const DEFAULT_FARM = 'default'

export function checkFarmName(farm: unknown, field = 'farm'): string {
  if (typeof farm !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(farm))
    throw new InvalidInputError(field, `expected 1-64 letters, digits, '_', '.' or '-', got ${JSON.stringify(farm)}`)
  return farm
}

/** BullMQ prefix of a farm's queues. */
export function farmPrefix(farm: string): string {
  return `l2bench:${checkFarmName(farm)}`
}

export function proveQueueName(circuitId: string): string {
  return `prove-${checkCircuitId(circuitId)}`
}

export interface NeedEntry {
  circuit: FarmCircuitMeta
  /** Who needs it: "host pid". */
  by: string
  at: number
}

export interface WorkerEntry {
  name: string
  host: string
  pid: number
  /** Circuit ids this worker proves for. */
  serves: string[]
  /** Circuits it was asked for and cannot serve, with the reason. */
  refused: { id: string; reason: string }[]
  /** Set when the worker was started for one circuit only. */
  pinned?: string
  at: number
}

const needKey = (farm: string, id: string) => `${farmPrefix(farm)}:need:${id}`
const workerKey = (farm: string, name: string) => `${farmPrefix(farm)}:worker:${name}`

export async function announceNeed(redis: Redis, farm: string, entry: NeedEntry, ttlMs: number): Promise<void> {
  await redis.set(needKey(farm, entry.circuit.id), JSON.stringify(entry), 'PX', ttlMs)
}

export async function withdrawNeed(redis: Redis, farm: string, id: string): Promise<void> {
  await redis.del(needKey(farm, id))
}

export async function announceWorker(redis: Redis, farm: string, entry: WorkerEntry, ttlMs: number): Promise<void> {
  await redis.set(workerKey(farm, entry.name), JSON.stringify(entry), 'PX', ttlMs)
}

export async function withdrawWorker(redis: Redis, farm: string, name: string): Promise<void> {
  await redis.del(workerKey(farm, name))
}

async function scanValues(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 200)
    cursor = next
    keys.push(...batch)
  } while (cursor !== '0' && keys.length < 10_000)
  if (keys.length === 0) return []
  return (await redis.mget(...keys)).filter((v): v is string => typeof v === 'string')
}

function parse<T>(raw: string, ok: (v: T) => boolean): T | undefined {
  try {
    const v = JSON.parse(raw) as T
    return typeof v === 'object' && v !== null && ok(v) ? v : undefined
  } catch {
    return undefined
  }
}

const isId = (v: unknown) => typeof v === 'string' && /^[0-9a-f]{32}$/.test(v)

export async function listNeeds(redis: Redis, farm: string): Promise<NeedEntry[]> {
  return (await scanValues(redis, `${farmPrefix(farm)}:need:*`))
    .map((raw) => parse<NeedEntry>(raw, (v) => isId(v.circuit?.id) && typeof v.circuit?.name === 'string' && typeof v.by === 'string'))
    .filter((v): v is NeedEntry => v !== undefined)
}

export async function listWorkers(redis: Redis, farm: string): Promise<WorkerEntry[]> {
  return (await scanValues(redis, `${farmPrefix(farm)}:worker:*`))
    .map((raw) => parse<WorkerEntry>(raw, (v) => typeof v.name === 'string' && Array.isArray(v.serves) && Array.isArray(v.refused)))
    .filter((v): v is WorkerEntry => v !== undefined)
}
