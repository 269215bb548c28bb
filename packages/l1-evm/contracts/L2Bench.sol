// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// A rejection with the same stable code and field the TypeScript contract
/// throws (PaychError, ChannelError, RollupError, InvalidInputError, ...).
/// The client decodes it into the same typed error.
error Rejected(string code, string field);

/// Signatures of the project: ECDSA over sha256(digest), 64 bytes, low-s, no
/// recovery id. On the EVM they travel in the EIP-2098 compact form
/// (r, yParity << 255 | s): the client finds the parity off-chain, so the
/// contract does one ecrecover. A wrong parity only makes the check fail.
library Sig {
    uint256 internal constant N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141;
    uint256 internal constant HALF_N = N >> 1;
    uint256 internal constant S_MASK = (uint256(1) << 255) - 1;

    /// True iff (r, vs) is a low-s signature by `signer` over sha256(digest):
    /// the sha256 and ecrecover precompiles, called on scratch memory.
    function verify(bytes32 digest, bytes32 r, bytes32 vs, address signer) internal view returns (bool ok) {
        uint256 s = uint256(vs) & S_MASK;
        if (uint256(r) == 0 || uint256(r) >= N || s == 0 || s > HALF_N || signer == address(0)) return false;
        uint256 v = (uint256(vs) >> 255) + 27;
        assembly {
            let m := mload(0x40)
            mstore(m, digest)
            if iszero(staticcall(gas(), 2, m, 32, m, 32)) { revert(0, 0) }
            mstore(add(m, 32), v)
            mstore(add(m, 64), r)
            mstore(add(m, 96), s)
            // A failed recovery returns nothing: the zero left here is no signer.
            mstore(0, 0)
            let called := staticcall(gas(), 1, m, 128, 0, 32)
            ok := and(called, eq(mload(0), signer))
        }
    }
}

/// The project's canonical codec (packages/core/src/codec.ts) for the field
/// types a signed digest contains, written straight into scratch memory, so a
/// contract hashes the very bytes the client signed in one pass (no
/// concatenation copies). A writer is a memory position: each `put` writes at
/// it and returns the next one. The buffer starts at the free memory pointer
/// and is never allocated: it lives only until the keccak.
library Codec {
    /// Start of a scratch buffer (the free memory pointer; nothing is allocated).
    function start() internal pure returns (uint256 p) {
        assembly {
            p := mload(0x40)
        }
    }

    /// The low `bytes_` bytes of `v`, big-endian.
    function put(uint256 p, uint256 v, uint256 bytes_) internal pure returns (uint256) {
        assembly {
            mstore(p, shl(sub(256, mul(8, bytes_)), v))
        }
        return p + bytes_;
    }

    /// `amount` / `uint`: a length byte, then the minimal big-endian bytes (0 is one 0x00 byte).
    function putAmount(uint256 p, uint256 v) internal pure returns (uint256) {
        uint256 n = 0;
        uint256 x = v;
        if (x >> 128 != 0) {
            n = 16;
            x >>= 128;
        }
        if (x >> 64 != 0) {
            n += 8;
            x >>= 64;
        }
        if (x >> 32 != 0) {
            n += 4;
            x >>= 32;
        }
        if (x >> 16 != 0) {
            n += 2;
            x >>= 16;
        }
        if (x >> 8 != 0) {
            n += 1;
            x >>= 8;
        }
        if (x != 0) n += 1;
        assembly {
            mstore8(p, n)
            if n {
                mstore(add(p, 1), shl(sub(256, mul(8, n)), v))
            }
        }
        return p + 1 + n;
    }

    /// keccak256 of the bytes from `from` to `to`.
    function hash(uint256 from, uint256 to) internal pure returns (bytes32 h) {
        assembly {
            h := keccak256(from, sub(to, from))
        }
    }
}
