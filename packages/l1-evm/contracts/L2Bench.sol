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

    /// True iff (r, vs) is a low-s signature by `signer` over sha256(digest).
    function verify(bytes32 digest, bytes32 r, bytes32 vs, address signer) internal view returns (bool) {
        uint256 s = uint256(vs) & S_MASK;
        if (uint256(r) == 0 || uint256(r) >= N || s == 0 || s > HALF_N || signer == address(0)) return false;
        uint8 v = uint8(uint256(vs) >> 255) + 27;
        return ecrecover(sha256(abi.encodePacked(digest)), v, r, bytes32(s)) == signer;
    }
}

/// The project's canonical codec (packages/core/src/codec.ts) for the field
/// types a signed digest contains, so a contract hashes the very bytes the
/// client signed.
library Codec {
    /// `amount` / `uint`: a length byte, then the minimal big-endian bytes (0 is one 0x00 byte).
    function amount(uint256 v) internal pure returns (bytes memory out) {
        uint256 n = 0;
        for (uint256 t = v; t != 0; t >>= 8) n++;
        out = abi.encodePacked(uint8(n), n == 0 ? bytes32(0) : bytes32(v << (256 - 8 * n)));
        assembly {
            mstore(out, add(n, 1))
        }
    }

    /// keccakTagged(tag, ...) = keccak256(keccak256(tag) ‖ parts): the caller passes keccak256(tag).
    function tagged(bytes32 tagHash, bytes memory parts) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(tagHash, parts));
    }
}
