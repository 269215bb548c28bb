/**
 * The prover farm against a real Redis (Debian's redis-server on a free port,
 * started here) and real worker processes proving real Groth16 proofs of
 * Batch(N=1, D=1, depth 4, packed):
 *  - two workers, the one holding the job SIGKILLed mid-proof: BullMQ's
 *    stalled-job check hands the job to the other, the batch is proven once
 *    and submitted once;
 *  - a worker built for another circuit refuses it, and the run fails with
 *    NO_WORKER naming why (no hang);
 *  - a proof that does not verify against the run's key is never returned;
 *  - a job past its timeout is retried, then fails with JOB_TIMEOUT, and the
 *    worker keeps serving;
 *  - a witness the circuit refuses comes back as the node's circuit rejection,
 *    not retried;
 *  - Redis killed mid-job: the run fails with REDIS_LOST and the worker exits
 *    with it, within the give-up window.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import { MockL1, Wallet } from '@l2bench/l1-mock'
import {
  AccountTree,
  type BuiltCircuit,
  type CircuitParams,
  L2Key,
  RollupContract,
  RollupNode,
  SyncGroth16Verifier,
  TxArchive,
  buildBatch,
  buildRollupCircuit,
  depositCall,
  isCircuitRejection,
  signOp,
} from '../src/index.ts'
import {
  type FarmCircuit,
  type LocalRedis,
  ProverFarmError,
  QueueProver,
  type QueueProverOptions,
  farmCircuitOf,
  fetchCircuit,
  publishCircuit,
  startRedisServer,
} from '../src/farm/index.ts'

const params: CircuitParams = { n: 1, d: 1, depth: 4, mode: 'packed' }
const domain = { chainId: 31337n, contract: '0x1111111111111111111111111111111111111111' as const }
const tmp = mkdtempSync(join(tmpdir(), 'l2bench-farm-'))
const cache = join(tmp, 'circuits')
const LOCK_MS = 2_500
let redis: LocalRedis
let built: BuiltCircuit
let circuit: FarmCircuit
const children = new Set<ChildProcess>()
let farmSeq = 0

interface WorkerProc {
  child: ChildProcess
  out: string[]
  err: string[]
  exited: Promise<number | null>
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>
}

function startWorker(o: { farm: string; name: string; pin?: string; redis?: string; idleMs?: number }): WorkerProc {
  const args = ['--conditions=@l2bench/source', '--import', 'tsx', join(import.meta.dirname, 'farm-worker-main.ts')]
  const opts = JSON.stringify({
    redis: o.redis ?? redis.url,
    farm: o.farm,
    cache,
    lockMs: LOCK_MS,
    name: o.name,
    ...(o.pin !== undefined ? { pin: o.pin } : {}),
    ...(o.idleMs !== undefined ? { idleMs: o.idleMs } : {}),
  })
  const child = spawn(process.execPath, [...args, opts], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  const out: string[] = []
  const err: string[] = []
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = []
  const feed = (sink: string[]) => (b: Buffer) => {
    for (const line of b.toString().split('\n').filter((l) => l !== '')) {
      sink.push(line)
      for (const w of [...waiters]) if (w.re.test(line)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(line)
      }
    }
  }
  child.stdout?.on('data', feed(out))
  child.stderr?.on('data', feed(err))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    children.delete(child)
    resolve(code)
  }))
  return {
    child,
    out,
    err,
    exited,
    waitFor(re, timeoutMs = 120_000) {
      const seen = [...out, ...err].find((l) => re.test(l))
      if (seen !== undefined) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`worker ${o.name}: no line matching ${re} within ${timeoutMs} ms:\n${[...out, ...err].join('\n')}`)), timeoutMs)
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(t)
            resolve(l)
          },
        })
      })
    },
  }
}

function prover(c: FarmCircuit, farm: string, extra: Partial<QueueProverOptions> = {}): QueueProver {
  return new QueueProver({ redis: redis.url, farm, circuit: c, vkeyPath: join(cache, c.id, 'verification_key.json'), circuitCache: cache, lockMs: LOCK_MS, giveUpMs: 2_000, ...extra })
}

/** A deposit-only batch input on a fresh tree (a valid input the circuit accepts). */
function depositInput(seed: string) {
  return buildBatch(new AccountTree(params.depth), params, domain, [{ publicKey: L2Key.fromSeed(seed).publicKey, amount: 5n }], [])
}

/** A copy of the circuit with another verification key: IC[0] replaced by IC[1] (a valid key that the proofs do not satisfy). */
async function otherKeyCircuit(): Promise<FarmCircuit> {
  const dir = join(tmp, 'other-key')
  cpSync(join(cache, circuit.id), dir, { recursive: true })
  const vkeyPath = join(dir, 'verification_key.json')
  const vkey = JSON.parse(readFileSync(vkeyPath, 'utf8')) as { IC: unknown[] }
  vkey.IC[0] = vkey.IC[1]
  writeFileSync(vkeyPath, JSON.stringify(vkey))
  const c = await farmCircuitOf({ compiled: { wasm: join(dir, 'circuit.wasm') } as never, setup: { zkey: join(dir, 'circuit.zkey'), vkeyPath, vkey } as never }, params)
  await publishCircuit(cache, c, vkeyPath)
  return fetchCircuit(cache, c.id)
}

