/**
 * EdDSA-Poseidon micro-benchmark (not a test): ours (src/eddsa.ts, @noble/curves
 * extended coordinates + fixed-base table + cached keys) against
 * @zk-kit/eddsa-poseidon (the reference), then sign + admit per transfer
 * through the real Sequencer.
 *
 *   npm run bench:eddsa                  # 6 rounds, 2,000 transfers
 *   npm run bench:eddsa -- --quick       # 3 rounds, 500 transfers
 *   … --rounds N --transfers N --users N --json out.json
 *
 * Every figure is CPU time of this process (process.cpuUsage, user + system),
 * not wall time, so other load on the machine inflates it less; ops/s is ops
 * per CPU-second. The two libraries run interleaved: each round times a block
 * of every task (the order reversed on odd rounds), and a ratio is the median
 * over rounds of the per-round ratio, so both sides see the same machine state.
 *
 * Tasks: sign (zk-kit's signMessage re-derives the public key on every call,
 * which is its API; ours uses the key derived once), verify with a key seen
 * before (ours keeps a per-key table: a sequencer sees the same senders again)
 * and with a key never seen (ours then also checks the key is in the prime-order
 * subgroup and builds the key's table), and public-key derivation.
 */
import { createRequire } from 'node:module'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { ManualClock, Rng } from '@l2bench/core'
import {
  AccountTree,
  type EdDSASecret,
  type EdDSASignature,
  FIELD_MODULUS,
  L2Key,
  type PublicKey,
  Sequencer,
  deriveEdDSASecret,
  opMessage,
  signEdDSAPoseidon,
  signOp,
  verifyEdDSAPoseidon,
} from '../src/index.ts'

const zk = createRequire(import.meta.url)('@zk-kit/eddsa-poseidon') as typeof import('@zk-kit/eddsa-poseidon')

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    transfers: { type: 'string' },
    users: { type: 'string' },
    json: { type: 'string' },
  },
})
const ROUNDS = Number(args.rounds ?? (args.quick ? 3 : 6))
const TRANSFERS = Number(args.transfers ?? (args.quick ? 500 : 2000))
const USERS = Number(args.users ?? 200)
/** Ops per block: a zk-kit block and one of ours take a comparable time. */
const ZK_BLOCK = 4
const OURS_BLOCK = 100

const cpuMs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

const rng = new Rng('bench/eddsa')
const messages = Array.from({ length: OURS_BLOCK }, () => rng.bigint(FIELD_MODULUS))
const privateKey = rng.bytes(32)
const secret = deriveEdDSASecret(privateKey)
const zkKey = zk.derivePublicKey(Buffer.from(privateKey))
const sigs = messages.map((m) => signEdDSAPoseidon(secret, m))
const zkSigs = sigs.map((s) => ({ R8: [...s.R8], S: s.S }))
verifyEdDSAPoseidon(messages[0] as bigint, sigs[0] as EdDSASignature, secret.publicKey) // the key's table, the fixed-base tables

/** Fresh keys with a signature each, made outside the timing, for the never-seen-key verify. */
function coldPool(n: number): { pk: PublicKey; m: bigint; sig: EdDSASignature }[] {
  return Array.from({ length: n }, () => {
    const s: EdDSASecret = deriveEdDSASecret(rng.bytes(32))
    const m = rng.bigint(FIELD_MODULUS)
    return { pk: s.publicKey, m, sig: signEdDSAPoseidon(s, m) }
  })
}

interface Task {
  name: string
  lib: 'ours' | 'zk-kit'
  block: number
  /** Runs one block; returns the number of ops that succeeded (all must). */
  run(): number
}

