import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fmtEta, plainProgress, stageEvents, streamProgress, ttyProgress } from '../src/progress.ts'

function sink(isTTY: boolean) {
  const out = { text: '', isTTY, columns: 120, write: (s: string) => (out.text += s) }
  return out
}

test('not a TTY (CI): plain lines with count, percent and ETA, at most every tenth, no escape codes', () => {
  const out = sink(false)
  let now = 0
  const p = streamProgress(out, { now: () => now })
  const t = p.task('[rollup] payments', 100)
  for (let i = 1; i <= 100; i++) {
    now += 100 // 0.1 s per item
    t.update(i)
  }
  t.end('10/s wall')
  const lines = out.text.trimEnd().split('\n')
  assert.ok(!out.text.includes('\u001b') && !out.text.includes('\r'), 'no escape codes')
  assert.equal(lines[0], '[rollup] payments 0/100 (0 %)')
  assert.match(lines[1]!, /^\[rollup\] payments 10\/100 \(10 %\) · ETA 9 s$/)
  assert.ok(lines.length <= 12, `one line per tenth at most, got ${lines.length}`)
  assert.match(lines.at(-1)!, /^\[rollup\] payments 100\/100 \(100 %\) done in 10\.0 s — 10\/s wall$/)
  assert.equal(new Set(lines).size, lines.length, 'no line twice')
})

test('not a TTY: a task over in under a second prints nothing, or only its end line when it has a note', () => {
  const out = sink(false)
  let now = 0
  const p = plainProgress(out, { now: () => now })
  const t = p.task('setup', 1000)
  for (let i = 1; i <= 1000; i++) {
    now += 0.5 // the whole task takes 0.5 s
    t.update(i)
  }
  t.end()
  assert.equal(out.text, '', 'a sub-second step of a pipeline leaves no line')
  const u = p.task('[l1] payments', 10)
  now += 800
  u.update(10)
  u.end('12/s wall')
  assert.equal(out.text, '[l1] payments 10/10 (100 %) done in 800 ms — 12/s wall\n')
})

test('not a TTY: a task that runs over a second shows its start, even with no update before its end', () => {
  const out = sink(false)
  let now = 0
  const p = plainProgress(out, { now: () => now })
  const t = p.task('circuit setup: zkey C', 4)
  now += 5000 // one synchronous step, no update
  t.end()
  assert.deepEqual(out.text.trimEnd().split('\n'), ['circuit setup: zkey C 0/4 (0 %)', 'circuit setup: zkey C 0/4 (0 %) done in 5.0 s'])
})

test('not a TTY, real clock: a running task prints its start line after a second without an update', async () => {
  const out = sink(false)
  const p = plainProgress(out)
  const t = p.task('proving batches', 2)
  assert.equal(out.text, '')
  await new Promise((r) => setTimeout(r, 1300))
  assert.equal(out.text, 'proving batches 0/2 (0 %)\n')
  t.end()
  assert.match(out.text, /proving batches 0\/2 \(0 %\) done in 1\.\d s\n$/)
})

test('on a TTY: one bar redrawn in place with count, percent and ETA; messages scroll above it', () => {
  const out = sink(true)
  let now = 0
  const p = ttyProgress(out, { now: () => now })
  const t = p.task('circuit ptau: tauG1', 40)
  now = 1000
  t.update(10)
  p.line('a message')
  now = 2000
  t.update(20)
  t.end()
  assert.ok(out.text.includes('\r\u001b[2K'), 'redrawn in place')
  assert.match(out.text, /circuit ptau: tauG1 █+░+ 10\/40 \(25 %\) · ETA 3 s/)
  assert.match(out.text, /a message\n/)
  assert.match(out.text, /circuit ptau: tauG1 20\/40 \(50 %\) done in 2\.0 s\n$/)
})

test('pipeline events: repeated counted steps update one bar instead of repeating a line', () => {
  const out = sink(false)
  let now = 0
  const p = plainProgress(out, { now: () => now })
  const ev = stageEvents(p, 'circuit ')
  for (let i = 0; i <= 4; i++) {
    now += 2000
    ev({ stage: 'ptau', message: 'tauG1', done: i, total: 4 })
  }
  ev({ stage: 'setup', message: 'zkey written' })
  ev.close()
  const lines = out.text.trimEnd().split('\n')
  assert.equal(lines.filter((l) => l.startsWith('circuit ptau: tauG1 ')).length, 5, out.text) // start, 25/50/75 %, end
  assert.match(lines[1]!, /1\/4 \(25 %\) · ETA 6 s/)
  assert.match(out.text, /4\/4 \(100 %\) done in/)
  assert.equal(lines.at(-1), 'circuit setup: zkey written')
})

test('ETA formatting', () => {
  assert.equal(fmtEta(400), '1 s')
  assert.equal(fmtEta(12_400), '12 s')
  assert.equal(fmtEta(150_000), '2.5 min')
  assert.equal(fmtEta(Number.NaN), '?')
})
