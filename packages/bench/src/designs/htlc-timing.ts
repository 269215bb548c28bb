/**
 * What the HTLC design times inside each real node for its capacity input:
 * its signing, verifying and store commits while payments run (a store, a
 * signer and a verifier that record each call's time into the node's
 * `NodeWork` while `on()`).
 */
import { type Signer, type Verifier, nodeVerifier } from '@l2bench/core'
import { SqliteNodeStore } from '@l2bench/htlc-router'
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
