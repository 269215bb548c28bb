/**
 * Building blocks of a design's PaymentBound (design.ts): the primitives a
 * payment cannot do without, run with the same implementations the designs
 * use — @noble/secp256k1 signing (the harness's users sign with it,
 * deterministically) and node:crypto verification, and one SQLite commit in
 * the design's own store directory with its own `synchronous` mode (FULL
 * fsyncs the WAL on every commit).
 */
import { statSync, readFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { NobleSigner, nodeVerifier, secretKeyFromSeed, sha256 } from '@l2bench/core'
import type { PaymentBound } from './design.ts'
import { monotonicMs } from '@l2bench/core'

/** One noble sign + one node:crypto verify of a fresh digest per call. */
export function signVerify(label = 'bound'): () => void {
  const signer = new NobleSigner(secretKeyFromSeed(`l2bench/${label}`))
  let digest = sha256(new TextEncoder().encode(label))
  return () => {
    const sig = signer.sign(digest)
    if (!nodeVerifier.verify(sig, digest, signer.publicKey)) throw new Error('bound: verify failed')
    digest = sha256(sig)
  }
}

/** The part of better-sqlite3's Database the commit primitive needs (the stores expose theirs as `db`). */
export interface SqliteLike {
  exec(sql: string): unknown
  prepare(sql: string): { run(...args: unknown[]): unknown }
}

/**
 * One autocommitted UPSERT of a 600-byte row whose content changes every call
 * (SQLite skips the WAL write, and the fsync, for an unchanged page), on a
 * database opened by the design's own store class: one WAL commit, fsynced
 * under synchronous=FULL.
 */
export function sqliteCommit(db: SqliteLike): () => void {
  db.exec('CREATE TABLE IF NOT EXISTS l2bench_bound (id INTEGER PRIMARY KEY, body BLOB NOT NULL)')
  const stmt = db.prepare('INSERT INTO l2bench_bound (id, body) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body')
  const blob = Buffer.alloc(600, 7)
  let i = 0
  return () => {
    blob.writeUInt32BE(i++ >>> 0, 0)
    stmt.run(blob)
  }
}

/** A bound made of parts, each run `times` per payment. */
export function composeBound(what: string, parts: { run: () => void; times: number }[], close?: () => void): PaymentBound {
  return {
    what,
    run() {
      for (const p of parts) for (let i = 0; i < p.times; i++) p.run()
    },
    ...(close === undefined ? {} : { close }),
  }
}

/** Mean seconds of `fn` over a time box of `ms` (at least `min` calls), after a short warm-up. */
export function secondsPerCall(fn: () => void, ms = 60, min = 3): number {
  for (let i = 0; i < 2; i++) fn()
  const t0 = monotonicMs()
  let n = 0
  while (n < min || monotonicMs() - t0 < ms) {
    fn()
    n++
  }
  return (monotonicMs() - t0) / 1000 / n
}

/** Filesystem type and device of the mount holding `path` (from /proc/mounts; undefined where there is none). */
export function filesystemOf(path: string): string | undefined {
  let mounts: string
  try {
    mounts = readFileSync('/proc/mounts', 'utf8')
  } catch {
    return undefined
  }
  let dir = path
  try {
    if (!statSync(dir).isDirectory()) dir = dirname(dir)
  } catch {
    return undefined
  }
  let best: { at: string; type: string; dev: string } | undefined
  for (const line of mounts.split('\n')) {
    const [dev, at, type] = line.split(' ')
    if (dev === undefined || at === undefined || type === undefined) continue
    const mount = at.replace(/\\040/g, ' ')
    if ((dir === mount || dir.startsWith(mount === '/' ? '/' : `${mount}/`)) && (best === undefined || mount.length > best.at.length)) best = { at: mount, type, dev }
  }
  return best === undefined ? undefined : `${best.type} on ${best.dev}${best.type === 'tmpfs' || best.type === 'ramfs' ? ' (memory: fsync does not reach a disk)' : ''}`
}
