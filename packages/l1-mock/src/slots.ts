/**
 * How a stored value maps onto 32-byte EVM slots, so the host prices storage
 * per slot exactly as the EVM does (gas.ts): which slots a read touches,
 * which ones a write changes, whether a slot held zero.
 *
 * A contract keeps plain JS values under string keys; a SlotLayout says what
 * the Solidity port keeps in its slots for that value: one entry per slot,
 * each the list of fields packed into it. A slot whose fields are all zero
 * (0, 0n, false, undefined, the zero address, all-zero bytes) is an empty
 * slot, as on the EVM, where "zero-valued" and "never written" are the same.
 */

/** The fields packed into one slot. */
export type SlotFields = readonly unknown[]

/** The slots a value occupies (`undefined` = the key was cleared or never written: no slots). */
export type SlotLayout<T = never> = (value: T) => readonly SlotFields[]

/** A slot's content, normalised for comparison: '' is the empty (zero) slot. */
export type SlotWord = string

function part(v: unknown): string {
  if (v === undefined || v === null || v === false || v === 0 || v === 0n || v === '') return ''
  if (v === true) return '1'
  if (typeof v === 'number' || typeof v === 'bigint') return String(v)
  if (typeof v === 'string') return /^0x0*$/i.test(v) ? '' : v.toLowerCase()
  if (v instanceof Uint8Array) {
    for (const b of v) if (b !== 0) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')
    return ''
  }
  if (Array.isArray(v)) {
    const ps = v.map(part)
    return ps.every((p) => p === '') ? '' : `[${ps.join(',')}]`
  }
  if (typeof v === 'object') {
    const entries = Object.keys(v as object)
      .sort()
      .map((k) => [k, part((v as Record<string, unknown>)[k])] as const)
    return entries.every(([, p]) => p === '') ? '' : `{${entries.map(([k, p]) => `${k}:${p}`).join(',')}}`
  }
  return String(v)
}

/** The normalised word of one slot's fields ('' when every field is zero). */
export function slotWord(fields: SlotFields): SlotWord {
  const ps = fields.map(part)
  return ps.every((p) => p === '') ? '' : ps.join('|')
}

/**
 * The words of `value` under `layout`; without a layout a value is one slot
 * (`slots` > 1: that many slots, each holding the value, for a caller that
 * only knows the count).
 */
export function slotWords(value: unknown, layout: SlotLayout<never> | number | undefined): SlotWord[] {
  if (value === undefined) return []
  if (typeof layout === 'function') return (layout as SlotLayout<unknown>)(value).map(slotWord)
  const w = slotWord([value])
  return new Array<SlotWord>(layout ?? 1).fill(w)
}

/** A layout that occupies no slot: data the host keeps beside the contract that the EVM port does not store (see its use). */
export const NO_SLOTS: SlotLayout<unknown> = () => []
