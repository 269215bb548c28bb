/**
 * The account tree: a quaternary @zk-kit/incremental-merkle-tree with
 * Poseidon(4) nodes and zero leaf 0, whose leaves are
 * Poseidon(pubkey.x, pubkey.y, balance, nonce). `depth` counts index bits (the
 * tree holds 2^depth accounts): it has ⌈depth/2⌉ levels of four children each
 * (at an odd depth the top level uses two of its four). A level costs one
 * Poseidon(4) — 297 constraints in the circuit for two bits of index, against
 * 2 × 240 for two binary levels. New accounts are appended at the next free
 * index; an index whose leaf is 0 is empty and is never treated as an account
 * (get() throws UNKNOWN_ACCOUNT).
 *
 * The tree is mutable (an IMT update is O(depth) hashes); `journal()` records
 * the leaves a caller changes so it can roll them back if a batch is abandoned.
 */
import { createRequire } from 'node:module'
import { InvalidInputError, assertInt } from '@l2bench/core'
import { DEFAULT_DEPTH, MAX_BALANCE, MAX_DEPTH } from './constants.ts'
import { RollupError } from './errors.ts'
import { type PublicKey, publicKeyId } from './keys.ts'
import { hash4 } from './poseidon.ts'

export interface Account {
  readonly publicKey: PublicKey
  readonly balance: bigint
  readonly nonce: bigint
}

export function leafHash(a: Account): bigint {
  return hash4(a.publicKey[0], a.publicKey[1], a.balance, a.nonce)
}

/** What validation needs from a state: accounts by index, keys, free leaves (AccountTree, OverlayView). */
export interface AccountView {
  readonly depth: number
  readonly capacity: number
  get(index: number, field?: string): Account
  tryGet(index: number): Account | undefined
  indexOfKey(pk: PublicKey): number | undefined
  nextFreeIndex(): number
}

/** Tree levels for `depth` index bits (four children per level). */
export function treeLevels(depth: number): number {
  return Math.ceil(depth / 2)
}

export interface MerklePath {
  /** The three other children at each level, left to right, leaf level first. */
  siblings: bigint[][]
  /** Position (0–3) of the path's node among its parent's children, per level: base-4 digit i of the index. */
  positions: number[]
}

/** A path's siblings as one list, level by level (what L1 calls carry: 3 per level). */
export function flatSiblings(path: MerklePath): bigint[] {
  return path.siblings.flat()
}

/** The inverse of flatSiblings for a leaf at `index`; undefined unless there are exactly 3 siblings per level of `depth`. */
export function pathOf(index: number, depth: number, flat: readonly bigint[]): MerklePath | undefined {
  const levels = treeLevels(depth)
  if (flat.length !== 3 * levels) return undefined
  const siblings: bigint[][] = []
  const positions: number[] = []
  for (let i = 0; i < levels; i++) {
    siblings.push(flat.slice(3 * i, 3 * i + 3))
    positions.push(Math.floor(index / 4 ** i) % 4)
  }
  return { siblings, positions }
}

interface JournalEntry {
  index: number
  before: Account | undefined
  sizeBefore: number
}

const nodeHash = (nodes: unknown[]) => hash4(nodes[0] as bigint, nodes[1] as bigint, nodes[2] as bigint, nodes[3] as bigint)

/** The part of @zk-kit/incremental-merkle-tree used here (its package "exports" hide its .d.ts from NodeNext resolution). */
interface Imt {
  readonly root: unknown
  readonly leaves: unknown[]
  insert(leaf: bigint): void
  update(index: number, leaf: bigint): void
  createProof(index: number): { siblings: unknown[][]; pathIndices: number[] }
}
type ImtConstructor = new (hash: (nodes: unknown[]) => bigint, depth: number, zero: bigint, arity: number, leaves?: unknown[]) => Imt
const { IncrementalMerkleTree } = createRequire(import.meta.url)('@zk-kit/incremental-merkle-tree') as {
  IncrementalMerkleTree: ImtConstructor
}

