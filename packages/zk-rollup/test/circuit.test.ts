/**
 * Circuit-level tests of the batch circuit (ATTACKS 19–22), on the compiled
 * --O2 r1cs of Batch(N=2, D=1, depth=4) — the state rules live in the shared
 * core, so the binding mode does not matter here; the packed mode compiles in
 * seconds. No setup is needed: a witness is checked against the r1cs directly.
 *
 * Each attack is tested two ways:
 *  - witness generation: malicious inputs (everything else honest) make the
 *    circuit's own constraint fail where the rule lives;
 *  - r1cs: a valid witness from the wasm witness calculator is tampered with
 *    the values the attack needs, and A·w × B·w = C·w fails.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { before, describe, it } from 'node:test'
import {
  AccountTree,
  BATCH_CIRCUIT_SOURCE,
  type CircuitInput,
  type CircuitParams,
  type CompiledCircuit,
  FIELD_MODULUS,
  L2Key,
  MAX_BALANCE,
  type R1cs,
  buildBatch,
  calculateWitness,
  compileRollupCircuit,
  constraintWires,
  failingConstraints,
  loadR1cs,
  loadSymbols,
  signOp,
  unconstrainedWires,
} from '../src/index.ts'

const params: CircuitParams = { n: 2, d: 1, depth: 4, mode: 'packed' }
const domain = { chainId: 31337n, contract: '0x1111111111111111111111111111111111111111' as const }
const alice = L2Key.fromSeed('circuit-alice')
const bob = L2Key.fromSeed('circuit-bob')
const carol = L2Key.fromSeed('circuit-carol')

let compiled: CompiledCircuit
let r1cs: R1cs
let sym: Map<string, number>

/** alice at 0 (100), bob at 1 (0); the transfer alice → bob, amounts adjustable. */
function state(aliceBalance = 100n, bobBalance = 0n): AccountTree {
  const t = new AccountTree(params.depth)
  t.set(0, { publicKey: alice.publicKey, balance: aliceBalance, nonce: 0n })
  t.set(1, { publicKey: bob.publicKey, balance: bobBalance, nonce: 0n })
  return t
}

const transfer = (amount: bigint, nonce = 0n, to = 1) => signOp(alice, domain, params.depth, { kind: 'transfer', from: 0, to, amount, nonce })

function witness(input: CircuitInput): Promise<bigint[]> {
  return calculateWitness(compiled.wasm, input)
}

/** Runs the witness calculator on malicious inputs; returns its assert message. */
async function calculatorError(input: CircuitInput): Promise<string> {
  const quiet = console.error
  console.error = () => {} // circom_runtime prints the failing assert itself
  try {
    await calculateWitness(compiled.wasm, input)
  } catch (err) {
    return (err as Error).message
  } finally {
    console.error = quiet
  }
  assert.fail('the witness calculator accepted malicious inputs')
}

function wire(name: string): number {
  const w = sym.get(name)
  if (w === undefined) throw new Error(`signal ${name} is not a witness wire (optimised away?)`)
  return w
}

/** Bit `i` (LSB = 0) of op `s`'s from (or to) index in the body. */
function indexBitWire(s: number, field: 'from' | 'to', i: number): number {
  const ib = Math.ceil(params.depth / 8)
  const opStart = 8 * (29 + params.d * (ib + 80)) + s * 8 * (1 + 2 * ib + 5)
  const fieldStart = opStart + 8 + (field === 'to' ? 8 * ib : 0)
  return wire(`main.body[${fieldStart + 8 * ib - 1 - i}]`)
}

function tampered(w: readonly bigint[], changes: Record<number, bigint>): bigint[] {
  const out = [...w]
  for (const [k, v] of Object.entries(changes)) out[Number(k)] = ((v % FIELD_MODULUS) + FIELD_MODULUS) % FIELD_MODULUS
  return out
}

/** The failing constraints, and whether one of them touches any of `wires`. */
function rejects(w: readonly bigint[], wires: readonly number[]): { failed: number; touchesRule: boolean } {
  const failed = failingConstraints(r1cs, w)
  const set = new Set(wires)
  const touchesRule = failed.some((c) => [...constraintWires(r1cs, c)].some((x) => set.has(x)))
  return { failed: failed.length, touchesRule }
}

