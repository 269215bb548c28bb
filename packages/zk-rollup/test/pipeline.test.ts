/**
 * Tests of the circuit build pipeline (src/pipeline): the fast development
 * ptau against snarkjs's own `prepare phase2`, a full build that proves and
 * verifies (and rejects tampering), caching, and input rejection.
 *
 * Everything runs at small powers in a temporary cache directory.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { InvalidInputError } from '@l2bench/core'
import {
  BN128_R,
  assertSecretContribution,
  type BuiltCircuit,
  buildCircuit,
  compileCircuit,
  ensurePtau,
  generateDevPtau,
  loadFfjavascript,
  loadSnarkjs,
  PipelineError,
  prove,
  readPhase2,
  readPtauInfo,
  setupCircuit,
  terminateCurve,
  verify,
} from '../src/pipeline/index.ts'

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname
const TEST_CIRCUIT = join(FIXTURES, 'pipeline_test.circom')

let work: string
let cacheDir: string

before(() => {
  work = mkdtempSync(join(tmpdir(), 'l2bench-pipeline-'))
  cacheDir = join(work, 'cache')
})

after(async () => {
  await terminateCurve()
  rmSync(work, { recursive: true, force: true })
})

/** Offsets and sizes of the sections of a binfile (ptau/zkey/r1cs). */
function sections(file: Buffer): Map<number, { start: number; size: number }> {
  const out = new Map<number, { start: number; size: number }>()
  const n = file.readUInt32LE(8)
  let pos = 12
  for (let i = 0; i < n; i++) {
    const id = file.readUInt32LE(pos)
    const size = Number(file.readBigUInt64LE(pos + 4))
    out.set(id, { start: pos + 12, size })
    pos += 12 + size
  }
  assert.equal(pos, file.length, 'sections cover the file exactly')
  return out
}

function section(file: Buffer, id: number): Buffer {
  const s = sections(file).get(id)
  assert.ok(s !== undefined, `section ${id} present`)
  return file.subarray(s.start, s.start + s.size)
}

describe('fixed-base worker pool', () => {
  test('k·G1 and k·G2 match ffjavascript for random and edge scalars (0, 1, r−1, r, r+1, 2^254−1)', async () => {
    const ff = await loadFfjavascript()
    const curve = await ff.buildBn128(true)
    const { FixedBasePool } = await import('../src/pipeline/fixedbase.ts')
    const le = (k: bigint) => {
      const b = new Uint8Array(32)
      let x = k
      for (let i = 0; i < 32; i++) {
        b[i] = Number(x & 0xffn)
        x >>= 8n
      }
      return b
    }
    const random = Array.from({ length: 40 }, (_, i) => (BigInt(`0x${'9e3779b97f4a7c15'.repeat(4)}`) * BigInt(i + 1) ** 7n) % BN128_R)
    const ks = [0n, 1n, 2n, 255n, 256n, BN128_R - 1n, BN128_R, BN128_R + 1n, 2n ** 254n - 1n, ...random]
    // Small windows on purpose: many windows, many batched additions per scalar.
    const pool = new FixedBasePool({ workers: 2, window: { 1: 5, 2: 4 } })
    try {
      for (const [group, G, size] of [
        [1, curve.G1, 64],
        [2, curve.G2, 128],
      ] as const) {
        const scalars = new Uint8Array(ks.length * 32)
        for (const [i, k] of ks.entries()) scalars.set(le(k), i * 32)
        const points = await pool.mul(group, scalars)
        ks.forEach((k, i) => {
          const expected = new Uint8Array(size)
          G.toRprLEM(expected, 0, G.toAffine(G.timesScalar(G.g, le(k % BN128_R))))
          assert.ok(Buffer.from(points.subarray(i * size, (i + 1) * size)).equals(expected), `G${group} · ${k}`)
        })
      }
      await assert.rejects(pool.mul(1, le(2n ** 254n)), /not below 2\^254/)
    } finally {
      await pool.close()
    }
  })
})