before(async () => {
  redis = await startRedisServer()
  built = await buildRollupCircuit(params)
  const local = await farmCircuitOf(built, params)
  await publishCircuit(cache, local, built.setup.vkeyPath)
  circuit = await fetchCircuit(cache, local.id)
})

after(async () => {
  for (const c of children) c.kill('SIGKILL')
  await redis?.stop()
  rmSync(tmp, { recursive: true, force: true })
})

describe('prover farm on BullMQ (real Redis, worker processes, real proofs)', () => {
  it('a worker SIGKILLed mid-proof: the other takes the job over, the batch is proven once and submitted once', async () => {
    const farm = `kill${++farmSeq}`
    const a = startWorker({ farm, name: 'worker-a' })
    const b = startWorker({ farm, name: 'worker-b' })
    const mock = new MockL1()
    const archive = new TxArchive(mock)
    const verifier = new SyncGroth16Verifier()
    await verifier.ready()
    const contract = mock.deploy(new RollupContract({ params, vkey: built.setup.vkey, verifier, minDeposit: 1n }))
    const operator = new Wallet(new NodeSigner(secretKeyFromSeed('farm-operator')), archive.l1)
    const alice = new Wallet(new NodeSigner(secretKeyFromSeed('farm-alice')), archive.l1)
    for (const w of [operator, alice]) mock.mint(w.address, 10n ** 21n)
    const p = prover(circuit, farm)
    const node = new RollupNode({ l1: archive.l1, contract, wallet: operator, prover: p })
    try {
      const A = L2Key.fromSeed('farm-a')
      const B = L2Key.fromSeed('farm-b')
      await alice.callOk(contract, depositCall(A.publicKey), { value: 1000n })
      await alice.callOk(contract, depositCall(B.publicKey), { value: 10n })
      await node.flush() // two deposit batches
      assert.equal(node.reports.length, 2)
      node.submit(signOp(A, node.domain, params.depth, { kind: 'transfer', from: 0, to: 1, amount: 300n, nonce: 0n }))
      const running = node.runBatch()
      // Whoever took the job dies mid-proof.
      const started = await Promise.race([a.waitFor(/job \S+ batch 3 .*: prove/).then(() => a), b.waitFor(/job \S+ batch 3 .*: prove/).then(() => b)])
      const survivor = started === a ? b : a
      started.child.kill('SIGKILL')
      assert.equal(await started.exited, null)
      const report = await running
      assert.ok(report !== undefined)
      assert.equal(report.batch, 2n)
      await survivor.waitFor(/batch 3 .*taken over after 1 stall/)
      assert.equal(p.stats.stalled, 1, 'the engine took the job back once')
      const last = p.jobs.at(-1)
      assert.deepEqual(
        { worker: last?.worker, stalled: last?.stalled, started: last?.attemptsStarted },
        { worker: survivor === a ? 'worker-a' : 'worker-b', stalled: 1, started: 2 },
        'batch 3: started twice, taken over once, finished by the survivor',
      )
      assert.equal(p.stats.proofs, 3)
      // Submitted once: one BatchVerified per batch, the contract at batch 3 with the node's root.
      const verified = mock.events({ address: contract.address }).filter((e) => e.name === 'BatchVerified')
      assert.deepEqual(verified.map((e) => Number(e.data.batch as bigint)), [0, 1, 2])
      assert.equal(await mock.read<number>(contract.address, 'batches', []), 3)
      assert.equal(await mock.read<bigint>(contract.address, 'root', []), node.sequencer.tree.root)
    } finally {
      await p.close()
      await verifier.close()
      for (const w of [a, b]) w.child.kill('SIGTERM')
    }
  })

  it('a worker built for another circuit refuses it: the run fails with NO_WORKER naming why, the worker says so', async () => {
    const farm = `pinned${++farmSeq}`
    const other = await otherKeyCircuit()
    const w = startWorker({ farm, name: 'pinned-worker', pin: circuit.id })
    await w.waitFor(/serving circuit/)
    const p = prover(other, farm, { workerWaitMs: 3_000 })
    const t0 = Date.now()
    try {
      await assert.rejects(p.prove(depositInput('pin').input), (err: unknown) => {
        assert.ok(err instanceof ProverFarmError, String(err))
        assert.equal(err.code, 'NO_WORKER')
        assert.match(err.message, new RegExp(`pinned-worker: refuses it \\(built for circuit ${circuit.id}`))
        return true
      })
      assert.ok(Date.now() - t0 < 30_000, 'fails within the wait, not a hang')
      await w.waitFor(new RegExp(`error: refusing circuit ${other.id}: built for circuit ${circuit.id}`))
    } finally {
      await p.close()
      w.child.kill('SIGTERM')
    }
  })

  it('a proof that does not verify against the run\'s key is not returned (BAD_PROOF naming the worker)', async () => {
    const farm = `badkey${++farmSeq}`
    const other = await otherKeyCircuit()
    const w = startWorker({ farm, name: 'wrong-key-worker' })
    const p = prover(other, farm)
    try {
      await assert.rejects(p.prove(depositInput('bad').input), (err: unknown) => {
        assert.ok(err instanceof ProverFarmError, String(err))
        assert.equal(err.code, 'BAD_PROOF')
        assert.match(err.message, /from worker wrong-key-worker does not verify against the circuit's verification key: not submitted/)
        return true
      })
      assert.equal(p.stats.proofs, 0)
    } finally {
      await p.close()
      w.child.kill('SIGTERM')
    }
  })

  it('a job past its timeout is retried, then fails with JOB_TIMEOUT; the worker restarts its prover and keeps serving', async () => {
    const farm = `timeout${++farmSeq}`
    const w = startWorker({ farm, name: 'slow-worker' })
    const tight = prover(circuit, farm, { jobTimeoutMs: 300, attempts: 2 })
    const normal = prover(circuit, farm)
    try {
      await assert.rejects(tight.prove(depositInput('t1').input), (err: unknown) => {
        assert.ok(err instanceof ProverFarmError, String(err))
        assert.equal(err.code, 'JOB_TIMEOUT')
        assert.match(err.message, /timed out after 300 ms on worker slow-worker .*after 2 attempts/)
        return true
      })
      assert.equal(w.out.filter((l) => /restarting the prover thread/.test(l)).length, 2)
      const b = depositInput('t2')
      const r = await normal.prove(b.input)
      assert.deepEqual(r.publicSignals, b.publicInputs.map(String))
      // The proof's CPU time comes back from the worker (its process over the job: the prover's threads).
      assert.ok((r.cpuMs ?? 0) > 0 && (r.cpuMs ?? 0) < 600_000, `cpuMs ${r.cpuMs}`)
    } finally {
      await tight.close()
      await normal.close()
      w.child.kill('SIGTERM')
    }
  })

  it('a witness the circuit refuses is the node\'s circuit rejection (witness stage), not retried; a circuit no run needs any more is let go', async () => {
    const farm = `witness${++farmSeq}`
    const w = startWorker({ farm, name: 'witness-worker', idleMs: 3_000 })
    const p = prover(circuit, farm)
    try {
      const b = depositInput('w')
      const input = { ...b.input, newRoot: (b.input.newRoot as bigint) + 1n }
      for (const call of [() => p.prove(input), () => p.witness(input)])
        await assert.rejects(call(), (err: unknown) => {
          assert.ok(isCircuitRejection(err), String(err))
          assert.equal((err as { details: { attempts: number } }).details.attempts, 1)
          return true
        })
      await p.witness(b.input) // the honest input passes
      assert.equal(p.stats.witnesses, 1)
      await p.close() // the run is done: its need is withdrawn
      await w.waitFor(new RegExp(`circuit ${circuit.id} .* not needed for \\d+ s: no longer served`), 30_000)
    } finally {
      await p.close()
      w.child.kill('SIGTERM')
    }
  })

  it('Redis killed mid-job: the run fails with REDIS_LOST, the worker exits with it, both within the give-up window', async () => {
    const own = await startRedisServer()
    const farm = `lost${++farmSeq}`
    const w = startWorker({ farm, name: 'orphan-worker', redis: own.url })
    const p = new QueueProver({ redis: own.url, farm, circuit, vkeyPath: join(cache, circuit.id, 'verification_key.json'), circuitCache: cache, giveUpMs: 2_000 })
    try {
      const proving = p.prove(depositInput('lost').input)
      await w.waitFor(/: prove \(attempt 1/)
      const t0 = Date.now()
      await own.kill()
      await assert.rejects(proving, (err: unknown) => {
        assert.ok(err instanceof ProverFarmError, String(err))
        assert.equal(err.code, 'REDIS_LOST')
        assert.match(err.message, new RegExp(`Redis at ${own.url.replace(/[/.]/g, '\\$&')}/? went away and did not come back within 2000 ms`))
        return true
      })
      assert.equal(await w.exited, 1)
      assert.ok(Date.now() - t0 < 20_000, `gave up after ${Date.now() - t0} ms`)
      assert.match(w.err.join('\n'), /REDIS_LOST: redis: Redis at .* went away/)
      await assert.rejects(p.prove(depositInput('after').input), (err: unknown) => err instanceof ProverFarmError && err.code === 'REDIS_LOST')
    } finally {
      await p.close()
      await own.stop()
    }
  })
})
