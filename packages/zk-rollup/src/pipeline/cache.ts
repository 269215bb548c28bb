/**
 * The artifact cache: where it lives, how entries are keyed, and how two
 * processes (say, this package's tests and the rollup's tests running side by
 * side) avoid computing the same 2^16 setup twice or reading a half-written file.
 *
 * Entries are published by renaming a finished temporary directory/file into
 * place, so a reader either sees a complete entry or none. Expensive work runs
 * under a per-entry lock directory (`mkdir` is atomic); a lock left behind by a
 * dead process is detected by its pid and taken over.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, existsSync } from 'node:fs'
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Root of packages/zk-rollup (two levels above this file, in src/ and in dist/ alike). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** Cache root: explicit argument, else $L2BENCH_CACHE_DIR, else packages/zk-rollup/.cache. */
export function resolveCacheDir(cacheDir?: string): string {
  if (cacheDir !== undefined && cacheDir !== '') return cacheDir
  const env = process.env.L2BENCH_CACHE_DIR
  if (env !== undefined && env !== '') return env
  return join(PACKAGE_ROOT, '.cache')
}

/** Hex sha256 of a list of labelled parts; labels and lengths are framed so parts cannot run into each other. */
export function keyHash(tag: string, parts: readonly (string | Uint8Array)[]): string {
  const h = createHash('sha256')
  const frame = (b: Uint8Array) => {
    const len = Buffer.alloc(8)
    len.writeBigUInt64BE(BigInt(b.length))
    h.update(len)
    h.update(b)
  }
  frame(Buffer.from(`l2bench/pipeline/${tag}`))
  for (const p of parts) frame(typeof p === 'string' ? Buffer.from(p) : p)
  return h.digest('hex')
}

/** Streaming hex sha256 of a file (ptau files reach hundreds of MB). */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256')
    createReadStream(path)
      .on('data', (chunk) => h.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')))
  })
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T
  } catch {
    return undefined
  }
}

/** Writes a file atomically (temp file in the same directory, then rename). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  await writeFile(tmp, data)
  await rename(tmp, path)
}

/** A fresh temporary path beside `path`, for building an entry before publishing it with `rename`. */
export function tempSibling(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
}

/** Replaces `dest` (file or directory) by `src` as atomically as the filesystem allows. */
export async function publish(src: string, dest: string): Promise<void> {
  if (existsSync(dest)) {
    const old = tempSibling(dest)
    await rename(dest, old)
    await rename(src, dest)
    await rm(old, { recursive: true, force: true })
  } else {
    await rename(src, dest)
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Runs `fn` holding the lock `<path>.lock`. Waits (polling) while another live
 * process holds it; breaks a lock whose owner process is gone.
 */
export async function withLock<T>(path: string, fn: () => Promise<T>, onWait?: () => void): Promise<T> {
  const lock = `${path}.lock`
  await mkdir(dirname(lock), { recursive: true })
  let waited = false
  for (;;) {
    try {
      await mkdir(lock)
      await writeFile(join(lock, 'pid'), String(process.pid))
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const pidText = await readFile(join(lock, 'pid'), 'utf8').catch(() => '')
      const pid = Number.parseInt(pidText, 10)
      if (pidText !== '' && Number.isFinite(pid) && !alive(pid)) {
        await rm(lock, { recursive: true, force: true })
        continue
      }
      if (pidText === '') {
        // The owner may be between mkdir and writing its pid; a lock that stays pid-less is stale.
        const s = await stat(lock).catch(() => undefined)
        if (s !== undefined && Date.now() - s.mtimeMs > 10_000) await rm(lock, { recursive: true, force: true })
      }
      if (!waited) {
        waited = true
        onWait?.()
      }
      await new Promise((r) => setTimeout(r, 250))
    }
  }
  try {
    return await fn()
  } finally {
    await rm(lock, { recursive: true, force: true })
  }
}
