/**
 * bn128 constants and the 32-byte little-endian scalar encoding shared by the
 * generator modules (snarkjs and ffjavascript take scalars in that form).
 */

/** bn128 scalar field order r. */
export const BN128_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n
/** bn128 base field order q. */
export const BN128_Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n

const M64 = (1n << 64n) - 1n

/** Writes v (0 ≤ v < 2^256) as 32 little-endian bytes; four 64-bit limbs (this runs for every scalar). */
export function writeLE(buf: Uint8Array, offset: number, v: bigint): void {
  const dv = new DataView(buf.buffer, buf.byteOffset + offset, 32)
  dv.setBigUint64(0, v & M64, true)
  dv.setBigUint64(8, (v >> 64n) & M64, true)
  dv.setBigUint64(16, (v >> 128n) & M64, true)
  dv.setBigUint64(24, v >> 192n, true)
}

export function readLE(buf: Uint8Array, offset: number): bigint {
  const dv = new DataView(buf.buffer, buf.byteOffset + offset, 32)
  return dv.getBigUint64(0, true) | (dv.getBigUint64(8, true) << 64n) | (dv.getBigUint64(16, true) << 128n) | (dv.getBigUint64(24, true) << 192n)
}