let cold = coldPool(OURS_BLOCK)
const tasks: Task[] = [
  { name: 'sign', lib: 'zk-kit', block: ZK_BLOCK, run: () => count(ZK_BLOCK, (i) => zk.signMessage(Buffer.from(privateKey), messages[i] as bigint).S > 0n) },
  { name: 'sign', lib: 'ours', block: OURS_BLOCK, run: () => count(OURS_BLOCK, (i) => signEdDSAPoseidon(secret, messages[i] as bigint).S > 0n) },
  { name: 'verify', lib: 'zk-kit', block: ZK_BLOCK, run: () => count(ZK_BLOCK, (i) => zk.verifySignature(messages[i] as bigint, zkSigs[i] as never, zkKey)) },
  { name: 'verify', lib: 'ours', block: OURS_BLOCK, run: () => count(OURS_BLOCK, (i) => verifyEdDSAPoseidon(messages[i] as bigint, sigs[i] as EdDSASignature, secret.publicKey)) },
  {
    name: 'verify, key never seen',
    lib: 'ours',
    block: OURS_BLOCK,
    run: () => count(OURS_BLOCK, (i) => verifyEdDSAPoseidon(cold[i]!.m, cold[i]!.sig, cold[i]!.pk)),
  },
  { name: 'derive public key', lib: 'zk-kit', block: ZK_BLOCK, run: () => count(ZK_BLOCK, (i) => zk.derivePublicKey(Buffer.from([i, ...privateKey]))[0] > 0n) },
  { name: 'derive public key', lib: 'ours', block: OURS_BLOCK, run: () => count(OURS_BLOCK, (i) => deriveEdDSASecret(Uint8Array.from([i, ...privateKey])).s > 0n) },
]

function count(n: number, f: (i: number) => boolean): number {
  let ok = 0
  for (let i = 0; i < n; i++) if (f(i)) ok++
  if (ok !== n) throw new Error(`only ${ok} of ${n} ops succeeded`)
  return ok
}

// Warm-up: one block of each (JIT, lazily built tables).
for (const t of tasks) t.run()