describe('development ptau', () => {
  const POWER = 8
  const secrets = { tau: 0x1234567890abcdef1234567890abcdefn, alpha: 987654321987654321n, beta: BN128_R - 5n }

  test('the fast Lagrange sections are byte-identical to snarkjs prepare phase2 of the same unprepared file', async () => {
    const prepared = join(work, 'fast.ptau')
    const unprepared = join(work, 'fast-unprepared.ptau')
    const res = await generateDevPtau({ power: POWER, out: prepared, unpreparedOut: unprepared, secrets, workers: 2 })
    assert.equal(res.power, POWER)

    const snarkjs = await loadSnarkjs()
    const bySnarkjs = join(work, 'snarkjs-prepared.ptau')
    await snarkjs.powersOfTau.preparePhase2(unprepared, bySnarkjs)

    const ours = readFileSync(prepared)
    const theirs = readFileSync(bySnarkjs)
    for (const id of [12, 13, 14, 15]) {
      const a = section(ours, id)
      const b = section(theirs, id)
      assert.ok(a.length > 0)
      assert.ok(a.equals(b), `section ${id} byte-identical`)
    }
    // And the whole file: same header, same copied sections 1-7, same order.
    assert.ok(ours.equals(theirs), 'whole prepared file byte-identical')

    const info = await readPtauInfo(prepared)
    assert.deepEqual(info.sections, [1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15])
    assert.equal(info.power, POWER)
    assert.deepEqual((await readPtauInfo(unprepared)).sections, [1, 2, 3, 4, 5, 6, 7])
  })

  test('sections 2-6 hold the powers of the given secrets (checked with ffjavascript scalar multiplication)', async () => {
    const prepared = join(work, 'fast.ptau')
    const file = readFileSync(prepared)
    const ff = await loadFfjavascript()
    const curve = await ff.buildBn128(true)
    const pow = (b: bigint, e: number) => {
      let r = 1n
      for (let i = 0; i < e; i++) r = (r * b) % BN128_R
      return r
    }
    const lem = (G: typeof curve.G1, k: bigint) => {
      const scalar = new Uint8Array(32)
      let x = k
      for (let i = 0; i < 32; i++) {
        scalar[i] = Number(x & 0xffn)
        x >>= 8n
      }
      const p = G.toAffine(G.timesScalar(G.g, scalar))
      const out = new Uint8Array(G.F.n8 * 2)
      G.toRprLEM(out, 0, p)
      return Buffer.from(out)
    }
    const N = 2 ** POWER
    const { tau, alpha, beta } = secrets
    for (const i of [0, 1, 2, N - 1, 2 * N - 2]) {
      assert.ok(section(file, 2).subarray(i * 64, i * 64 + 64).equals(lem(curve.G1, pow(tau, i))), `tauG1[${i}]`)
    }
    for (const i of [0, 1, N - 1]) {
      assert.ok(section(file, 3).subarray(i * 128, i * 128 + 128).equals(lem(curve.G2, pow(tau, i))), `tauG2[${i}]`)
      assert.ok(section(file, 4).subarray(i * 64, i * 64 + 64).equals(lem(curve.G1, (alpha * pow(tau, i)) % BN128_R)), `alphaTauG1[${i}]`)
      assert.ok(section(file, 5).subarray(i * 64, i * 64 + 64).equals(lem(curve.G1, (beta * pow(tau, i)) % BN128_R)), `betaTauG1[${i}]`)
    }
    assert.ok(section(file, 6).equals(lem(curve.G2, beta)), 'betaG2')
    assert.equal(section(file, 7).readUInt32LE(0), 0, 'no contribution records')
  })

  test('different secrets give different points (the identity check is not vacuous)', async () => {
    const other = join(work, 'other.ptau')
    await generateDevPtau({ power: POWER, out: other, secrets: { ...secrets, tau: secrets.tau + 1n }, workers: 1 })
    const a = readFileSync(join(work, 'fast.ptau'))
    const b = readFileSync(other)
    assert.equal(a.length, b.length)
    assert.ok(!section(a, 12).equals(section(b, 12)))
    // tauG1[0] = G1 in both; tauG1[1] = τ·G1 differs.
    assert.ok(section(a, 2).subarray(0, 64).equals(section(b, 2).subarray(0, 64)))
    assert.ok(!section(a, 2).subarray(64, 128).equals(section(b, 2).subarray(64, 128)))
  })

  test('a zkey derived from the secrets is byte-identical to snarkjs zkey new, and with its phase 2 to zkey contribute + zkey beacon', async () => {
    const compiled = await compileCircuit({ source: TEST_CIRCUIT, cacheDir: join(work, 'cache-zkey') })
    assert.equal(compiled.requiredPower, POWER)
    const snarkjs = await loadSnarkjs()
    const beaconHex = '0badc0ffee'.repeat(6)
    const beacon = { hash: Buffer.from(beaconHex, 'hex'), iterationsExp: 10, name: 'test beacon' }
    // snarkjs zkey contribute seeds its key stream with blake2b-512(64 CSPRNG bytes ‖ entropy)[0..32).
    // To compare bytes, its CSPRNG is made to return zeros for that one call and our
    // derivation is given the same seed (production draws it from the CSPRNG and drops it).
    const entropy = 'test entropy'
    const secretSeed = createHash('blake2b512').update(new Uint8Array(64)).update(entropy).digest().subarray(0, 32)
    const phase2 = { name: 'test contribution', secretSeed, beacon }
    // Power equal to the circuit's (H comes from the zero-padded top Lagrange level) and one above it.
    for (const power of [POWER, POWER + 1]) {
      const ptau = join(work, `zk-${power}.ptau`)
      const derived = join(work, `derived-${power}.zkey`)
      const derivedFinal = join(work, `derived-final-${power}.zkey`)
      const res = await generateDevPtau({
        power,
        out: ptau,
        secrets,
        zkeys: [
          { r1cs: compiled.r1cs, out: derived },
          { r1cs: compiled.r1cs, out: derivedFinal, phase2 },
        ],
        workers: 2,
      })
      const bySnarkjs = join(work, `snarkjs-${power}.zkey`)
      const csHash = await snarkjs.zKey.newZKey(compiled.r1cs, ptau, bySnarkjs)
      assert.ok(csHash instanceof Uint8Array)
      assert.deepEqual(res.zkeys[0]?.csHash, csHash, 'same circuit hash')
      const ours = readFileSync(derived)
      const theirs = readFileSync(bySnarkjs)
      assert.equal(ours.length, theirs.length)
      for (const id of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) assert.ok(section(ours, id).equals(section(theirs, id)), `power ${power}: zkey section ${id}`)
      assert.ok(ours.equals(theirs), `power ${power}: whole zkey byte-identical`)

      // The folded contributions equal snarkjs zkey contribute (same key stream), then zkey beacon, on zkey new's output.
      const contributed = join(work, `snarkjs-contributed-${power}.zkey`)
      const finalBySnarkjs = join(work, `snarkjs-final-${power}.zkey`)
      const cryptoModule = (await import('node:crypto')).default as { randomFillSync: <T extends Uint8Array>(b: T) => T }
      const randomFillSync = cryptoModule.randomFillSync
      cryptoModule.randomFillSync = (b) => b.fill(0)
      try {
        assert.ok((await snarkjs.zKey.contribute(bySnarkjs, contributed, 'test contribution', entropy)) instanceof Uint8Array)
      } finally {
        cryptoModule.randomFillSync = randomFillSync
      }
      assert.ok((await snarkjs.zKey.beacon(contributed, finalBySnarkjs, 'test beacon', beaconHex, 10)) instanceof Uint8Array)
      const oursFinal = readFileSync(derivedFinal)
      const theirsFinal = readFileSync(finalBySnarkjs)
      for (const id of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
        assert.ok(section(oursFinal, id).equals(section(theirsFinal, id)), `power ${power}: contributed zkey section ${id}`)
      }
      assert.ok(oursFinal.equals(theirsFinal), `power ${power}: whole contributed zkey byte-identical`)
      assert.ok(!section(oursFinal, 8).equals(section(ours, 8)), 'the contributions changed C')
      // And snarkjs's own verification of the chain (every contribution's proof of knowledge, the final key).
      assert.equal(await snarkjs.zKey.verifyFromR1cs(compiled.r1cs, ptau, derivedFinal), true, `power ${power}: snarkjs zkey verify`)
      assert.deepEqual(
        (await readPhase2(derivedFinal)).map((c) => c.type),
        ['contribution', 'beacon'],
      )
    }
  })

  test('phase 2 without a secret contribution is refused (zkey new output, beacon only); a production derivation draws a fresh key', async () => {
    const snarkjs = await loadSnarkjs()
    const fresh = join(work, `snarkjs-${POWER}.zkey`) // zkey new's output: δ = 1
    await assert.rejects(assertSecretContribution(fresh), (e: unknown) => e instanceof PipelineError && e.code === 'PHASE2_NO_SECRET' && /δ = 1/.test(e.message))
    const beaconOnly = join(work, 'beacon-only.zkey')
    assert.ok((await snarkjs.zKey.beacon(fresh, beaconOnly, 'b', 'ab'.repeat(32), 10)) instanceof Uint8Array)
    await assert.rejects(assertSecretContribution(beaconOnly), (e: unknown) => e instanceof PipelineError && e.code === 'PHASE2_NO_SECRET' && /only beacon/.test(e.message))
    assert.deepEqual(await readPhase2(beaconOnly), [{ type: 'beacon', name: 'b', beacon: { hash: 'ab'.repeat(32), iterationsExp: 10 } }])
    // Two derivations without a seed: different secret keys, so different δ.
    const compiled = await compileCircuit({ source: TEST_CIRCUIT, cacheDir: join(work, 'cache-zkey') })
    const [a, b] = [join(work, 'fresh-a.zkey'), join(work, 'fresh-b.zkey')]
    await generateDevPtau({
      power: POWER,
      out: join(work, 'fresh.ptau'),
      secrets,
      zkeys: [
        { r1cs: compiled.r1cs, out: a, phase2: { name: 'x' } },
        { r1cs: compiled.r1cs, out: b, phase2: { name: 'x' } },
      ],
      workers: 1,
    })
    const delta1 = (f: string) => section(readFileSync(f), 2).subarray(4 + 32 + 4 + 32 + 12 + 64 * 2 + 128 * 2, 4 + 32 + 4 + 32 + 12 + 64 * 3 + 128 * 2)
    assert.ok(!delta1(a).equals(delta1(b)), 'δ differs between two fresh derivations')
    assert.deepEqual((await assertSecretContribution(a)).map((c) => c.type), ['contribution'])
  })

  test('rejects bad powers and secrets', async () => {
    await assert.rejects(generateDevPtau({ power: 0, out: join(work, 'x.ptau') }), InvalidInputError)
    await assert.rejects(generateDevPtau({ power: 28, out: join(work, 'x.ptau') }), InvalidInputError)
    await assert.rejects(generateDevPtau({ power: 4, out: join(work, 'x.ptau'), secrets: { ...secrets, tau: 0n } }), InvalidInputError)
    await assert.rejects(generateDevPtau({ power: 4, out: join(work, 'x.ptau'), secrets: { ...secrets, beta: BN128_R } }), InvalidInputError)
    await assert.rejects(ensurePtau({ power: 2.5, cacheDir }), InvalidInputError)
  })
})

