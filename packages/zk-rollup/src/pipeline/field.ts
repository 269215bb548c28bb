/**
 * bn128 constants and the 32-byte little-endian scalar encoding shared by the
 * generator modules (snarkjs and ffjavascript take scalars in that form).
 */

/** bn128 scalar field order r. */
export const BN128_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n
/** bn128 base field order q. */
export const BN128_Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n

export function writeLE(buf: Uint8Array, offset: number, v: bigint): void {
  let x = v
  for (let i = 0; i < 32; i++) {
    buf[offset + i] = Number(x & 0xffn)
    x >>= 8n
  }
}

export function readLE(buf: Uint8Array, offset: number): bigint {
  const dv = new DataView(buf.buffer, buf.byteOffset + offset, 32)
  return dv.getBigUint64(0, true) | (dv.getBigUint64(8, true) << 64n) | (dv.getBigUint64(16, true) << 128n) | (dv.getBigUint64(24, true) << 192n)
}
