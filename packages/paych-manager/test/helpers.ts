/** Shared fixtures for the paych tests: a mock chain, funded wallets, a deployed contract. */
import assert from 'node:assert/strict'
import { type Address, NodeSigner, type Signer, secretKeyFromSeed } from '@l2bench/core'
import { MockL1, type MockL1Options, type Receipt, Wallet } from '@l2bench/l1-mock'
import { PaychContract, type ChannelInfo, type LaneState, PaychError, type PaychErrorCode, type SignedVoucher, type VoucherBody, plainVoucher, signVoucher } from '../src/index.ts'

export const ETH = 10n ** 18n

export interface World {
  l1: MockL1
  contract: PaychContract
  payer: Wallet
  payee: Wallet
  mallory: Wallet
}

export function makeWorld(options: MockL1Options & { settleDelay?: number; seed?: string } = {}): World {
  const { settleDelay, seed = 'w', ...l1Options } = options
  const l1 = new MockL1(l1Options)
  const contract = l1.deploy(new PaychContract(settleDelay === undefined ? {} : { settleDelay }))
  const wallet = (name: string) => new Wallet(new NodeSigner(secretKeyFromSeed(`${seed}/${name}`)), l1)
  const payer = wallet('payer')
  const payee = wallet('payee')
  const mallory = wallet('mallory')
  for (const w of [payer, payee, mallory]) l1.mint(w.address, 1000n * ETH)
  return { l1, contract, payer, payee, mallory }
}

/** Opens a channel payer → payee directly through the contract (auto-mine). */
export async function openChannel(w: World, amount: bigint, from = w.payer, to = w.payee.address): Promise<Address> {
  const r = await from.callOk(w.contract, { type: 'create', to, fromPublicKey: from.signer.publicKey }, { value: amount })
  return r.result as Address
}

export function voucher(signer: Signer, w: World, body: VoucherBody): SignedVoucher {
  return signVoucher(signer, { chainId: w.l1.chainId, contract: w.contract.address }, body)
}

export function plain(signer: Signer, w: World, channel: Address, lane: number, nonce: bigint, amount: bigint, extra: Partial<VoucherBody> = {}): SignedVoucher {
  return voucher(signer, w, { ...plainVoucher(channel, lane, nonce, amount), ...extra })
}

export function channelInfo(w: World, channel: Address): ChannelInfo {
  const info = w.l1.readSync<ChannelInfo | undefined>(w.contract.address, 'channel', [channel])
  assert.ok(info, `channel ${channel} exists`)
  return info
}

export function lanes(w: World, channel: Address, ids: number[]): Array<LaneState | undefined> {
  return w.l1.readSync(w.contract.address, 'lanes', [channel, ids])
}

export function revertCode(r: Receipt): PaychErrorCode | undefined {
  return PaychError.fromRevert(r.revertReason)?.code
}

export function assertReverted(r: Receipt, code: PaychErrorCode): void {
  assert.equal(r.status, 'reverted', `expected revert ${code}`)
  assert.equal(revertCode(r), code, r.revertReason)
}

export async function rejectsWith(p: Promise<unknown> | (() => unknown), code: PaychErrorCode): Promise<void> {
  await assert.rejects(
    async () => (typeof p === 'function' ? p() : p),
    (err: unknown) => {
      assert.ok(err instanceof PaychError, `expected PaychError ${code}, got ${String(err)}`)
      assert.equal(err.code, code, err.message)
      return true
    },
  )
}
