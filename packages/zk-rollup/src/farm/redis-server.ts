/**
 * A throwaway Redis for tests and measurements: Debian's `redis-server`
 * binary on a free port of 127.0.0.1, nothing persisted, stopped with the
 * returned handle (or SIGKILLed, to make Redis "go away" under a run).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'
import { ProverFarmError } from './errors.ts'

export interface LocalRedis {
  url: string
  port: number
  process: ChildProcess
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>
  /** SIGKILL at once (Redis "goes away"). */
  kill(): Promise<void>
}

/** A free TCP port on 127.0.0.1 (bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

export async function startRedisServer(options: { binary?: string; port?: number; timeoutMs?: number } = {}): Promise<LocalRedis> {
  const binary = options.binary ?? (existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server')
  const port = options.port ?? (await freePort())
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (b: Buffer) => {
    output = (output + b.toString()).slice(-4000)
  })
  child.stderr?.on('data', (b: Buffer) => {
    output = (output + b.toString()).slice(-4000)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve))
  const url = `redis://127.0.0.1:${port}`
  const deadline = Date.now() + (options.timeoutMs ?? 10_000)
  for (;;) {
    const failed = await Promise.race([spawnError, exited.then(() => new Error(`exited: ${output.trim()}`)), new Promise<undefined>((r) => setTimeout(() => r(undefined), 100))])
    if (failed !== undefined)
      throw new ProverFarmError('REDIS_UNREACHABLE', `could not start ${binary} on port ${port}: ${failed.message} (Debian: apt-get install -y redis-server)`, { field: 'redis' })
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
    probe.on('error', () => {})
    const ok = await probe
      .connect()
      .then(() => probe.ping())
      .then(() => true)
      .catch(() => false)
    probe.disconnect()
    if (ok) break
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new ProverFarmError('REDIS_UNREACHABLE', `${binary} on port ${port} did not answer within ${options.timeoutMs ?? 10_000} ms: ${output.trim()}`, { field: 'redis' })
    }
  }
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill(signal)
    await exited
  }
  return { url, port, process: child, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') }
}
