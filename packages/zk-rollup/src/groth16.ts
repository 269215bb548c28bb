/**
 * Groth16 proofs as the rollup contract receives them, and a synchronous
 * verifier for it.
 *
 * Wire format: 256 bytes = A.x A.y B.x[0] B.x[1] B.y[0] B.y[1] C.x C.y, each a
 * 32-byte big-endian coordinate below the base-field modulus q (the EVM
 * verifier's layout, with snarkjs's Fq2 order c0, c1).
 *
 * Why a worker: contracts on the L1 mock execute synchronously, while
 * snarkjs's verify is async. SyncGroth16Verifier runs snarkjs in a worker
 * thread and blocks the caller with Atomics.wait until it answers, so the
 * contract can call "the precompile" inline. The verification itself is
 * snarkjs's, unchanged.
 */
import type { Worker } from 'node:worker_threads'
import { bigintToBytes, bytesToBigint } from '@l2bench/core'
import { RollupError } from './errors.ts'
import type { Groth16Proof, VerificationKey } from './pipeline/index.ts'
import { SNARK_WORKER_DATA, startWorker } from './worker-start.ts'

/** BN254 base field modulus. */
export const BASE_FIELD_MODULUS = 21888242871839275222246405745257275088696311157297823662689037894645226208583n

export const PROOF_BYTES = 256

export function proofToBytes(proof: Groth16Proof): Uint8Array {
  const coords = [
    proof.pi_a[0],
    proof.pi_a[1],
    proof.pi_b[0]?.[0],
    proof.pi_b[0]?.[1],
    proof.pi_b[1]?.[0],
    proof.pi_b[1]?.[1],
    proof.pi_c[0],
    proof.pi_c[1],
  ]
  const out = new Uint8Array(PROOF_BYTES)
  coords.forEach((c, i) => {
    if (c === undefined) throw new RollupError('PROVER', `proof coordinate ${i} missing`, { field: 'proof' })
    out.set(bigintToBytes(`proof[${i}]`, BigInt(c), 32), 32 * i)
  })
  return out
}

/** Parses the wire format; throws MALFORMED_CALLDATA for a wrong length or a coordinate ≥ q. */
export function proofFromBytes(bytes: Uint8Array): Groth16Proof {
  if (!(bytes instanceof Uint8Array) || bytes.length !== PROOF_BYTES)
    throw new RollupError('MALFORMED_CALLDATA', `proof must be ${PROOF_BYTES} bytes`, { field: 'proof' })
  const c: string[] = []
  for (let i = 0; i < 8; i++) {
    const v = bytesToBigint(bytes.subarray(32 * i, 32 * i + 32))
    if (v >= BASE_FIELD_MODULUS) throw new RollupError('MALFORMED_CALLDATA', `proof coordinate ${i} is not below q`, { field: 'proof' })
    c.push(v.toString())
  }
  const [ax, ay, bx0, bx1, by0, by1, cx, cy] = c as [string, string, string, string, string, string, string, string]
  return {
    pi_a: [ax, ay, '1'],
    pi_b: [
      [bx0, bx1],
      [by0, by1],
      ['1', '0'],
    ],
    pi_c: [cx, cy, '1'],
    protocol: 'groth16',
    curve: 'bn128',
  }
}

/** What the rollup contract calls: a pure yes/no on (key, public signals, proof). */
export interface Groth16Verifier {
  verify(vkey: VerificationKey, publicSignals: readonly string[], proof: Groth16Proof): boolean
}

/**
 * snarkjs groth16.verify in a worker thread, waited for synchronously.
 * `await ready()` once before the first verify (the worker's module loading
 * needs the caller's event loop, which a blocked caller cannot give it);
 * `await close()` when done.
 */
export class SyncGroth16Verifier implements Groth16Verifier {
  private worker: Worker | undefined
  private readyPromise: Promise<void> | undefined
  private isReady = false
  private readonly timeoutMs: number
  /** Verifications run (for tests and reports). */
  calls = 0

  constructor(options: { timeoutMs?: number } = {}) {
    this.timeoutMs = options.timeoutMs ?? 120_000
  }

  /** Starts the worker and waits until snarkjs and the curve are loaded in it. */
  ready(): Promise<void> {
    this.readyPromise ??= new Promise<void>((resolve, reject) => {
      const w = startWorker(new URL('./groth16-worker.ts', import.meta.url), import.meta.url, { workerData: SNARK_WORKER_DATA })
      this.worker = w
      w.once('error', reject)
      w.once('message', (m: { type?: string }) => {
        if (m?.type !== 'ready') return reject(new RollupError('PROVER', 'verifier worker did not start'))
        this.isReady = true
        // The worker must not keep the process alive on its own; close() ends it cleanly.
        w.unref()
        resolve()
      })
    })
    return this.readyPromise
  }

  verify(vkey: VerificationKey, publicSignals: readonly string[], proof: Groth16Proof): boolean {
    const worker = this.worker
    if (!this.isReady || worker === undefined) throw new RollupError('PROVER', 'SyncGroth16Verifier: await ready() before verify()')
    const shared = new SharedArrayBuffer(8)
    const flag = new Int32Array(shared)
    worker.postMessage({ type: 'verify', vkey, publicSignals: [...publicSignals], proof, shared })
    const r = Atomics.wait(flag, 0, 0, this.timeoutMs)
    if (r === 'timed-out') throw new RollupError('PROVER', `groth16 verification timed out after ${this.timeoutMs} ms`)
    this.calls++
    return Atomics.load(flag, 1) === 1
  }

  async close(): Promise<void> {
    if (this.readyPromise !== undefined) await this.readyPromise.catch(() => undefined)
    const w = this.worker
    this.worker = undefined
    this.isReady = false
    this.readyPromise = undefined
    if (w === undefined) return
    await new Promise<void>((resolve) => {
      w.once('exit', () => resolve())
      w.ref() // keep the process alive until the worker has exited
      w.postMessage({ type: 'close' })
    })
  }
}
