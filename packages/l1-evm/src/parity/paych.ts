/** Parity script of the voucher channel (PaychContract / Paych.sol): every contract method, each lane shape. */
import { type Address, NodeSigner, secretKeyFromSeed, sha256 } from '@l2bench/core'
import { Wallet } from '@l2bench/l1-mock'
import { PaychContract, type VoucherBody, plainVoucher, signVoucher } from '@l2bench/paych-manager'
import type { ParityScenario } from './index.ts'

export const paychParity: ParityScenario = {
  design: 'voucher channel (paych)',
  contract: 'Paych',
  async run(chain, record) {
    const contract = await chain.deploy(new PaychContract({ settleDelay: 10 }))
    const payer = new Wallet(new NodeSigner(secretKeyFromSeed('parity/paych/payer')), chain.l1)
    const payee = new Wallet(new NodeSigner(secretKeyFromSeed('parity/paych/payee')), chain.l1)
    for (const w of [payer, payee]) await chain.mint(w.address, 10n ** 21n)
    const domain = { chainId: chain.l1.chainId, contract: contract.address }
    const voucher = (channel: Address, lane: number, nonce: bigint, amount: bigint, extra: Partial<VoucherBody> = {}) =>
      signVoucher(payer.signer, domain, { ...plainVoucher(channel, lane, nonce, amount), ...extra })

    const created = await payer.callOk(contract, { type: 'create', to: payee.address, fromPublicKey: payer.signer.publicKey }, { value: 10n ** 18n })
    record('create', created)
    const ch = created.result as Address
    record('addFunds', await payer.callOk(contract, { type: 'addFunds', channel: ch }, { value: 10n ** 17n }))
    record('update (new lane)', await payee.callOk(contract, { type: 'update', voucher: voucher(ch, 0, 1n, 1000n), secret: undefined }))
    record('update (same lane)', await payee.callOk(contract, { type: 'update', voucher: voucher(ch, 0, 2n, 2000n), secret: undefined }))
    await payee.callOk(contract, { type: 'update', voucher: voucher(ch, 1, 1n, 500n), secret: undefined })
    const merge = voucher(ch, 1, 2n, 3000n, { merges: [{ lane: 0, nonce: 3n }] })
    record('update (merge one lane)', await payee.callOk(contract, { type: 'update', voucher: merge, secret: undefined }))
    const secret = new TextEncoder().encode('parity preimage')
    const locked = voucher(ch, 2, 1n, 700n, { secretHash: sha256(secret) })
    record('update (hash lock)', await payee.callOk(contract, { type: 'update', voucher: locked, secret }))
    const settled = await payer.callOk(contract, { type: 'settle', channel: ch })
    record('settle', settled)
    await chain.advanceTo(settled.result as number)
    record('collect', await payee.callOk(contract, { type: 'collect', channel: ch }))
  },
}
