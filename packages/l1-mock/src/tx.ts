/**
 * L1 transactions: the unsigned body, its canonical encoding, its hash and its
 * signature. The sender is not a field: it is the address of the public key
 * that signed, as on Ethereum (where it is recovered from the signature).
 */
import {
  type Address,
  type Hex,
  InvalidInputError,
  type Signer,
  codec,
  encode,
  keccakTagged,
  publicKeyToAddress,
  toHex,
} from '@l2bench/core'

export type TxHash = Hex

export interface TxBody {
  chainId: bigint
  nonce: bigint
  to: Address
  value: bigint
  gasLimit: bigint
  gasPrice: bigint
  data: Uint8Array
}

export interface SignedTx {
  body: TxBody
  /** 33-byte compressed secp256k1 public key of the sender. */
  publicKey: Uint8Array
  /** 64-byte low-s signature over txDigest(body). */
  signature: Uint8Array
}

/** Largest calldata the mock accepts in one transaction (Ethereum's practical limit is similar). */
export const MAX_CALLDATA = 1 << 20

export const txBodyCodec = codec.struct({
  chainId: codec.u64,
  nonce: codec.u64,
  to: codec.address,
  value: codec.amount,
  gasLimit: codec.u64,
  gasPrice: codec.u64,
  data: codec.bytes(MAX_CALLDATA),
})

export const signedTxCodec = codec.struct({
  body: txBodyCodec,
  publicKey: codec.fixedBytes(33),
  signature: codec.fixedBytes(64),
})

const DIGEST_TAG = 'l2bench/l1-tx/v1'
const HASH_TAG = 'l2bench/l1-tx-hash/v1'
/** A signed transaction's encoding ends with the raw public key and signature. */
const SIGNED_SUFFIX = 33 + 64

export function txDigest(body: TxBody): Uint8Array {
  return keccakTagged(DIGEST_TAG, encode(txBodyCodec, body))
}

export function txHash(tx: SignedTx): TxHash {
  return toHex(keccakTagged(HASH_TAG, encode(signedTxCodec, tx)))
}

/**
 * The digest the sender signed and the transaction hash, from a single
 * encoding (which also validates every field). The admission path of an L1
 * needs both; encoding twice would double its codec work.
 */
export function txIdentity(tx: SignedTx): { digest: Uint8Array; hash: TxHash } {
  const bytes = encode(signedTxCodec, tx)
  return {
    digest: keccakTagged(DIGEST_TAG, bytes.subarray(0, bytes.length - SIGNED_SUFFIX)),
    hash: toHex(keccakTagged(HASH_TAG, bytes)),
  }
}

/** Addresses of recently seen senders (decompressing a key costs about as much as a hash chain). */
const senderCache = new Map<string, Address>()

export function senderOf(tx: SignedTx): Address {
  const key = Buffer.from(tx.publicKey.buffer, tx.publicKey.byteOffset, tx.publicKey.byteLength).toString('hex')
  let address = senderCache.get(key)
  if (address === undefined) {
    address = publicKeyToAddress(tx.publicKey)
    if (senderCache.size >= 4096) senderCache.delete(senderCache.keys().next().value as string)
    senderCache.set(key, address)
  }
  return address
}

export function signTx(signer: Signer, body: TxBody): SignedTx {
  if (body.data.length > MAX_CALLDATA) throw new InvalidInputError('data', `calldata over ${MAX_CALLDATA} bytes`)
  // Encoding validates every field's type and range.
  const digest = txDigest(body)
  return { body, publicKey: signer.publicKey, signature: signer.sign(digest) }
}
