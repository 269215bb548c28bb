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

export function txDigest(body: TxBody): Uint8Array {
  return keccakTagged('l2bench/l1-tx/v1', encode(txBodyCodec, body))
}

export function txHash(tx: SignedTx): TxHash {
  return toHex(keccakTagged('l2bench/l1-tx-hash/v1', encode(signedTxCodec, tx)))
}

export function senderOf(tx: SignedTx): Address {
  return publicKeyToAddress(tx.publicKey)
}

export function signTx(signer: Signer, body: TxBody): SignedTx {
  if (body.data.length > MAX_CALLDATA) throw new InvalidInputError('data', `calldata over ${MAX_CALLDATA} bytes`)
  // Encoding validates every field's type and range.
  const digest = txDigest(body)
  return { body, publicKey: signer.publicKey, signature: signer.sign(digest) }
}
