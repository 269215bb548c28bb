/**
 * anvil's lifetime: it starts on a free loopback port, stops on request, and
 * never outlives the process that started it, however that process ends
 * (exit, crash, SIGINT, SIGTERM, SIGKILL). A node that cannot start, or dies
 * mid-run, fails every call at once with a typed error naming the cause.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, test } from 'node:test'
import { NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import { Wallet } from '@l2bench/l1-mock'
import { AnvilError, EvmL1, SyncRpc, rpcCall, startAnvil } from '../src/index.ts'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function gone(pid: number, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (!alive(pid)) return true
    await new Promise((r) => setTimeout(r, 50))
  }
  return !alive(pid)
}

const child = fileURLToPath(new URL('./fixtures/anvil-child.ts', import.meta.url))

/** Runs the fixture, which starts anvil and prints its pids; then ends it `how`. */
async function runChild(how: 'exit' | 'throw' | 'SIGINT' | 'SIGTERM' | 'SIGKILL'): Promise<{ shell: number; anvil: number }> {
  const mode = how.startsWith('SIG') ? 'wait' : how
  const p = spawn(process.execPath, ['--conditions=@l2bench/source', '--import', 'tsx', child, mode], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const pids = await new Promise<{ shell: number; anvil: number }>((resolve, reject) => {
    p.stdout.on('data', (d) => {
      out += d
      const line = out.split('\n').find((l) => l.startsWith('{'))
      if (line !== undefined) resolve(JSON.parse(line))
    })
    p.on('exit', (code) => reject(new Error(`fixture exited (${code}) before printing pids: ${out}`)))
  })
  assert.ok(alive(pids.anvil), 'anvil runs while its parent does')
  if (how.startsWith('SIG')) p.kill(how as NodeJS.Signals)
  await new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(null) : p.once('exit', r)))
  return pids
}

describe('anvil process', () => {
  test('starts on a free loopback port, answers, stops on request', async () => {
    const a = await startAnvil()
    const b = await startAnvil()
    assert.notEqual(a.port, b.port)
    assert.match(a.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(await rpcCall(a, 'eth_chainId', []), '0x7a69')
    const sync = new SyncRpc(b)
    assert.equal(sync.call('eth_blockNumber', []), '0x0')
    await sync.close()
    await Promise.all([a.stop(), b.stop()])
    assert.ok(a.exited && b.exited)
    assert.ok(!alive(a.pid) && !alive(b.pid))
  })

  test('no orphan when the parent ends by exit, a crash, SIGINT, SIGTERM or SIGKILL', async () => {
    // In parallel: each parent is a fresh tsx process, slow to start on a busy machine.
    await Promise.all(
      (['exit', 'throw', 'SIGINT', 'SIGTERM', 'SIGKILL'] as const).map(async (how) => {
        const { shell, anvil } = await runChild(how)
        assert.ok(await gone(anvil), `anvil ${anvil} still runs after its parent ended by ${how}`)
        assert.ok(await gone(shell), `watchdog ${shell} still runs after its parent ended by ${how}`)
      }),
    )
  })

  test('a node that cannot start: typed error naming the cause, no hang', async () => {
    await assert.rejects(startAnvil({ hardfork: 'nosuchfork' }), (e: unknown) => {
      assert.ok(e instanceof AnvilError)
      assert.equal(e.code, 'ANVIL_START_FAILED')
      assert.match(e.message, /exit code 1/)
      assert.match(e.message, /nosuchfork/i)
      return true
    })
    await assert.rejects(startAnvil({ binary: '/nonexistent/anvil' }), (e: unknown) => {
      assert.ok(e instanceof AnvilError && e.code === 'ANVIL_START_FAILED')
      assert.match(e.message, /not found/)
      return true
    })
    // A binary that never listens: the start timeout fires (and the process is killed).
    const silent = join(mkdtempSync(join(tmpdir(), 'l2bench-anvil-')), 'silent')
    writeFileSync(silent, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 })
    await assert.rejects(startAnvil({ binary: silent, startTimeoutMs: 300 }), (e: unknown) => {
      assert.ok(e instanceof AnvilError && e.code === 'ANVIL_START_FAILED')
      assert.match(e.message, /within 300 ms/)
      return true
    })
  })

  test('a node that dies mid-run: pending receipts, async and sync calls fail with ANVIL_DIED', async () => {
    const l1 = await EvmL1.start({ autoMine: false })
    const w = new Wallet(new NodeSigner(secretKeyFromSeed('evm-died')), l1)
    await l1.mint(w.address, 10n ** 18n)
    const hash = await w.sendRaw(w.address, new Uint8Array(), { value: 1n, gasLimit: 21_000n })
    const pending = l1.receipt(hash)
    // Kill anvil itself (not the watchdog): the crash the backend must notice.
    const { execFileSync } = await import('node:child_process')
    const anvilPid = Number(execFileSync('pgrep', ['-P', String(l1.node.pid), '-x', 'anvil'], { encoding: 'utf8' }).trim())
    process.kill(anvilPid, 'SIGKILL')
    const isDied = (e: unknown) => {
      assert.ok(e instanceof AnvilError, String(e))
      assert.equal(e.code, 'ANVIL_DIED')
      assert.match(e.message, /SIGKILL|exit code|unreachable/)
      return true
    }
    await assert.rejects(pending, isDied)
    await assert.rejects(l1.mine(1), isDied)
    assert.throws(() => l1.balanceOf(w.address), isDied)
    await l1.stop()
  })
})
