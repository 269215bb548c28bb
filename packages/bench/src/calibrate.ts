/**
 * In-run calibration: how fast this machine signs, verifies and hashes,
 * measured once just before the designs run and printed in the report's
 * header as context. Measured at a different moment from the designs, these
 * rates do not divide anything the gate compares: the gate's ratios come from
 * the interleaved probe (probe.ts), each design against its own bound.
 */
import { NobleSigner, NodeSigner, monotonicMs, nobleVerifier, nodeVerifier, secretKeyFromSeed, sha256 } from '@l2bench/core'

export interface Calibration {
  /** (sign + verify) pairs per second as the harness's users do it: noble signs (deterministic), node:crypto verifies. */
  signVerifyPerSecond: number
  /** Both with node:crypto. */
  nodeSignVerifyPerSecond: number
  /** The same with @noble/secp256k1. */
  nobleSignVerifyPerSecond: number
  sha256PerSecond: number
}

function rate(budgetMs: number, fn: (i: number) => void): number {
  // Warm up, then count iterations in a fixed time box.
  for (let i = 0; i < 20; i++) fn(i)
  const t0 = monotonicMs()
  let n = 0
  while (monotonicMs() - t0 < budgetMs) {
    for (let k = 0; k < 10; k++) fn(n++)
  }
  return (n * 1000) / (monotonicMs() - t0)
}

export function calibrate(budgetMs = 300): Calibration {
  const sk = secretKeyFromSeed('l2bench/calibration')
  const digest = sha256(new TextEncoder().encode('l2bench calibration'))
  const node = new NodeSigner(sk)
  const noble = new NobleSigner(sk)
  const signVerifyPerSecond = rate(budgetMs, () => {
    const sig = noble.sign(digest)
    if (!nodeVerifier.verify(sig, digest, noble.publicKey)) throw new Error('calibration: verify failed')
  })
  const nodeSignVerifyPerSecond = rate(budgetMs, () => {
    const sig = node.sign(digest)
    if (!nodeVerifier.verify(sig, digest, node.publicKey)) throw new Error('calibration: node verify failed')
  })
  const nobleSignVerifyPerSecond = rate(budgetMs, () => {
    const sig = noble.sign(digest)
    if (!nobleVerifier.verify(sig, digest, noble.publicKey)) throw new Error('calibration: noble verify failed')
  })
  const buf = new Uint8Array(64)
  const sha256PerSecond = rate(budgetMs / 3, (i) => {
    buf[0] = i & 0xff
    sha256(buf)
  })
  return { signVerifyPerSecond, nodeSignVerifyPerSecond, nobleSignVerifyPerSecond, sha256PerSecond }
}
