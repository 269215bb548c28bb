/**
 * The voucher rejection table, run against both the contract (contract.test.ts)
 * and the manager (manager.test.ts): every case of Lotus paychmgr
 * TestCheckVoucherValid, the specs-actors replay/merge bugs (#612, #660, #1046)
 * and the merge rules. Each case applies some valid vouchers first, then
 * offers a bad one that must be refused with `code`.
 */
import type { Address, Signer } from '@l2bench/core'
import type { PaychErrorCode, SignedVoucher } from '../src/index.ts'
import { signVoucher } from '../src/index.ts'
import { type World, openChannel, plain } from './helpers.ts'

export interface CaseCtx {
  w: World
  channel: Address
  /** A second channel between the same parties. */
  other: Address
  payer: Signer
  payee: Signer
  mallory: Signer
}

export interface RuleCase {
  name: string
  code: PaychErrorCode
  funds: bigint
  prior: (c: CaseCtx) => SignedVoucher[]
  bad: (c: CaseCtx) => SignedVoucher
}

const merge = (lane: number, nonce: bigint) => ({ lane, nonce })

export const RULE_CASES: RuleCase[] = [
  {
    name: 'funds too low',
    code: 'INSUFFICIENT_CHANNEL_FUNDS',
    funds: 5n,
    prior: () => [],
    bad: (c) => plain(c.payer, c.w, c.channel, 0, 1n, 10n),
  },
  {
    name: 'invalid signature (a stranger signed)',
    code: 'BAD_SIGNATURE',
    funds: 100n,
    prior: () => [],
    bad: (c) => plain(c.mallory, c.w, c.channel, 0, 1n, 10n),
  },
  {
    name: 'signed by the receiver',
    code: 'BAD_SIGNATURE',
    funds: 100n,
    prior: () => [],
    bad: (c) => plain(c.payee, c.w, c.channel, 0, 1n, 10n),
  },
  {
    name: 'signature bit flipped',
    code: 'BAD_SIGNATURE',
    funds: 100n,
    prior: () => [],
    bad: (c) => {
      const v = plain(c.payer, c.w, c.channel, 0, 1n, 10n)
      const signature = v.signature.slice()
      signature[5] = (signature[5] as number) ^ 1
      return { ...v, signature }
    },
  },
  {
    name: 'amount raised after signing',
    code: 'BAD_SIGNATURE',
    funds: 100n,
    prior: () => [],
    bad: (c) => ({ ...plain(c.payer, c.w, c.channel, 0, 1n, 10n), amount: 50n }),
  },
  {
    name: 'signed for another contract deployment',
    code: 'BAD_SIGNATURE',
    funds: 100n,
    prior: () => [],
    bad: (c) =>
      signVoucher(c.payer, { chainId: c.w.l1.chainId, contract: c.other }, {
        ...plain(c.payer, c.w, c.channel, 0, 1n, 10n),
      }),
  },
  {
    name: 'cross-channel replay with the channel field rewritten (#612)',
    code: 'BAD_SIGNATURE',
    funds: 100n,
    prior: () => [],
    bad: (c) => ({ ...plain(c.payer, c.w, c.other, 0, 1n, 10n), channel: c.channel }),
  },
  {
    name: 'nonce too low',
    code: 'NONCE_TOO_LOW',
    funds: 100n,
    prior: (c) => [plain(c.payer, c.w, c.channel, 0, 3n, 2n)],
    bad: (c) => plain(c.payer, c.w, c.channel, 0, 2n, 5n),
  },
  {
    name: 'equal-nonce replay of the same voucher (#660)',
    code: 'NONCE_TOO_LOW',
    funds: 100n,
    prior: (c) => [plain(c.payer, c.w, c.channel, 0, 1n, 2n)],
    bad: (c) => plain(c.payer, c.w, c.channel, 0, 1n, 2n),
  },
  {
    name: 'equal nonce with a higher amount',
    code: 'NONCE_TOO_LOW',
    funds: 100n,
    prior: (c) => [plain(c.payer, c.w, c.channel, 0, 1n, 2n)],
    bad: (c) => plain(c.payer, c.w, c.channel, 0, 1n, 9n),
  },
  {
    name: 'nonce zero',
    code: 'NONCE_TOO_LOW',
    funds: 100n,
    prior: () => [],
    bad: (c) => plain(c.payer, c.w, c.channel, 0, 0n, 1n),
  },
  {
    name: 'higher nonce with lower value',
    code: 'AMOUNT_NOT_INCREASING',
    funds: 100n,
    prior: (c) => [plain(c.payer, c.w, c.channel, 0, 2n, 5n)],
    bad: (c) => plain(c.payer, c.w, c.channel, 0, 3n, 3n),
  },
  {
    name: 'voucher + already sent > balance',
    code: 'INSUFFICIENT_CHANNEL_FUNDS',
    funds: 10n,
    prior: (c) => [plain(c.payer, c.w, c.channel, 0, 1n, 5n)],
    bad: (c) => plain(c.payer, c.w, c.channel, 1, 1n, 6n),
  },
  {
    name: 'sum over lanes > balance',
    code: 'INSUFFICIENT_CHANNEL_FUNDS',
    funds: 10n,
    prior: (c) => [plain(c.payer, c.w, c.channel, 1, 1n, 3n), plain(c.payer, c.w, c.channel, 2, 1n, 4n)],
    bad: (c) => plain(c.payer, c.w, c.channel, 1, 2n, 7n),
  },
  {
    name: 'merge into its own lane',
    code: 'MERGE_SAME_LANE',
    funds: 100n,
    prior: (c) => [plain(c.payer, c.w, c.channel, 0, 1n, 5n)],
    bad: (c) => plain(c.payer, c.w, c.channel, 0, 2n, 9n, { merges: [merge(0, 3n)] }),
  },
  {
    name: 'merge of an unknown lane',
    code: 'MERGE_UNKNOWN_LANE',
    funds: 100n,
    prior: (c) => [plain(c.payer, c.w, c.channel, 0, 1n, 5n)],
    bad: (c) => plain(c.payer, c.w, c.channel, 0, 2n, 9n, { merges: [merge(7, 1n)] }),
  },
  {
    name: 'merge with an outdated nonce',
    code: 'MERGE_NONCE_TOO_LOW',
    funds: 100n,
    prior: (c) => [plain(c.payer, c.w, c.channel, 0, 1n, 5n), plain(c.payer, c.w, c.channel, 1, 4n, 3n)],
    bad: (c) => plain(c.payer, c.w, c.channel, 0, 2n, 20n, { merges: [merge(1, 4n)] }),
  },
  {
    name: 'merge naming a lane twice',
    code: 'MERGE_DUPLICATE_LANE',
    funds: 100n,
    prior: (c) => [plain(c.payer, c.w, c.channel, 0, 1n, 5n), plain(c.payer, c.w, c.channel, 1, 1n, 3n)],
    bad: (c) => plain(c.payer, c.w, c.channel, 0, 2n, 20n, { merges: [merge(1, 2n), merge(1, 3n)] }),
  },
  {
    name: 'merge that lowers toSend (#1046)',
    code: 'MERGE_LOWERS_TO_SEND',
    funds: 100n,
    prior: (c) => [plain(c.payer, c.w, c.channel, 0, 1n, 5n), plain(c.payer, c.w, c.channel, 1, 1n, 3n)],
    bad: (c) => plain(c.payer, c.w, c.channel, 1, 2n, 4n, { merges: [merge(0, 2n)] }),
  },
  {
    name: 'expired voucher (timeLockMax passed)',
    code: 'VOUCHER_EXPIRED',
    funds: 100n,
    prior: () => [],
    bad: (c) => plain(c.payer, c.w, c.channel, 0, 1n, 5n, { timeLockMax: 1 }),
  },
]

/** Opens the case's channel (and a second one) and builds its context. */
export async function caseContext(w: World, funds: bigint): Promise<CaseCtx> {
  const channel = await openChannel(w, funds)
  const other = await openChannel(w, funds)
  w.l1.mine(2) // so a timeLockMax of 1 has passed
  return { w, channel, other, payer: w.payer.signer, payee: w.payee.signer, mallory: w.mallory.signer }
}