export class AccountTree implements AccountView {
  readonly depth: number
  readonly capacity: number
  private imt: Imt
  private accounts: (Account | undefined)[] = []
  private readonly byKey = new Map<string, number>()
  private journalStack: JournalEntry[][] = []

  constructor(depth: number = DEFAULT_DEPTH) {
    assertInt('depth', depth, 1, MAX_DEPTH)
    this.depth = depth
    this.capacity = 2 ** depth
    this.imt = new IncrementalMerkleTree(nodeHash, treeLevels(depth), 0n, 4)
  }

  get root(): bigint {
    return this.imt.root as bigint
  }

  /** Leaf slots in use (accounts plus any zero padding below the highest account). */
  get size(): number {
    return this.accounts.length
  }

  tryGet(index: number): Account | undefined {
    if (!Number.isSafeInteger(index) || index < 0) return undefined
    return this.accounts[index]
  }

  get(index: number, field = 'index'): Account {
    assertInt(field, index, 0, this.capacity - 1)
    const a = this.accounts[index]
    if (a === undefined) throw new RollupError('UNKNOWN_ACCOUNT', `no account at index ${index}`, { field })
    return a
  }

  /** First index holding this public key, if any. */
  indexOfKey(pk: PublicKey): number | undefined {
    return this.byKey.get(publicKeyId(pk))
  }

  /** The index a new account gets: the next leaf after the highest used one. */
  nextFreeIndex(): number {
    if (this.accounts.length >= this.capacity) throw new RollupError('TREE_FULL', `all ${this.capacity} leaves are used`)
    return this.accounts.length
  }

  /** Siblings and positions of `index` (an empty index beyond the current size is padded first; the root does not change). */
  path(index: number): MerklePath {
    assertInt('index', index, 0, this.capacity - 1)
    this.pad(index)
    const proof = this.imt.createProof(index)
    return {
      siblings: proof.siblings.map((s) => (s as bigint[]).slice()),
      positions: proof.pathIndices.map(Number),
    }
  }

  /** Writes an account at `index` (creating it when the leaf is empty). */
  set(index: number, account: Account): void {
    assertInt('index', index, 0, this.capacity - 1)
    if (account.balance < 0n || account.balance > MAX_BALANCE)
      throw new RollupError('BALANCE_OVERFLOW', `balance ${account.balance} outside [0, 2^128)`, { field: 'balance' })
    const before = this.accounts[index]
    if (before !== undefined && publicKeyId(before.publicKey) !== publicKeyId(account.publicKey))
      throw new InvalidInputError('account.publicKey', `index ${index} belongs to another key`)
    const top = this.journalStack[this.journalStack.length - 1]
    top?.push({ index, before, sizeBefore: this.accounts.length })
    this.pad(index)
    this.imt.update(index, leafHash(account))
    this.accounts[index] = account
    const id = publicKeyId(account.publicKey)
    if (!this.byKey.has(id)) this.byKey.set(id, index)
  }

  private pad(index: number): void {
    while ((this.imt.leaves as bigint[]).length <= index) this.imt.insert(0n)
    while (this.accounts.length <= index) this.accounts.push(undefined)
  }

  /** Starts recording changes; `rollback()` undoes them, `commit()` keeps them. Nests. */
  begin(): void {
    this.journalStack.push([])
  }

  commit(): void {
    const top = this.journalStack.pop()
    if (top === undefined) throw new InvalidInputError('journal', 'commit without begin')
    this.journalStack[this.journalStack.length - 1]?.push(...top)
  }

  /** Keeps the changes recorded by the oldest open journal (the bottom of the stack): they can no longer be rolled back. */
  keepOldest(): void {
    if (this.journalStack.length === 0) throw new InvalidInputError('journal', 'keepOldest without begin')
    this.journalStack.shift()
  }