/** The range gadget's bit wires (--O2 folds one bit of each Num2Bits into the sum; the others stay). */
function rangeBitWires(prefix: string): Map<number, number> {
  const out = new Map<number, number>()
  for (let i = 0; i < 128; i++) {
    const w = sym.get(`${prefix}.out[${i}]`)
    if (w !== undefined) out.set(i, w)
  }
  assert.ok(out.size >= 127, `${prefix}: range bits missing`)
  return out
}

before(async () => {
  compiled = await compileRollupCircuit(params)
  r1cs = await loadR1cs(compiled.r1cs)
  sym = await loadSymbols(compiled.sym)
})

describe('batch circuit: honest witnesses', () => {
  it('a batch with a deposit, a transfer and a withdrawal satisfies every constraint', async () => {
    const t = state()
    const b = buildBatch(t, params, domain, [{ publicKey: carol.publicKey, amount: 5n }], [
      transfer(30n),
      signOp(bob, domain, params.depth, { kind: 'withdraw', from: 1, to: 3, amount: 10n, nonce: 0n }),
    ])
    const w = await witness(b.input)
    assert.deepEqual(failingConstraints(r1cs, w), [])
    // The public inputs sit right after the constant wire.
    assert.deepEqual(w.slice(1, 1 + b.publicInputs.length), b.publicInputs)
    assert.equal(t.get(2).balance, 5n)
  })

  it('a partly filled batch proves: no-op padding (0 ops) and an unused deposit slot', async () => {
    const onlyDeposit = buildBatch(state(), params, domain, [{ publicKey: carol.publicKey, amount: 1n }], [])
    assert.deepEqual(failingConstraints(r1cs, await witness(onlyDeposit.input)), [])
    const oneOp = buildBatch(state(), params, domain, [], [transfer(1n)])
    assert.deepEqual(failingConstraints(r1cs, await witness(oneOp.input)), [])
  })

  it("a deposit credits the key's existing account, or a fresh leaf when that would pass 2^128", async () => {
    const t = state()
    const b = buildBatch(t, params, domain, [{ publicKey: alice.publicKey, amount: 5n }], [transfer(30n)])
    assert.equal(b.input.depIsEmpty && (b.input.depIsEmpty as bigint[])[0], 0n)
    assert.equal(t.get(0).balance, 75n)
    assert.deepEqual(failingConstraints(r1cs, await witness(b.input)), [])
    const full = state(MAX_BALANCE)
    const b2 = buildBatch(full, params, domain, [{ publicKey: alice.publicKey, amount: 1n }], [])
    assert.equal((b2.input.depIndex as bigint[])[0], 2n)
    assert.equal(full.get(2).balance, 1n)
    assert.deepEqual(failingConstraints(r1cs, await witness(b2.input)), [])
  })

  it('a transfer to oneself is proven against the intermediate root', async () => {
    const b = buildBatch(state(), params, domain, [], [transfer(40n, 0n, 0)])
    assert.deepEqual(failingConstraints(r1cs, await witness(b.input)), [])
  })
})

describe('batch circuit: ATTACK 19, unconstrained signals', () => {
  it('every wire of the --O2 r1cs appears in some constraint', () => {
    assert.deepEqual(unconstrainedWires(r1cs), [])
    assert.ok(r1cs.nConstraints > 15_000, `${r1cs.nConstraints} constraints`)
  })

  it('every `<--` in our circuits is followed by a constraint on the same signal', async () => {
    for (const file of [BATCH_CIRCUIT_SOURCE, BATCH_CIRCUIT_SOURCE.replace('batch.circom', 'lib/ops.circom'), BATCH_CIRCUIT_SOURCE.replace('batch.circom', 'lib/merkle.circom')]) {
      const text = (await readFile(file, 'utf8')).replace(/\/\/[^\n]*/g, '')
      for (const m of text.matchAll(/(\w+)(\[[^\]]*\])?\s*<--/g)) {
        const name = m[1] as string
        const rest = text.slice((m.index ?? 0) + m[0].length)
        assert.match(rest, new RegExp(`\\b${name}\\b[^;]*(===|<==)|(===|<==)[^;]*\\b${name}\\b`), `${file}: ${name} <-- has no constraint`)
      }
    }
  })
})