describe('build, prove, verify', () => {
  let built: BuiltCircuit

  test('a circuit set up from the fast development ptau proves and verifies', async () => {
    built = await buildCircuit({ source: TEST_CIRCUIT, cacheDir })
    assert.equal(built.cached, false)
    assert.equal(built.compiled.cached, false)
    assert.equal(built.ptau.cached, false)
    assert.equal(built.setup.cached, false)
    assert.equal(built.ptau.kind, 'dev')
    assert.equal(built.setup.method, 'derived')
    assert.equal(built.developmentOnly, true)
    assert.ok(built.compiled.constraints > 200, `constraints: ${built.compiled.constraints}`)
    assert.equal(built.compiled.publicInputs, 1)
    assert.equal(built.compiled.publicOutputs, 2)
    assert.equal(built.compiled.requiredPower, 8)
    assert.equal(built.ptau.power, 8)
    assert.equal(built.setup.vkey.nPublic, 3)

    const { proof, publicSignals } = await prove(built, { a: 3, b: 7, nonce: 11 })
    assert.equal(publicSignals.length, 3)
    assert.equal(publicSignals[1], '32', 'product output: a·b + nonce')
    assert.equal(publicSignals[2], '11', 'public nonce')
    assert.equal(await verify(built.setup.vkey, publicSignals, proof), true)

    // snarkjs's own consistency check of the zkey against r1cs and ptau.
    const snarkjs = await loadSnarkjs()
    assert.equal(await snarkjs.zKey.verifyFromR1cs(built.compiled.r1cs, built.ptau.path, built.setup.zkey), true)
    // Phase 2: a secret contribution, then a beacon (never a beacon alone).
    assert.deepEqual((await readPhase2(built.setup.zkey)).map((c) => c.type), ['contribution', 'beacon'])
  })

  test('tampered proofs and tampered public inputs fail', async () => {
    const { proof, publicSignals } = await prove(built, { a: 5, b: 6, nonce: 1 })
    assert.equal(await verify(built.setup.vkey, publicSignals, proof), true)

    // Public inputs: a different nonce, a different product.
    assert.equal(await verify(built.setup.vkey, [publicSignals[0]!, publicSignals[1]!, '2'], proof), false)
    assert.equal(await verify(built.setup.vkey, [publicSignals[0]!, '32', publicSignals[2]!], proof), false)
    // Proof: swap in another valid proof's A point; scale C by 2 (still on the curve).
    const other = await prove(built, { a: 5, b: 6, nonce: 2 })
    assert.equal(await verify(built.setup.vkey, publicSignals, { ...proof, pi_a: other.proof.pi_a }), false)
    const ff = await loadFfjavascript()
    const curve = await ff.buildBn128(true)
    const c = curve.G1 as unknown as {
      fromObject(o: bigint[]): unknown
      double(p: unknown): unknown
      toObject(p: unknown): bigint[]
      toAffine(p: unknown): unknown
    }
    const doubledC = c.toObject(c.toAffine(c.double(c.fromObject(proof.pi_c.map((s) => BigInt(s))))))
    assert.equal(await verify(built.setup.vkey, publicSignals, { ...proof, pi_c: doubledC.map(String) }), false)
    // The untampered second proof is fine: the failures above are the tampering's.
    assert.equal(await verify(built.setup.vkey, other.publicSignals, other.proof), true)
  })

  test('a second run finds everything cached and recomputes nothing', async () => {
    const zkeyMtime = statSync(built.setup.zkey).mtimeMs
    const ptauMtime = statSync(built.ptau.path).mtimeMs
    const r1csMtime = statSync(built.compiled.r1cs).mtimeMs
    const stages: string[] = []
    const again = await buildCircuit({ source: TEST_CIRCUIT, cacheDir, onProgress: (e) => stages.push(`${e.stage}: ${e.message}`) })
    assert.equal(again.cached, true)
    assert.equal(again.compiled.cached, true)
    assert.equal(again.ptau.cached, true)
    assert.equal(again.setup.cached, true)
    assert.equal(again.compiled.hash, built.compiled.hash)
    assert.equal(again.setup.zkey, built.setup.zkey)
    assert.deepEqual(again.setup.vkey, built.setup.vkey)
    assert.equal(statSync(again.setup.zkey).mtimeMs, zkeyMtime)
    assert.equal(statSync(again.ptau.path).mtimeMs, ptauMtime)
    assert.equal(statSync(again.compiled.r1cs).mtimeMs, r1csMtime)
    // compile and setup report a cache hit; the development ptau lives with the setup.
    assert.equal(stages.length, 2)
    assert.ok(stages.every((s) => s.includes('cached')), stages.join('\n'))
  })

  test('a caller-supplied ptau is used as is, and setups are keyed by it', async () => {
    const ptau = await ensurePtau({ power: built.compiled.requiredPower, ptauFile: join(work, 'fast.ptau'), cacheDir })
    assert.equal(ptau.kind, 'file')
    assert.equal(ptau.developmentOnly, false)
    const setup = await setupCircuit({ compiled: built.compiled, ptau, cacheDir })
    assert.equal(setup.cached, false)
    assert.notEqual(setup.hash, built.setup.hash)
    // snarkjs path: zkey new, zkey contribute (secret), zkey beacon — and snarkjs accepts the chain.
    assert.deepEqual((await readPhase2(setup.zkey)).map((c) => c.type), ['contribution', 'beacon'])
    assert.ok(setup.timings?.contribute !== undefined && setup.timings.beacon !== undefined)
    const snarkjs = await loadSnarkjs()
    assert.equal(await snarkjs.zKey.verifyFromR1cs(built.compiled.r1cs, ptau.path, setup.zkey), true)
    const { proof, publicSignals } = await prove({ compiled: built.compiled, setup }, { a: 2, b: 2, nonce: 9 })
    assert.equal(await verify(setup.vkey, publicSignals, proof), true)
    assert.equal(await verify(built.setup.vkey, publicSignals, proof), false, 'keys of different setups are not interchangeable')
  })

  test('the shared development ptau with snarkjs zkey new works too', async () => {
    const shared = await buildCircuit({ source: TEST_CIRCUIT, cacheDir, devSetup: 'shared' })
    assert.equal(shared.setup.method, 'snarkjs')
    assert.equal(shared.ptau.kind, 'dev')
    assert.equal(shared.ptau.path, join(cacheDir, 'ptau', 'dev-8.ptau'))
    assert.equal(shared.compiled.cached, true)
    assert.equal(shared.setup.cached, false)
    const { proof, publicSignals } = await prove(shared, { a: 4, b: 4, nonce: 4 })
    assert.equal(await verify(shared.setup.vkey, publicSignals, proof), true)
    const again = await buildCircuit({ source: TEST_CIRCUIT, cacheDir, devSetup: 'shared' })
    assert.equal(again.cached, true)
  })

  test('rejects ptau files that are unprepared or too small', async () => {
    await assert.rejects(
      ensurePtau({ power: 8, ptauFile: join(work, 'fast-unprepared.ptau'), cacheDir }),
      (e: unknown) => e instanceof PipelineError && e.code === 'PTAU_NOT_PREPARED',
    )
    await assert.rejects(
      ensurePtau({ power: 9, ptauFile: join(work, 'fast.ptau'), cacheDir }),
      (e: unknown) => e instanceof PipelineError && e.code === 'PTAU_TOO_SMALL',
    )
    writeFileSync(join(work, 'junk.ptau'), 'not a ptau file at all')
    await assert.rejects(ensurePtau({ power: 4, ptauFile: join(work, 'junk.ptau'), cacheDir }), (e: unknown) => e instanceof PipelineError && e.code === 'PTAU_FORMAT')
    const small = await ensurePtau({ power: 4, cacheDir, exact: true })
    await assert.rejects(setupCircuit({ compiled: built.compiled, ptau: small, cacheDir }), (e: unknown) => e instanceof PipelineError && e.code === 'PTAU_TOO_SMALL')
  })
})

