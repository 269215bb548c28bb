/**
 * One channel party as its own OS process (spawned by tcp-e2e.test.ts): a
 * ChannelNode with a SQLite store, talking to the L1 over the parent's RPC
 * and to the other party over real TCP. Commands arrive over IPC.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Address, NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import { Wallet } from '@l2bench/l1-mock'
import { ChannelNode, type ReconnectingLink, SqliteStore, adjudicatorAt, tcpConnect, tcpListen } from '../../src/index.ts'
import { RpcL1 } from './rpc-l1.ts'

const [role, chainIdArg, adjudicatorArg] = process.argv.slice(2) as [string, string, Address]
const signer = new NodeSigner(secretKeyFromSeed(role))
const l1 = new RpcL1(BigInt(chainIdArg), signer.address)
const wallet = new Wallet(signer, l1)
const dir = mkdtempSync(join(tmpdir(), `pc-e2e-${role}-`))
const store = new SqliteStore(join(dir, 'node.db'))
// Both parties agree to deposit into the other's channel (the default accepts no deposit of our own).
const node = new ChannelNode({ signer, wallet, adjudicator: adjudicatorAt(adjudicatorArg), store, timeoutMs: 500, acceptLimits: { maxDeposit: 10n ** 20n } })
let received = 0n
node.on('payment', (e) => {
  received += e.amount
})
let client: ReconnectingLink | undefined
let channelId: `0x${string}` | undefined

type Cmd = { cmd: string; id: number; [k: string]: unknown }

process.on('message', async (m: unknown) => {
  const c = m as Cmd
  if (typeof c?.cmd !== 'string') return
  const reply = (ok: unknown, err?: string) => process.send?.({ reply: c.id, ok, err })
  try {
    switch (c.cmd) {
      case 'listen': {
        const server = await tcpListen({ port: 0 }, (link) => node.attach(link))
        return reply(server.port)
      }
      case 'connect': {
        client = tcpConnect('127.0.0.1', c.port as number)
        node.attach(client)
        return reply(true)
      }
      case 'open': {
        await node.whenConnected(c.peer as Address)
        channelId = await node.open({
          peer: c.peer as Address,
          peerPublicKey: c.peerPublicKey as Uint8Array,
          deposit: c.deposit as bigint,
          peerDeposit: c.peerDeposit as bigint,
          disputeWindow: 10,
        })
        return reply(channelId)
      }
      case 'pay': {
        const id = (channelId ?? node.channelIds()[0]) as `0x${string}`
        const jobs: Promise<bigint>[] = []
        for (let i = 0; i < (c.count as number); i++) jobs.push(node.pay({ channelId: id, amount: c.amount as bigint }))
        if (c.dropAfter !== undefined) {
          await jobs[c.dropAfter as number]
          client?.drop()
        }
        const versions = await Promise.all(jobs)
        return reply(versions.length)
      }
      case 'status': {
        const id = (channelId ?? node.channelIds()[0]) as `0x${string}`
        const s = node.status(id)
        return reply({ ...s, digest: node.latest(id).digest, received, errors: node.errors.length, reconnects: client?.reconnects ?? 0 })
      }
      case 'close': {
        const id = (channelId ?? node.channelIds()[0]) as `0x${string}`
        const r = await node.closeCooperative({ channelId: id })
        return reply(r.status)
      }
      case 'whoami':
        return reply({ address: signer.address, publicKey: signer.publicKey, pid: process.pid })
      case 'exit':
        node.stop()
        store.close()
        reply(true)
        setTimeout(() => process.exit(0), 10)
        return
    }
    reply(undefined, `unknown command ${c.cmd}`)
  } catch (err) {
    reply(undefined, String((err as Error)?.stack ?? err))
  }
})
process.send?.({ ready: true })
