/**
 * Starting a worker thread on a sibling module, from source or from dist.
 *
 * From source (.ts, run through tsx), Node 20 does not apply the parent's
 * `--import tsx` hooks inside workers, so a tiny bootstrap registers tsx first
 * and then imports the module. After `tsc`, the sibling is plain .js and is
 * started directly. `moduleUrl` names the .ts sibling; `fromUrl` is the
 * caller's `import.meta.url` (it tells which of the two worlds we are in).
 */
import { Worker, type WorkerOptions } from 'node:worker_threads'
import { InvalidInputError } from './errors.ts'

export function startWorker(moduleUrl: URL, fromUrl: string, options: WorkerOptions = {}): Worker {
  if (!(moduleUrl instanceof URL)) throw new InvalidInputError('moduleUrl', 'expected a URL')
  if (!fromUrl.endsWith('.ts')) return new Worker(new URL(moduleUrl.href.replace(/\.ts$/, '.js')), options)
  const api = import.meta.resolve('tsx/esm/api')
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(moduleUrl.href)}) })`
  return new Worker(boot, { ...options, eval: true })
}