describe('batch circuit: ATTACK 20, Merkle path bits and empty leaves', () => {
  it('r1cs: a path bit of 2 is rejected by the booleanity constraint', async () => {
    const w = await witness(buildBatch(state(), params, domain, [], [transfer(30n)]).input)
    const bit = indexBitWire(0, 'from', 1) // bit 0 is folded into the index's Num2Bits sum by --O2
    assert.equal(w[bit], 0n)
    const r = rejects(tampered(w, { [bit]: 2n }), [bit])
    assert.ok(r.failed > 0)
    // Among the failures, a constraint over that bit alone: bit · (bit − 1) = 0.
    const only = failingConstraints(r1cs, tampered(w, { [bit]: 2n })).some((c) => {
      const ws = constraintWires(r1cs, c)
      ws.delete(0)
      return ws.size === 1 && ws.has(bit)
    })
    assert.ok(only, 'no booleanity constraint failed')
  })

  it('r1cs: an empty (zero) leaf cannot stand for the receiver or the sender', async () => {
    const w = await witness(buildBatch(state(), params, domain, [], [transfer(30n)]).input)
    for (const who of ['rNz', 'sNz']) {
      const leaf = wire(`main.op[0].${who}.in`)
      const r = rejects(tampered(w, { [leaf]: 0n }), [wire(`main.op[0].${who}.prod`)])
      assert.ok(r.failed > 0 && r.touchesRule, who)
    }
  })

  it('witness generation: a transfer to an empty index fails', async () => {
    const t = state()
    const b = buildBatch(t.clone(), params, domain, [], [transfer(30n)])
    const input = structuredClone(b.input) as Record<string, bigint[] | bigint[][]>
    // Claim index 5 (empty) is an account with zero balance.
    ;(input.opTo as bigint[])[0] = 5n
    ;(input.receiverAx as bigint[])[0] = 0n
    ;(input.receiverAy as bigint[])[0] = 0n
    ;(input.receiverBalance as bigint[])[0] = 0n
    ;(input.receiverSiblings as unknown as bigint[][][])[0] = t.path(5).siblings
    const msg = await calculatorError(input as CircuitInput)
    assert.match(msg, /Assert Failed/)
    assert.match(msg, /OpSlot/)
  })
})

describe('batch circuit: ATTACK 21, balances in the field', () => {
  it('witness generation: 0 − 1 fails the sender range check', async () => {
    const t = state(0n)
    // buildBatch refuses the overdraft itself; build the honest input for 1 from a balance of 1, then claim balance 0.
    const b = buildBatch(state(1n), params, domain, [], [transfer(1n)])
    const input = structuredClone(b.input) as Record<string, bigint[] | bigint[][]>
    ;(input.senderBalance as bigint[])[0] = 0n
    ;(input.senderSiblings as unknown as bigint[][][])[0] = t.path(0).siblings
    const msg = await calculatorError(input as CircuitInput)
    assert.match(msg, /Num2Bits/)
    assert.match(msg, /OpSlot/)
  })

  it('r1cs: claiming a sender balance below the amount (0 − 1 = p − 1) is rejected by the range check', async () => {
    const w = await witness(buildBatch(state(1n), params, domain, [], [transfer(1n)]).input)
    const bits = rangeBitWires('main.op[0].sRange')
    const changes: Record<number, bigint> = { [wire('main.senderBalance[0]')]: 0n }
    // The best a prover can do with 128 bits: the low 128 bits of p − 1.
    const low = (FIELD_MODULUS - 1n) & MAX_BALANCE
    for (const [i, b] of bits) changes[b] = (low >> BigInt(i)) & 1n
    const r = rejects(tampered(w, changes), [...bits.values()])
    assert.ok(r.failed > 0 && r.touchesRule)
  })

  it('witness generation and r1cs: a credit past 2^128 (receiver overflow) is rejected', async () => {
    const top = MAX_BALANCE - 1n
    const b = buildBatch(state(100n, top), params, domain, [], [transfer(1n)])
    const w = await witness(b.input)
    assert.deepEqual(failingConstraints(r1cs, w), [])
    const input = structuredClone(b.input) as Record<string, bigint[] | bigint[][]>
    const over = state(100n, MAX_BALANCE)
    ;(input.receiverBalance as bigint[])[0] = MAX_BALANCE
    ;(input.receiverSiblings as unknown as bigint[][][])[0] = (() => {
      over.set(0, { publicKey: alice.publicKey, balance: 99n, nonce: 1n })
      return over.path(1).siblings
    })()
    assert.match(await calculatorError(input as CircuitInput), /Num2Bits/)
    const bits = rangeBitWires('main.op[0].rRange')
    const changes: Record<number, bigint> = { [wire('main.receiverBalance[0]')]: MAX_BALANCE }
    for (const bw of bits.values()) changes[bw] = 0n // low 128 bits of 2^128
    const r = rejects(tampered(w, changes), [...bits.values()])
    assert.ok(r.failed > 0 && r.touchesRule)
  })
})