  rollback(): void {
    const top = this.journalStack.pop()
    if (top === undefined) throw new InvalidInputError('journal', 'rollback without begin')
    for (let i = top.length - 1; i >= 0; i--) {
      const e = top[i] as JournalEntry
      const current = this.accounts[e.index]
      if (e.before === undefined) {
        this.imt.update(e.index, 0n)
        this.accounts[e.index] = undefined
        if (current !== undefined && this.byKey.get(publicKeyId(current.publicKey)) === e.index)
          this.byKey.delete(publicKeyId(current.publicKey))
      } else {
        this.imt.update(e.index, leafHash(e.before))
        this.accounts[e.index] = e.before
      }
    }
    // Zero leaves appended to the IMT meanwhile stay (they do not change the
    // root); the account list shrinks back so the next free index is unchanged.
    const first = top[0]
    if (first !== undefined && this.accounts.length > first.sizeBefore) this.accounts.length = first.sizeBefore
  }

  /** Every account, by index. */
  *entries(): IterableIterator<[number, Account]> {
    for (let i = 0; i < this.accounts.length; i++) {
      const a = this.accounts[i]
      if (a !== undefined) yield [i, a]
    }
  }

  /** Sum of all balances (conservation checks). */
  totalBalance(): bigint {
    let sum = 0n
    for (const [, a] of this.entries()) sum += a.balance
    return sum
  }

  /** An independent copy (rebuilds the IMT from the leaves). */
  clone(): AccountTree {
    const t = new AccountTree(this.depth)
    t.imt = new IncrementalMerkleTree(nodeHash, treeLevels(this.depth), 0n, 4, this.imt.leaves as bigint[])
    t.accounts = [...this.accounts]
    for (const [k, v] of this.byKey) t.byKey.set(k, v)
    return t
  }
}

/**
 * Pending changes over a base view, without any hashing: what the sequencer
 * validates admissions against, and how it probes which ops fit a batch.
 */
export class OverlayView implements AccountView {
  readonly depth: number
  readonly capacity: number
  private readonly changed = new Map<number, Account>()
  private readonly keys = new Map<string, number>()
  private nextFree: number

  constructor(private readonly base: AccountView) {
    this.depth = base.depth
    this.capacity = base.capacity
    this.nextFree = safeNextFree(base)
  }

  tryGet(index: number): Account | undefined {
    return this.changed.get(index) ?? this.base.tryGet(index)
  }

  get(index: number, field = 'index'): Account {
    assertInt(field, index, 0, this.capacity - 1)
    const a = this.tryGet(index)
    if (a === undefined) throw new RollupError('UNKNOWN_ACCOUNT', `no account at index ${index}`, { field })
    return a
  }

  indexOfKey(pk: PublicKey): number | undefined {
    return this.keys.get(publicKeyId(pk)) ?? this.base.indexOfKey(pk)
  }

  nextFreeIndex(): number {
    if (this.nextFree >= this.capacity) throw new RollupError('TREE_FULL', `all ${this.capacity} leaves are used`)
    return this.nextFree
  }

  set(index: number, account: Account): void {
    this.changed.set(index, account)
    const id = publicKeyId(account.publicKey)
    if (this.indexOfKey(account.publicKey) === undefined) this.keys.set(id, index)
    if (index >= this.nextFree) this.nextFree = index + 1
  }
}

function safeNextFree(view: AccountView): number {
  try {
    return view.nextFreeIndex()
  } catch {
    return view.capacity
  }
}

/** Recomputes a root from a leaf and its path (the circuit's QuadMerkleUpdate, in JS). */
export function rootFromPath(leaf: bigint, path: MerklePath): bigint {
  let cur = leaf
  for (let i = 0; i < path.siblings.length; i++) {
    const [s0, s1, s2] = path.siblings[i] as bigint[]
    const p = path.positions[i]
    if (s0 === undefined || s1 === undefined || s2 === undefined) throw new InvalidInputError(`path.siblings[${i}]`, 'expected 3 siblings')
    if (p === 0) cur = hash4(cur, s0, s1, s2)
    else if (p === 1) cur = hash4(s0, cur, s1, s2)
    else if (p === 2) cur = hash4(s0, s1, cur, s2)
    else if (p === 3) cur = hash4(s0, s1, s2, cur)
    else throw new InvalidInputError(`path.positions[${i}]`, 'expected 0, 1, 2 or 3')
  }
  return cur
}
