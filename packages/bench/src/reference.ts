/**
 * The options reference, generated from the zod schemas themselves (the
 * scenario schema, which includes every design's options), so it cannot
 * drift from what the loader accepts: `l2bench list --options` prints it and
 * `l2bench docs --options` writes docs/options.md (a test checks that file is
 * current).
 */
import { DESIGN_NAMES, scenarioSchema } from './scenario.ts'

export interface OptionRow {
  /** Dotted key path; `amounts(kind: fixed).value` inside a discriminated union. */
  key: string
  type: string
  default: string
  description: string
}

// biome-ignore lint/suspicious/noExplicitAny: walking zod's internal definition tree
type Node = any

function fmtValue(v: unknown): string {
  if (typeof v === 'bigint') return `"${v}"`
  if (v === undefined) return ''
  return JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x))
}

/** Lower and upper bounds of a number schema from its checks. */
function numberType(node: Node): string {
  const checks: Node[] = node._zod.def.checks ?? []
  let int = false
  const bounds: string[] = []
  for (const c of checks) {
    const d = c._zod.def
    if (d.check === 'number_format' && /int/.test(d.format)) int = true
    else if (d.check === 'greater_than') bounds.push(`${d.inclusive ? '≥' : '>'} ${d.value}`)
    else if (d.check === 'less_than') bounds.push(`${d.inclusive ? '≤' : '<'} ${d.value}`)
  }
  return `${int ? 'integer' : 'number'}${bounds.length > 0 ? ` ${bounds.join(', ')}` : ''}`
}

interface Unwrapped {
  node: Node
  default?: unknown
  optional: boolean
  description?: string
  amount: boolean
}

function unwrap(node: Node): Unwrapped {
  const out: Unwrapped = { node, optional: false, amount: false }
  for (let i = 0; i < 20; i++) {
    if (out.description === undefined && typeof node?.description === 'string') out.description = node.description
    const d = node?._zod?.def
    if (d === undefined) break
    if (d.type === 'default' || d.type === 'prefault') {
      if (!('default' in out)) out.default = typeof d.defaultValue === 'function' ? d.defaultValue() : d.defaultValue
      node = d.innerType
    } else if (d.type === 'optional') {
      out.optional = true
      node = d.innerType
    } else if (d.type === 'pipe') {
      // amounts: a string/number union piped into a transform to bigint wei
      if (d.out?._zod?.def?.type === 'transform') out.amount = true
      node = d.in
    } else break
  }
  out.node = node
  return out
}

function typeOf(u: Unwrapped): string {
  if (u.amount) return 'amount ("1000", "2.5 gwei", "0.01 eth")'
  const d = u.node._zod.def
  switch (d.type) {
    case 'string':
      return 'string'
    case 'boolean':
      return 'boolean'
    case 'number':
      return numberType(u.node)
    case 'enum':
      return Object.values(d.entries)
        .map((v) => JSON.stringify(v))
        .join(' | ')
    case 'literal':
      return d.values.map((v: unknown) => JSON.stringify(v)).join(' | ')
    case 'array':
      return `list of ${typeOf(unwrap(d.element))}`
    case 'union':
      return d.options.map((o: Node) => typeOf(unwrap(o))).join(' | ')
    case 'record':
      return `map of ${typeOf(unwrap(d.keyType))} → ${typeOf(unwrap(d.valueType))}`
    case 'object':
      return 'mapping'
    default:
      return d.type
  }
}

