/**
 * HtlcAdjudicator: payment-channel's Adjudicator with hash-time-locked
 * release of locked entries, and a preimage registry on L1.
 *
 * When a channel with pending HTLCs closes (cooperatively or after a
 * dispute), the base contract stores every locked entry apart and pays it
 * through `resolveLocked(channelId, lockId, witness)`:
 *   - empty witness, height ≥ expiry → the offerer (`direction`): the refund;
 *   - witness = the 32-byte preimage, sha256(witness) = hash and
 *     height < expiry → the receiver (this class's `resolveWithWitness`).
 *
 * A successful claim also records the preimage in contract storage under its
 * hash (once; a second claim with the same hash finds it and writes nothing)
 * and emits `PreimageRevealed {hash, preimage}`. That is how an upstream hop
 * whose downstream settled on chain learns the preimage from L1 — by event or
 * by the `preimage` view — and claims its own incoming HTLC before that one
 * expires (ATTACKS 11).
 *
 * Gas, as the Solidity port (HtlcAdjudicator in packages/l1-evm/contracts/
 * PaymentChannelAdjudicator.sol) spends it: the sha256 precompile over 32
 * bytes, a cold SLOAD of the registry entry's height slot, two new slots
 * (preimage; height) on first reveal, and the PreimageRevealed LOG.
 */
import { bytesEqual, sha256, toHex } from '@l2bench/core'
import { type AbiItem, type CallContext, type ReadContext, type SlotLayout, parseAbiItem, sha256Gas } from '@l2bench/l1-mock'
import { ADJUDICATOR_ABI, Adjudicator, type PartyIndex, type StoredLock, other } from '@l2bench/payment-channel'
import { PREIMAGE_LENGTH } from './state.ts'

/** The port's ABI: the adjudicator's, plus the preimage registry's event. */
export const HTLC_ADJUDICATOR_ABI: readonly AbiItem[] = [
  ...ADJUDICATOR_ABI,
  parseAbiItem('event PreimageRevealed(bytes32 indexed hash, bytes32 preimage, bytes32 channelId)'),
]

/** Slot 0: the preimage; slot 1: the height that revealed it. */
const REVEALED_SLOTS: SlotLayout<RevealedPreimage> = (r) => [[r.preimage], [r.height]]

export interface RevealedPreimage {
  preimage: Uint8Array
  /** Height of the block that revealed it. */
  height: number
}

export class HtlcAdjudicator extends Adjudicator {
  override readonly name: string = 'HtlcAdjudicator'
  override readonly solidityAbi: readonly AbiItem[] = HTLC_ADJUDICATOR_ABI

  protected override resolveWithWitness(ctx: CallContext, lock: StoredLock, witness: Uint8Array): PartyIndex | undefined {
    if (witness.length !== PREIMAGE_LENGTH) return undefined
    ctx.chargeGas('sha256Base', 'htlc.sha256', sha256Gas(witness.length))
    if (!bytesEqual(sha256(witness), lock.hash)) return undefined
    // After the expiry only the refund applies: the offerer may already have
    // failed its own upstream HTLC counting on it.
    if (BigInt(ctx.height) >= lock.expiry) return undefined
    const key = `pre:${toHex(lock.hash)}`
    if (ctx.sload<RevealedPreimage>(key, 'preimage.lookup', REVEALED_SLOTS, [1]) === undefined)
      ctx.sstore(key, { preimage: witness.slice(), height: ctx.height }, 'preimage.register', REVEALED_SLOTS)
    ctx.emit('PreimageRevealed', { hash: lock.hash, preimage: witness.slice(), channelId: lock.channelId }, this.log('PreimageRevealed'))
    return other(lock.direction)
  }

  override view(ctx: ReadContext, method: string, args: unknown[]): unknown {
    if (method === 'preimage') {
      const hash = args[0]
      if (!(hash instanceof Uint8Array) || hash.length !== 32) throw new TypeError('preimage(hash): hash must be 32 bytes')
      return ctx.sload<RevealedPreimage>(`pre:${toHex(hash)}`)
    }
    return super.view(ctx, method, args)
  }
}