const perRound: Record<string, number[]> = {} // `${name}/${lib}` → CPU ms per op, one entry per round
for (let r = 0; r < ROUNDS; r++) {
  cold = coldPool(OURS_BLOCK)
  const order = r % 2 === 0 ? tasks : [...tasks].reverse()
  for (const t of order) {
    const c0 = cpuMs()
    const ops = t.run()
    const ms = (cpuMs() - c0) / ops
    const key = `${t.name}/${t.lib}`
    perRound[key] = [...(perRound[key] ?? []), ms]
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length

interface Row {
  task: string
  zkKitMsPerOp: number
  oursMsPerOp: number
  zkKitOpsPerS: number
  oursOpsPerS: number
  /** Median over rounds of (zk-kit ms/op ÷ ours ms/op) in the same round. */
  speedup: number
  speedupMin: number
  speedupMax: number
}
const rows: Row[] = []
for (const [name, zkName] of [
  ['sign', 'sign'],
  ['verify', 'verify'],
  ['verify, key never seen', 'verify'],
  ['derive public key', 'derive public key'],
] as const) {
  const ours = perRound[`${name}/ours`] as number[]
  const theirs = perRound[`${zkName}/zk-kit`] as number[]
  const ratios = ours.map((o, i) => (theirs[i] as number) / o)
  rows.push({
    task: name,
    zkKitMsPerOp: mean(theirs),
    oursMsPerOp: mean(ours),
    zkKitOpsPerS: 1000 / mean(theirs),
    oursOpsPerS: 1000 / mean(ours),
    speedup: median(ratios),
    speedupMin: Math.min(...ratios),
    speedupMax: Math.max(...ratios),
  })
}

// Sign + admit through the sequencer: USERS funded accounts at depth 16, TRANSFERS random transfers.
const depth = 16
const domain = { chainId: 31337n, contract: '0x00000000000000000000000000000000000000aa' as const }
const keyStart = cpuMs()
const keys = Array.from({ length: USERS }, (_, u) => L2Key.fromSeed(`bench/eddsa/user/${u}`))
const keyDeriveMs = (cpuMs() - keyStart) / USERS
const tree = new AccountTree(depth)
for (const [u, k] of keys.entries()) tree.set(u, { publicKey: k.publicKey, balance: 10n ** 30n, nonce: 0n })
const seq = new Sequencer({ params: { n: 4096, d: 1, depth, mode: 'packed' }, domain, tree, clock: new ManualClock(0), maxMempool: TRANSFERS + 1 })
const nonce = new Array<bigint>(USERS).fill(0n)
let signMs = 0
let admitMs = 0
let coldAdmits = 0
const seen = new Set<number>()
for (let i = 0; i < TRANSFERS; i++) {
  const from = rng.int(USERS)
  let to = rng.int(USERS - 1)
  if (to >= from) to++
  const c0 = cpuMs()
  const op = signOp(keys[from] as L2Key, domain, depth, { kind: 'transfer', from, to, amount: 1000n + BigInt(i), nonce: nonce[from] as bigint })
  const c1 = cpuMs()
  seq.submit(op)
  const c2 = cpuMs()
  signMs += c1 - c0
  admitMs += c2 - c1
  nonce[from] = (nonce[from] as bigint) + 1n
  if (!seen.has(from)) {
    seen.add(from)
    coldAdmits++
  }
}
if (seq.pendingOps !== TRANSFERS) throw new Error(`sequencer holds ${seq.pendingOps} of ${TRANSFERS} ops`)
const signAdmit = { transfers: TRANSFERS, users: USERS, depth, signMsPerTransfer: signMs / TRANSFERS, admitMsPerTransfer: admitMs / TRANSFERS, sendersFirstSeen: coldAdmits, l2KeyDeriveMs: keyDeriveMs }

// The same work with zk-kit, for reference (no sequencer: op message, sign, op message, verify), on a few transfers.
const ZK_TRANSFERS = args.quick ? 4 : 10
const zc0 = cpuMs()
for (let i = 0; i < ZK_TRANSFERS; i++) {
  const unsigned = { kind: 'transfer' as const, from: 0, to: 1, amount: 1000n + BigInt(i), nonce: BigInt(i) }
  const sig = zk.signMessage(Buffer.from(privateKey), opMessage(domain, depth, unsigned))
  if (!zk.verifySignature(opMessage(domain, depth, unsigned), sig, zkKey)) throw new Error('zk-kit refused its own signature')
}
const zkSignVerifyMs = (cpuMs() - zc0) / ZK_TRANSFERS

const f = (x: number, d = 2) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const cpu = cpus()[0]?.model ?? 'unknown CPU'
console.log(`# EdDSA-Poseidon: ours vs @zk-kit/eddsa-poseidon 1.1.0 (CPU time, ${ROUNDS} interleaved rounds)`)
console.log(`machine: ${cpu}, ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`)
console.log('| task | zk-kit ms/op | ours ms/op | zk-kit ops/s | ours ops/s | ours ÷ zk-kit speed (median of rounds, [min, max]) |')
console.log('| --- | ---: | ---: | ---: | ---: | ---: |')
for (const r of rows)
  console.log(`| ${r.task} | ${f(r.zkKitMsPerOp)} | ${f(r.oursMsPerOp, 3)} | ${f(r.zkKitOpsPerS, 1)} | ${f(r.oursOpsPerS, 0)} | ${f(r.speedup, 1)}× [${f(r.speedupMin, 1)}, ${f(r.speedupMax, 1)}] |`)
console.log(`\n## Sign + admit through the Sequencer (depth ${depth}, ${USERS} funded accounts, ${TRANSFERS} random transfers)`)
console.log(`sign (op message + signature):        ${f(signAdmit.signMsPerTransfer, 3)} ms CPU per transfer`)
console.log(`admit (Sequencer.submit: checks, op message, verify; ${coldAdmits} of ${TRANSFERS} from a sender seen for the first time): ${f(signAdmit.admitMsPerTransfer, 3)} ms CPU per transfer`)
console.log(`sign + admit:                         ${f(signAdmit.signMsPerTransfer + signAdmit.admitMsPerTransfer, 3)} ms CPU per transfer`)
console.log(`L2Key.fromSeed (key derivation, once per user): ${f(keyDeriveMs, 3)} ms CPU`)
console.log(`zk-kit, same op messages (sign + verify, no sequencer, ${ZK_TRANSFERS} transfers): ${f(zkSignVerifyMs, 1)} ms CPU per transfer`)

if (args.json !== undefined) {
  writeFileSync(args.json, `${JSON.stringify({ rounds: ROUNDS, rows, signAdmit, zkSignVerifyMsPerTransfer: zkSignVerifyMs, cpu, loadavg: loadavg() }, null, 2)}\n`)
}