function walk(node: Node, key: string, rows: OptionRow[], inherited?: Unwrapped): void {
  const u = inherited ?? unwrap(node)
  const d = u.node._zod.def
  const dflt = 'default' in u ? fmtValue(u.default) : u.optional ? '(none)' : key === '' ? '' : '(required)'
  if (d.type === 'object') {
    if (key !== '') rows.push({ key, type: 'mapping', default: Object.keys(d.shape).length === 0 ? '{}' : '', description: u.description ?? '' })
    for (const [k, child] of Object.entries(d.shape)) walk(child, key === '' ? k : `${key}.${k}`, rows)
    return
  }
  // A discriminated union of mappings: one block per kind.
  if (d.type === 'union' && d.options.every((o: Node) => unwrap(o).node._zod.def.type === 'object' && unwrap(o).node._zod.def.shape.kind !== undefined)) {
    rows.push({ key, type: `one of kind: ${d.options.map((o: Node) => typeOf(unwrap(unwrap(o).node._zod.def.shape.kind))).join(' | ')}`, default: dflt, description: u.description ?? '' })
    for (const o of d.options) {
      const shape = unwrap(o).node._zod.def.shape
      const kind = unwrap(shape.kind).node._zod.def.values[0]
      for (const [k, child] of Object.entries(shape)) if (k !== 'kind') walk(child, `${key}(kind: ${kind}).${k}`, rows)
    }
    return
  }
  rows.push({ key, type: typeOf(u), default: dflt, description: u.description ?? '' })
}

/** Every scenario key, design options included, in schema order. */
export function optionRows(): OptionRow[] {
  const rows: OptionRow[] = []
  walk(scenarioSchema, '', rows)
  return rows
}

export function optionsText(): string {
  const rows = optionRows()
  const w = Math.min(48, Math.max(...rows.map((r) => r.key.length)))
  const out = ['Scenario keys (benchmarks/*.yaml; `quick:` holds overrides for --quick). Per-design options go under designOptions.<design>.', '']
  for (const r of rows) {
    out.push(`  ${r.key.padEnd(w)}  ${r.type}${r.default === '' ? '' : r.default.startsWith('(') ? `  ${r.default}` : `  [default ${r.default}]`}`)
    if (r.description !== '') out.push(`  ${' '.repeat(w)}    ${r.description}`)
  }
  return `${out.join('\n')}\n`
}

const esc = (s: string) => s.replace(/\|/g, '\\|')

export function optionsMarkdown(): string {
  const rows = optionRows()
  const general = rows.filter((r) => !r.key.startsWith('designOptions'))
  const out = [
    '# Scenario and design options',
    '',
    '<!-- Generated by `l2bench docs --options` from the zod schemas in packages/bench/src/scenario.ts and',
    '     packages/bench/src/designs/options.ts. Do not edit: a test fails when this file is out of date. -->',
    '',
    'A scenario is a YAML file (`benchmarks/<name>.yaml`, or any path given to `--scenario`). Unknown keys are',
    'errors (with a "did you mean"), every error names the key path and its line. `quick:` holds overrides',
    'deep-merged over the scenario for `--quick`. Amounts are wei, or a number with a unit: `"2.5 gwei"`, `"0.01 eth"`.',
    '`l2bench list --options` prints this reference in the terminal.',
    '',
    '## Scenario keys',
    '',
    '| key | type | default | description |',
    '|---|---|---|---|',
    ...general.map((r) => `| \`${esc(r.key)}\` | ${esc(r.type)} | ${r.default === '' ? '' : `\`${esc(r.default)}\``} | ${esc(r.description)} |`),
    '',
  ]
  for (const design of DESIGN_NAMES) {
    const prefix = `designOptions.${design}`
    const mine = rows.filter((r) => r.key.startsWith(`${prefix}.`))
    const self = rows.find((r) => r.key === prefix)
    out.push(`## \`${prefix}\``, '')
    if (self?.description) out.push(self.description, '')
    if (mine.length > 0) {
      out.push('| key | type | default | description |', '|---|---|---|---|')
      for (const r of mine) out.push(`| \`${esc(r.key.slice(prefix.length + 1))}\` | ${esc(r.type)} | \`${esc(r.default)}\` | ${esc(r.description)} |`)
      out.push('')
    }
  }
  return out.join('\n')
}
