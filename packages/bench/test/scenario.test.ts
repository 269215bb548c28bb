import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ScenarioError, listScenarioNames, loadScenario, parseAmount, parseScenario, parseScenarioYaml } from '../src/index.ts'

function rejects(fn: () => unknown, field: string, messagePart?: RegExp): ScenarioError {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof ScenarioError, `expected ScenarioError, got ${String(err)}`)
    assert.equal(err.field, field)
    if (messagePart !== undefined) assert.match(err.message, messagePart)
    return err
  }
  assert.fail('expected a ScenarioError')
}

const base = 'name: t\nusers: 10\npayments: 100\n'

test('a minimal scenario gets the documented defaults', () => {
  const s = parseScenarioYaml(base)
  assert.equal(s.seed, 1)
  assert.equal(s.pairs.count, 'all')
  assert.deepEqual(s.arrival, { kind: 'poisson', ratePerSecond: 10 })
  assert.equal(s.capital.userBalance, 1000n * 10n ** 18n)
  assert.deepEqual(s.designs, ['l1', 'channel', 'paych', 'htlc', 'virtual', 'rollup'])
})

test('errors name the bad key path and its line', () => {
  const e = rejects(() => parseScenarioYaml(`${base}arrival:\n  kind: poisson\n  ratePerSecond: -3\n`, { file: 'x.yaml' }), 'arrival.ratePerSecond', /> 0/)
  assert.match(e.message, /x\.yaml:6/)
  rejects(() => parseScenarioYaml(`${base}pairs:\n  cont: 3\n`), 'pairs.cont', /unknown key.*count/)
  rejects(() => parseScenarioYaml(`${base}amounts: { kind: gaussian }\n`), 'amounts.kind')
  rejects(() => parseScenarioYaml(`${base}amounts: { kind: fixed, value: "3 bananas" }\n`), 'amounts.value', /amount/)
  rejects(() => parseScenarioYaml(`${base}amounts: { kind: uniform, min: 10, max: 5 }\n`), 'amounts.max', /≥ amounts.min/)
  rejects(() => parseScenarioYaml('name: t\nusers: 1\npayments: 5\n'), 'users', /≥ 2/)
  rejects(() => parseScenarioYaml('name: t\nusers: 4\npayments: 5\npairs: { count: 7 }\n'), 'pairs.count', /only 6 pairs/)
  rejects(() => parseScenarioYaml(`${base}designs: [l1, lightning]\n`), 'designs.1')
  rejects(() => parseScenarioYaml(`${base}sweeps: { payments: [10, 2.5] }\n`), 'sweeps.payments.1', /integer/)
  rejects(() => parseScenarioYaml(`${base}designOptions: { zk: {} }\n`), 'designOptions.zk', /unknown key — allowed here: l1, channel, paych, htlc, virtual, rollup/)
  rejects(() => parseScenarioYaml(`${base}limits: { zk: 5 }\n`), 'limits.zk', /allowed here: l1, channel/)
  rejects(() => parseScenarioYaml('name: t\npayments: 5\n'), 'users', /required/)
  rejects(() => parseScenarioYaml('users: [\n'), '(yaml)')
  rejects(() => parseScenario([1, 2]), '(root)')
})

test('quick overrides are deep-merged and validated like the rest', () => {
  const text = `${base}pairs: { count: 5, direction: forward }\nquick:\n  payments: 7\n  pairs: { count: 3 }\n`
  const full = parseScenarioYaml(text)
  const quick = parseScenarioYaml(text, { quick: true })
  assert.equal(full.payments, 100)
  assert.equal(quick.payments, 7)
  assert.equal(quick.pairs.count, 3)
  assert.equal(quick.pairs.direction, 'forward')
  rejects(() => parseScenarioYaml(`${base}quick:\n  payments: 0\n`, { quick: true }), 'payments')
})

test('amounts accept wei, gwei and eth', () => {
  assert.equal(parseAmount('123'), 123n)
  assert.equal(parseAmount('1.5 gwei'), 1_500_000_000n)
  assert.equal(parseAmount('0.001 eth'), 10n ** 15n)
  assert.equal(parseAmount(42), 42n)
  assert.equal(parseAmount('1.5 wei'), undefined)
  assert.equal(parseAmount('-1'), undefined)
  assert.equal(parseAmount(1.5), undefined)
})

test('every committed scenario validates, full and quick', () => {
  const names = listScenarioNames()
  assert.ok(names.includes('default'))
  for (const name of names) {
    const full = loadScenario(name)
    const quick = loadScenario(name, { quick: true })
    assert.equal(full.name, name)
    assert.ok(quick.payments <= full.payments, `${name}: quick should not be bigger`)
  }
  rejects(() => loadScenario('no-such-scenario'), 'scenario', /known: .*default/)
})
