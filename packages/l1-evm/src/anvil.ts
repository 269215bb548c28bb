/**
 * Starting and stopping anvil, the EVM node that ships inside the npm package
 * `@foundry-rs/anvil` (its platform sub-package holds the binary).
 *
 * Lifetime: anvil must never outlive the process that started it. Three
 * mechanisms cover every way that process can end:
 *  1. `stop()`: SIGTERM to the node, SIGKILL after a grace period.
 *  2. A synchronous `exit` hook (normal exit, process.exit, an uncaught
 *     exception) that SIGKILLs every node still running.
 *  3. A watchdog for the ends no hook sees (SIGINT, SIGTERM, SIGKILL of the
 *     parent): anvil runs under a tiny `sh` that holds a pipe from the parent
 *     on its stdin; when the parent dies, the kernel closes the pipe, the read
 *     returns and the shell kills anvil.
 * The shell and anvil run in their own process group (so a Ctrl-C in the
 * terminal reaches only the parent, which then ends them through 3).
 *
 * Failure: a node that exits before it listens, or prints no address within
 * `startTimeoutMs`, rejects with AnvilError ANVIL_START_FAILED naming the exit
 * code or signal and the last lines it printed. A node that dies later is
 * reported through `onExit` (the backend fails every call with ANVIL_DIED).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { InvalidInputError, assertInt } from '@l2bench/core'
import { AnvilError } from './errors.ts'

export interface AnvilOptions {
  /** Default 31337. */
  chainId?: bigint
  /** Timestamp of block 0 (default 1,700,000,000, the mock's). */
  genesisTimestamp?: number
  /** Block gas limit (default 30,000,000, the mock's). */
  gasLimit?: number
  /** EVM hardfork (default `osaka`; the Solidity sources are compiled for the same). */
  hardfork?: string
  /** How long to wait for the listening address (default 20 s). */
  startTimeoutMs?: number
  /** Path of the anvil binary (default: the one in node_modules). */
  binary?: string
  /** Record every step, for geth-style opcode traces (debug_traceTransaction's structLogs); slower. */
  stepsTracing?: boolean
}

export interface AnvilExit {
  code: number | null
  signal: NodeJS.Signals | null
  /** The last lines anvil printed. */
  output: string
}

export interface AnvilProcess {
  readonly url: string
  readonly port: number
  /** Process id of the watchdog shell (anvil is its child, in the same process group). */
  readonly pid: number
  /** Set once the process has exited. */
  readonly exited: AnvilExit | undefined
  /** Called once when the process exits (also after `stop`). */
  onExit(listener: (exit: AnvilExit) => void): void
  /** The last lines anvil printed (for error messages). */
  output(): string
  /**
   * Keeps the parent's event loop alive while something waits on anvil (so
   * its exit is noticed and the waiter fails), or lets it go (the default).
   */
  hold(on: boolean): void
  /** Stops anvil; resolves once it has exited. */
  stop(): Promise<void>
}

export const DEFAULT_HARDFORK = 'osaka'

/** The version of the npm package `@foundry-rs/anvil` in use (the binary's release). */
export function anvilVersion(): string {
  return (createRequire(import.meta.url)('@foundry-rs/anvil/package.json') as { version: string }).version
}

/** Runs anvil in the background, kills it when stdin (the parent's pipe) closes, exits with anvil's status. */
const WATCHDOG = `"$0" "$@" &
pid=$!
exec 3<&0
( read -r _ <&3; kill "$pid" 2>/dev/null ) &
watcher=$!
wait "$pid"
status=$?
kill "$watcher" 2>/dev/null
exit "$status"`

const live = new Set<ChildProcess>()
let exitHookInstalled = false

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const child of live) killGroup(child, 'SIGKILL')
  })
}