describe('batch circuit: ATTACK 22, replays and signatures', () => {
  const sigWires = (s: number) => [wire(`main.sigR8x[${s}]`), wire(`main.sigR8y[${s}]`), wire(`main.sigS[${s}]`)]

  it('witness generation: the same signed transfer twice in a batch fails (nonce moved on)', async () => {
    const t = state()
    const op = transfer(10n)
    const b = buildBatch(t.clone(), params, domain, [], [op, transfer(10n, 1n)])
    const input = structuredClone(b.input) as Record<string, bigint[]>
    // Slot 1 replays slot 0's signature (made for nonce 0); the leaf says nonce 1.
    ;(input.sigR8x as bigint[])[1] = op.signature.R8[0]
    ;(input.sigR8y as bigint[])[1] = op.signature.R8[1]
    ;(input.sigS as bigint[])[1] = op.signature.S
    assert.match(await calculatorError(input as unknown as CircuitInput), /EdDSAPoseidonVerifier|ForceEqualIfEnabled/)
    // …and claiming nonce 0 again to match the signature breaks the sender's leaf instead.
    ;(input.senderNonce as bigint[])[1] = 0n
    assert.match(await calculatorError(input as unknown as CircuitInput), /OpSlot/)
  })

  it('r1cs: a nonce replay (old nonce and its signature in the second slot) is rejected', async () => {
    const first = transfer(10n)
    const w = await witness(buildBatch(state(), params, domain, [], [first, transfer(10n, 1n)]).input)
    const [rx, ry, s] = sigWires(1) as [number, number, number]
    const r = rejects(
      tampered(w, { [wire('main.senderNonce[1]')]: 0n, [rx]: first.signature.R8[0], [ry]: first.signature.R8[1], [s]: first.signature.S }),
      [rx, ry, s, wire('main.senderNonce[1]')],
    )
    assert.ok(r.failed > 0 && r.touchesRule)
  })

  for (const [what, other] of [
    ['another amount', () => transfer(31n)],
    ['another recipient', () => transfer(30n, 0n, 2)],
    ['another nonce', () => transfer(30n, 1n)],
  ] as const) {
    it(`a signature made for ${what} is rejected (witness generation and r1cs)`, async () => {
      const b = buildBatch(state(), params, domain, [], [transfer(30n)])
      const sig = other().signature
      const input = structuredClone(b.input) as Record<string, bigint[]>
      ;(input.sigR8x as bigint[])[0] = sig.R8[0]
      ;(input.sigR8y as bigint[])[0] = sig.R8[1]
      ;(input.sigS as bigint[])[0] = sig.S
      assert.match(await calculatorError(input as unknown as CircuitInput), /EdDSAPoseidonVerifier|ForceEqualIfEnabled/)
      const w = await witness(b.input)
      const [rx, ry, s] = sigWires(0) as [number, number, number]
      const r = rejects(tampered(w, { [rx]: sig.R8[0], [ry]: sig.R8[1], [s]: sig.S }), [rx, ry, s])
      assert.ok(r.failed > 0 && r.touchesRule)
    })
  }

  it('a no-op slot cannot carry value: zeroing the type of a real op leaves the root unchanged and mismatches newRoot', async () => {
    const b = buildBatch(state(), params, domain, [], [transfer(30n)])
    const input = structuredClone(b.input) as Record<string, bigint[]>
    ;(input.opType as bigint[])[0] = 0n
    assert.match(await calculatorError(input as unknown as CircuitInput), /Batch/)
  })
})
