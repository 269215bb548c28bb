/**
 * What the HTLC design times inside each real node for its capacity input:
 * its signing, verifying and store commits while payments run (a store, a
 * signer and a verifier that record each call's time into the node's
 * `NodeWork` while `on()`), and the hub capacity inputs read off it.
 */
import { type Signer, type Verifier, nodeVerifier } from '@l2bench/core'
import { SqliteNodeStore } from '@l2bench/htlc-router'
import type { CapacityInputs } from '../design.ts'
import { summarize } from '../stats.ts'

/** One node's own signing, verifying and commits while payments ran, each timed (ms; the capacity input). */
export interface NodeWork {
  sign: number[]
  verify: number[]
  /** Per save or flush that committed. */
  commit: number[]
  /** Payments it forwarded (an HTLC in and one out, settled). */
  forwards: number
}

export const newWork = (): NodeWork => ({ sign: [], verify: [], commit: [], forwards: 0 })
export const median = (xs: readonly number[]) => (xs.length === 0 ? 0 : summarize(xs).p50)

/** A node's store, its commits timed (only while `on()`). */
export class TimedNodeStore extends SqliteNodeStore {
  constructor(
    path: string,
    synchronous: 'FULL' | 'NORMAL',
    private readonly work: NodeWork,
    private readonly on: () => boolean,
  ) {
    super(path, { synchronous })
  }

  private timed(f: () => void): void {
    if (!this.on()) {
      f()
      return
    }
    const before = this.commits
    const t = performance.now()
    f()
    if (this.commits > before) this.work.commit.push(performance.now() - t)
  }

  override save(m: Parameters<SqliteNodeStore['save']>[0]): void {
    this.timed(() => super.save(m))
  }

  override flush(): void {
    this.timed(() => super.flush())
  }

  override saveMany(ms: Parameters<SqliteNodeStore['saveMany']>[0]): void {
    this.timed(() => super.saveMany(ms))
  }
}

/** `inner`, its signing timed into `w` while `on()`. */
export function timedSigner(inner: Signer, w: NodeWork, on: () => boolean): Signer {
  return {
    publicKey: inner.publicKey,
    address: inner.address,
    sign(digest) {
      if (!on()) return inner.sign(digest)
      const t = performance.now()
      const sig = inner.sign(digest)
      w.sign.push(performance.now() - t)
      return sig
    },
  }
}

/** node:crypto verification (what every node uses), timed into `w` while `on()`. */
export function timedVerifier(w: NodeWork, on: () => boolean): Verifier {
  return {
    name: nodeVerifier.name,
    verify(signature, digest, publicKey) {
      if (!on()) return nodeVerifier.verify(signature, digest, publicKey)
      const t = performance.now()
      const ok = nodeVerifier.verify(signature, digest, publicKey)
      w.verify.push(performance.now() - t)
      return ok
    },
  }
}

/**
 * Hubs: payments that succeeded ÷ payments forwarded by the busiest node.
 * Its forwarding rate: the payments it forwarded ÷ the time of its own
 * signing, verifying and commits while they ran — how many of each it did,
 * each at the median of its timings inside its signer, verifier and store
 * (medians: on a shared machine a sum of wall times also counts the
 * moments other processes held the CPU or the disk). `sqlite`: the stores'
 * synchronous mode, undefined for memory stores (no commits).
 */
export function hubCapacityInputs(work: readonly NodeWork[], succeeded: number, label: (node: number) => string, sqlite: string | undefined): CapacityInputs {
  let busiest = 0
  work.forEach((w, i) => {
    if (w.forwards > work[busiest]!.forwards) busiest = i
  })
  const w = work[busiest]
  if (w === undefined || w.forwards === 0) throw new Error('no payment was forwarded: no hub rate to measure')
  const [s, v, c] = [median(w.sign), median(w.verify), median(w.commit)]
  const ms = w.sign.length * s + w.verify.length * v + w.commit.length * c
  const fmt = (n: number) => n.toLocaleString('en-US')
  const who = label(busiest)
  return {
    model: 'hub',
    forwardRate: {
      value: Number(((w.forwards * 1000) / ms).toPrecision(4)),
      unit: 'payments/s',
      source: 'measured',
      how: `${fmt(w.forwards)} payments forwarded by ${who} ÷ ${(ms / 1000).toFixed(3)} s of its own signing (${fmt(w.sign.length)} × median ${s.toFixed(3)} ms, noble), verifying (${fmt(w.verify.length)} × ${v.toFixed(3)} ms, node:crypto) and ${sqlite === undefined ? 'no commits (memory store)' : `commits (${fmt(w.commit.length)} × ${c.toFixed(3)} ms, SQLite ${sqlite})`} during the payment phase, each timed inside its signer, verifier and store; its message encoding and bookkeeping are not counted`,
    },
    hubs: {
      value: succeeded / w.forwards,
      unit: 'hubs',
      source: 'parameter',
      how: `${fmt(succeeded)} payments that succeeded ÷ ${fmt(w.forwards)} forwarded by the busiest node (${who})`,
    },
  }
}