/** The anvil binary shipped by @foundry-rs/anvil's platform package. */
export function anvilBinary(): string {
  const os = process.platform === 'win32' ? 'win32' : process.platform
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  const pkg = `@foundry-rs/anvil-${os}-${arch}`
  let dir: string
  try {
    dir = dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`))
  } catch (cause) {
    throw new AnvilError('ANVIL_NOT_FOUND', `${pkg} is not installed (platform ${process.platform}/${process.arch}); run npm install`, {
      cause,
    })
  }
  const binary = join(dir, 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil')
  if (!existsSync(binary)) throw new AnvilError('ANVIL_NOT_FOUND', `${binary} is missing from ${pkg}`)
  return binary
}

class Tail {
  private lines: string[] = []
  private partial = ''
  constructor(private readonly max = 12) {}
  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n')
    this.partial = parts.pop() ?? ''
    // anvil prints every RPC method it serves; those lines say nothing about a failure.
    for (const l of parts) if (l.trim() !== '' && !/^\s*([a-z]+_[A-Za-z0-9]+|=+)\s*$/.test(l)) this.lines.push(l)
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max)
  }
  text(): string {
    return [...this.lines, ...(this.partial.trim() === '' ? [] : [this.partial])].join('\n')
  }
}

/** Starts anvil on a free loopback port (the OS picks it) with mining on demand only. */
export function startAnvil(options: AnvilOptions = {}): Promise<AnvilProcess> {
  const chainId = options.chainId ?? 31337n
  if (typeof chainId !== 'bigint' || chainId <= 0n) throw new InvalidInputError('chainId', 'expected a positive bigint')
  const genesisTimestamp = options.genesisTimestamp ?? 1_700_000_000
  assertInt('genesisTimestamp', genesisTimestamp, 0)
  const gasLimit = options.gasLimit ?? 30_000_000
  assertInt('gasLimit', gasLimit, 21_000)
  const hardfork = options.hardfork ?? DEFAULT_HARDFORK
  if (!/^[a-z]+$/.test(hardfork)) throw new InvalidInputError('hardfork', `expected a hardfork name, got ${JSON.stringify(hardfork)}`)
  const startTimeoutMs = options.startTimeoutMs ?? 20_000
  assertInt('startTimeoutMs', startTimeoutMs, 1)
  const binary = options.binary ?? anvilBinary()

  const args = [
    ...['--host', '127.0.0.1', '--port', '0'],
    '--no-mining',
    ...['--order', 'fifo'],
    ...['--hardfork', hardfork],
    ...['--chain-id', chainId.toString()],
    ...['--timestamp', String(genesisTimestamp)],
    ...['--gas-limit', String(gasLimit)],
    ...['--base-fee', '0'],
    '--disable-min-priority-fee',
    ...['--accounts', '0'],
    '--no-request-size-limit',
    ...(options.stepsTracing === true ? ['--steps-tracing'] : []),
  ]
  installExitHook()
  const child = spawn('/bin/sh', ['-c', WATCHDOG, binary, ...args], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] })
  live.add(child)
  const tail = new Tail()
  const listeners: Array<(exit: AnvilExit) => void> = []
  let exited: AnvilExit | undefined

  return new Promise<AnvilProcess>((resolve, reject) => {
    let ready = false
    const fail = (message: string, cause?: unknown) => {
      clearTimeout(timer)
      killGroup(child, 'SIGKILL')
      reject(new AnvilError('ANVIL_START_FAILED', message, { cause, details: { output: tail.text() } }))
    }
    const timer = setTimeout(() => {
      fail(`anvil printed no listening address within ${startTimeoutMs} ms; last output:\n${tail.text() || '(none)'}`)
    }, startTimeoutMs)

    child.on('error', (err) => {
      if (!ready) fail(`could not run ${binary}: ${err.message}`, err)
    })
    child.stderr?.setEncoding('utf8').on('data', (s: string) => tail.push(s))
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      tail.push(s)
      if (ready) return
      const m = /Listening on ([0-9.]+):(\d+)/.exec(tail.text())
      if (m === null) return
      ready = true
      clearTimeout(timer)
      const port = Number(m[2])
      // From here on the parent must be free to exit: nothing of the child keeps the loop alive.
      child.unref()
      for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.()
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        pid: child.pid as number,
        get exited() {
          return exited
        },
        onExit(listener) {
          if (exited !== undefined) listener(exited)
          else listeners.push(listener)
        },
        output: () => tail.text(),
        hold: (on) => (on ? child.ref() : child.unref()),
        stop: () => stopChild(child, () => exited !== undefined),
      })
    })
    child.on('exit', (code, signal) => {
      live.delete(child)
      exited = { code, signal, output: tail.text() }
      if (!ready) {
        fail(`anvil exited before listening (${describeExit(exited)}); last output:\n${tail.text() || '(none)'}`)
        return
      }
      for (const l of listeners.splice(0)) l(exited)
    })
  })
}

export function describeExit(exit: { code: number | null; signal: NodeJS.Signals | null }): string {
  return exit.signal !== null ? `killed by ${exit.signal}` : `exit code ${exit.code}`
}

function stopChild(child: ChildProcess, hasExited: () => boolean): Promise<void> {
  if (hasExited()) return Promise.resolve()
  return new Promise((resolve) => {
    const kill = setTimeout(() => killGroup(child, 'SIGKILL'), 3000)
    child.once('exit', () => {
      clearTimeout(kill)
      resolve()
    })
    child.stdin?.end()
    killGroup(child, 'SIGTERM')
  })
}