describe('compile cache keys and errors', () => {
  test('editing a transitively included file changes the key; identical sources hit the cache', async () => {
    const dir = join(work, 'src')
    rmSync(dir, { recursive: true, force: true })
    const { mkdirSync } = await import('node:fs')
    mkdirSync(join(dir, 'lib'), { recursive: true })
    writeFileSync(join(dir, 'lib', 'sq.circom'), 'pragma circom 2.1.0;\ntemplate Sq() { signal input x; signal output y; y <== x * x; }\n')
    writeFileSync(join(dir, 'mid.circom'), 'pragma circom 2.1.0;\ninclude "sq.circom";\ntemplate Quad() { signal input x; signal output y; component a = Sq(); component b = Sq(); a.x <== x; b.x <== a.y; y <== b.y; }\n')
    writeFileSync(join(dir, 'top.circom'), 'pragma circom 2.1.0;\ninclude "mid.circom";\n// include "nowhere.circom";\ncomponent main = Quad();\n')
    const opts = { source: join(dir, 'top.circom'), include: [join(dir, 'lib')], cacheDir }
    const first = await compileCircuit(opts)
    assert.equal(first.cached, false)
    assert.equal(first.constraints, 2)
    assert.deepEqual(first.sources, [join(dir, 'top.circom'), join(dir, 'mid.circom'), join(dir, 'lib', 'sq.circom')])
    const second = await compileCircuit(opts)
    assert.equal(second.cached, true)
    assert.equal(second.hash, first.hash)

    // The leaf file (reached through mid.circom and the -l path) changes: new key, fresh compile.
    writeFileSync(join(dir, 'lib', 'sq.circom'), 'pragma circom 2.1.0;\ntemplate Sq() { signal input x; signal output y; signal t; t <== x * x; y <== t * x; }\n')
    const third = await compileCircuit(opts)
    assert.equal(third.cached, false)
    assert.notEqual(third.hash, first.hash)
    assert.equal(third.constraints, 4)

    // Template arguments are part of the key.
    copyFileSync(join(FIXTURES, 'pipeline_bench.circom'), join(dir, 'bench.circom'))
    const b1 = await compileCircuit({ source: join(dir, 'bench.circom'), main: { template: 'PipelineBench', args: [1, 3], publicInputs: ['key'] }, cacheDir })
    const b2 = await compileCircuit({ source: join(dir, 'bench.circom'), main: { template: 'PipelineBench', args: [1, 4], publicInputs: ['key'] }, cacheDir })
    assert.notEqual(b1.hash, b2.hash)
    assert.equal(b2.constraints - b1.constraints, 1)
    assert.equal(b1.publicInputs, 1)
  })

  test('concurrent builds of the same circuit compile once', async () => {
    const dir = join(work, 'conc')
    const { mkdirSync } = await import('node:fs')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'c.circom'), 'pragma circom 2.1.0;\ntemplate M() { signal input a; signal input b; signal output c; c <== a * b; }\ncomponent main = M();\n')
    const results = await Promise.all([1, 2, 3].map(() => compileCircuit({ source: join(dir, 'c.circom'), cacheDir })))
    assert.equal(results.filter((r) => !r.cached).length, 1)
    assert.equal(new Set(results.map((r) => r.hash)).size, 1)
  })

  test('a lock left by a dead process is taken over', async () => {
    const dir = join(work, 'stale')
    const { mkdirSync } = await import('node:fs')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 's.circom'), 'pragma circom 2.1.0;\ntemplate S() { signal input a; signal output b; b <== a * a; }\ncomponent main = S();\n')
    const staleCache = join(work, 'cache-stale')
    // Find where the entry will live, then plant a lock owned by a pid that cannot be alive.
    const probe = await compileCircuit({ source: join(dir, 's.circom'), cacheDir: staleCache })
    rmSync(probe.dir, { recursive: true, force: true })
    mkdirSync(`${probe.dir}.lock`)
    writeFileSync(join(`${probe.dir}.lock`, 'pid'), '4194304')
    const again = await compileCircuit({ source: join(dir, 's.circom'), cacheDir: staleCache })
    assert.equal(again.cached, false)
    assert.equal(again.hash, probe.hash)
    assert.ok(statSync(again.r1cs).size > 0)
  })

  test('compile errors and bad inputs are typed', async () => {
    const dir = join(work, 'bad')
    const { mkdirSync } = await import('node:fs')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'syntax.circom'), 'pragma circom 2.1.0;\ntemplate T() { signal input a; signal output b; b <== a * ; }\ncomponent main = T();\n')
    await assert.rejects(compileCircuit({ source: join(dir, 'syntax.circom'), cacheDir }), (e: unknown) => e instanceof PipelineError && e.code === 'CIRCUIT_COMPILE')
    writeFileSync(join(dir, 'missing.circom'), 'pragma circom 2.1.0;\ninclude "no_such_file.circom";\n')
    await assert.rejects(compileCircuit({ source: join(dir, 'missing.circom'), cacheDir }), (e: unknown) => e instanceof PipelineError && e.code === 'CIRCUIT_INCLUDE')
    await assert.rejects(compileCircuit({ source: join(dir, 'nope.circom'), cacheDir }), InvalidInputError)
    await assert.rejects(compileCircuit({ source: join(dir, 'syntax.txt'), cacheDir }), InvalidInputError)
    await assert.rejects(compileCircuit({ source: TEST_CIRCUIT, main: { template: 'X; evil' }, cacheDir }), InvalidInputError)
    await assert.rejects(compileCircuit({ source: TEST_CIRCUIT, main: { template: 'X', args: [1.5] }, cacheDir }), InvalidInputError)
    await assert.rejects(compileCircuit({ source: TEST_CIRCUIT, name: '../x', cacheDir }), InvalidInputError)
  })
})

describe('command line', () => {
  test('compile prints the constraint count; bad commands exit non-zero', async () => {
    const { main } = await import('../src/pipeline/cli.ts')
    const lines: string[] = []
    const log = console.log
    const err = console.error
    console.log = (...a: unknown[]) => lines.push(a.join(' '))
    console.error = (...a: unknown[]) => lines.push(a.join(' '))
    try {
      assert.equal(await main(['compile', TEST_CIRCUIT, '--cache-dir', join(work, 'cache-cli')]), 0)
      assert.ok(lines.some((l) => /pipeline_test: 241 constraints, .* needs ptau 2\^8/.test(l)), lines.join('\n'))
      assert.equal(await main(['frobnicate']), 2)
      await assert.rejects(main(['ptau']), /--power/)
    } finally {
      console.log = log
      console.error = err
    }
  })
})
