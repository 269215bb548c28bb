// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Codec, Rejected, Sig} from "./L2Bench.sol";
import {PaymentChannelAdjudicator} from "./PaymentChannelAdjudicator.sol";

/// The virtual channel's adjudicator: the Solidity port of
/// packages/virtual-channel/src/adjudicator.ts (VirtualAdjudicator), the
/// payment-channel adjudicator plus one outcome per virtual channel.
///
///   registerVirtual(params, state, sigA, sigB, activation): Alice, Bob, or
///     Ingrid from params.validity on. Version 0 needs no signature (its
///     balances are the deposits); a later one Alice's and Bob's signatures
///     and Ingrid's activation. The first registration starts the window; a
///     higher version replaces the state within it, same deadline.
///   concludeVirtual(params, final state, sigA, sigB): Ingrid only; the
///     outcome is final at once.
///   resolveLocked(ledgerId, vid, witness = the parameters in the project's
///     codec): a ledger's virtual lock split by the final outcome
///     (splitWithWitness), y_A to the lock's `direction`, y_B to the other.
///
/// The virtual channel id is keccakTagged(VIRTUAL_ID_TAG, encode(params)) in
/// the project's codec, public keys compressed, as TypeScript computes it:
/// the calls take each key as its prefix byte and x coordinate and hash those
/// bytes; signatures are checked against the three addresses (ecrecover).
contract VirtualAdjudicator is PaymentChannelAdjudicator {
    bytes32 internal constant VIRTUAL_ID_TAG = keccak256("l2bench/virtual-channel/id/v1");
    bytes32 internal constant ACTIVATION_TAG = keccak256("l2bench/virtual-channel/activate/v1");
    /// Bytes of the encoded parameters before the deposits (fixed-size fields).
    uint256 internal constant FIXED_HEAD = 259;

    /// A compressed secp256k1 public key: 0x02/0x03, then x.
    struct Key {
        uint8 prefix;
        bytes32 x;
    }

    struct Params {
        uint64 chainId;
        address adjudicator;
        uint64 nonce;
        address alice;
        address bob;
        Key pkAlice;
        Key pkBob;
        address ingrid;
        Key pkIngrid;
        bytes32 ledgerA;
        bytes32 ledgerB;
        uint256 depositA;
        uint256 depositB;
        uint32 disputeWindow;
        uint64 validity;
    }

    /// A virtual channel's outcome (2 slots).
    struct Outcome {
        // slot 0
        uint64 version;
        uint32 deadline;
        bool concluded;
        uint8 by;
        // slot 1
        uint128 balanceA;
        uint128 balanceB;
    }

    mapping(bytes32 => Outcome) internal outcomes;

    event VirtualRegistered(bytes32 indexed channelId, uint64 version, uint32 deadline, address by);
    event VirtualConcluded(bytes32 indexed channelId, uint64 version);

    function registerVirtual(Params calldata p, State calldata s, Signature calldata sigA, Signature calldata sigB, Signature calldata activation) external {
        bytes32 vid = checkVirtual(p, s);
        uint8 by = msg.sender == p.alice ? 0 : msg.sender == p.bob ? 1 : msg.sender == p.ingrid ? 2 : 3;
        if (by == 3) revert Rejected("REVERT", "sender");
        if (by == 2 && block.number < p.validity) revert Rejected("REVERT", "sender");
        if (s.version == 0) {
            if (s.balanceA != p.depositA || s.balanceB != p.depositB) revert Rejected("REVERT", "state.balances");
        } else {
            uint256 from = Codec.start();
            uint256 q = Codec.put(from, uint256(ACTIVATION_TAG), 32);
            q = Codec.put(q, uint256(vid), 32);
            if (!Sig.verify(Codec.hash(from, q), activation.r, activation.vs, p.ingrid)) revert Rejected("REVERT", "activation");
            checkSigs(p, s, sigA, sigB);
        }
        Outcome storage old = outcomes[vid];
        uint32 deadline;
        if (old.deadline != 0) {
            if (old.concluded || block.number > old.deadline) revert Rejected("REVERT", "state");
            if (s.version <= old.version) revert Rejected("REVERT", "state.version");
            deadline = old.deadline;
        } else {
            deadline = uint32(block.number + p.disputeWindow);
        }
        outcomes[vid] = Outcome(s.version, deadline, false, by, uint128(s.balanceA), uint128(s.balanceB));
        emit VirtualRegistered(vid, s.version, deadline, msg.sender);
    }

    function concludeVirtual(Params calldata p, State calldata s, Signature calldata sigA, Signature calldata sigB) external {
        bytes32 vid = checkVirtual(p, s);
        if (msg.sender != p.ingrid) revert Rejected("REVERT", "sender");
        if (!s.isFinal) revert Rejected("REVERT", "state.isFinal");
        checkSigs(p, s, sigA, sigB);
        Outcome storage old = outcomes[vid];
        if (old.deadline != 0 && (old.concluded || block.number > old.deadline)) revert Rejected("REVERT", "state");
        outcomes[vid] = Outcome(s.version, uint32(block.number), true, 2, uint128(s.balanceA), uint128(s.balanceB));
        emit VirtualConcluded(vid, s.version);
    }

    /// A ledger's virtual lock, split by the virtual channel's final outcome; the witness is its parameters, encoded.
    function splitWithWitness(bytes32 id, bytes32 lockId, Kept memory k, bytes calldata w) internal view override returns (bool, uint256, uint256) {
        (uint256 depA, uint256 depB) = parseDeposits(w);
        uint256 from = Codec.start();
        uint256 q = Codec.put(from, uint256(VIRTUAL_ID_TAG), 32);
        assembly {
            calldatacopy(q, w.offset, w.length)
        }
        bytes32 vid = Codec.hash(from, q + w.length);
        if (vid != lockId || vid != k.hash) revert Rejected("REVERT", "witness");
        if (k.amount != depA + depB) revert Rejected("REVERT", "lockId");
        address aliceSide;
        address bobSide;
        if (id == bytes32(w[195:227])) (aliceSide, bobSide) = (wordAddress(w, 36), wordAddress(w, 142));
        else if (id == bytes32(w[227:259])) (aliceSide, bobSide) = (wordAddress(w, 142), wordAddress(w, 56));
        else revert Rejected("REVERT", "lockId");
        Channel storage c = channels[id];
        (address atDir, address atOther) = k.direction == 0 ? (c.a, c.b) : (c.b, c.a);
        if (atDir != aliceSide || atOther != bobSide) revert Rejected("REVERT", "lockId");
        Outcome memory o = outcomes[vid];
        if (o.deadline == 0) revert Rejected("REVERT", "witness");
        if (!o.concluded && block.number <= o.deadline) revert Rejected("REVERT", "witness");
        return k.direction == 0 ? (true, uint256(o.balanceA), uint256(o.balanceB)) : (true, uint256(o.balanceB), uint256(o.balanceA));
    }

    // ------------------------------------------------------------ checks

    /// Domain, id and conservation of a virtual state; returns the id.
    function checkVirtual(Params calldata p, State calldata s) internal view returns (bytes32 vid) {
        if (p.chainId != block.chainid) revert Rejected("REVERT", "params.chainId");
        if (p.adjudicator != address(this)) revert Rejected("REVERT", "params.adjudicator");
        vid = virtualId(p);
        if (s.channelId != vid) revert Rejected("REVERT", "state.channelId");
        if (s.locked.length > 0) revert Rejected("REVERT", "state.locked");
        if (s.balanceA + s.balanceB != p.depositA + p.depositB) revert Rejected("REVERT", "state.balances");
    }

    function checkSigs(Params calldata p, State calldata s, Signature calldata sigA, Signature calldata sigB) internal view {
        bytes32 digest = stateDigest(s);
        if (!Sig.verify(digest, sigA.r, sigA.vs, p.alice)) revert Rejected("REVERT", "sigA");
        if (!Sig.verify(digest, sigB.r, sigB.vs, p.bob)) revert Rejected("REVERT", "sigB");
    }

    /// keccakTagged(VIRTUAL_ID_TAG, encode(params)) in the project's codec.
    function virtualId(Params calldata p) internal pure returns (bytes32) {
        uint256 from = Codec.start();
        uint256 q = Codec.put(from, uint256(VIRTUAL_ID_TAG), 32);
        q = Codec.put(q, p.chainId, 8);
        q = Codec.put(q, uint160(p.adjudicator), 20);
        q = Codec.put(q, p.nonce, 8);
        q = Codec.put(q, uint160(p.alice), 20);
        q = Codec.put(q, uint160(p.bob), 20);
        q = putKey(q, p.pkAlice);
        q = putKey(q, p.pkBob);
        q = Codec.put(q, uint160(p.ingrid), 20);
        q = putKey(q, p.pkIngrid);
        q = Codec.put(q, uint256(p.ledgerA), 32);
        q = Codec.put(q, uint256(p.ledgerB), 32);
        q = Codec.putAmount(q, p.depositA);
        q = Codec.putAmount(q, p.depositB);
        q = Codec.put(q, p.disputeWindow, 4);
        q = Codec.put(q, p.validity, 8);
        return Codec.hash(from, q);
    }

    function putKey(uint256 q, Key calldata k) internal pure returns (uint256) {
        q = Codec.put(q, k.prefix, 1);
        return Codec.put(q, uint256(k.x), 32);
    }

    /// The deposits of encoded parameters, checking the encoding is whole and
    /// canonical (minimal amounts of at most 16 bytes, nothing after validity).
    function parseDeposits(bytes calldata w) internal pure returns (uint256 depA, uint256 depB) {
        uint256 at = FIXED_HEAD;
        (depA, at) = readAmount(w, at);
        (depB, at) = readAmount(w, at);
        if (w.length != at + 12) revert Rejected("REVERT", "witness");
    }

    function readAmount(bytes calldata w, uint256 at) internal pure returns (uint256 v, uint256 next) {
        if (w.length <= at) revert Rejected("REVERT", "witness");
        uint256 n = uint8(w[at]);
        if (n > 16 || w.length < at + 1 + n) revert Rejected("REVERT", "witness");
        if (n > 0 && uint8(w[at + 1]) == 0) revert Rejected("REVERT", "witness");
        if (n > 0) v = uint256(bytes32(w[at + 1:at + 1 + n])) >> (8 * (32 - n));
        next = at + 1 + n;
    }

    function wordAddress(bytes calldata w, uint256 at) internal pure returns (address) {
        return address(bytes20(w[at:at + 20]));
    }

    // ------------------------------------------------------------ views

    function virtualOutcome(bytes32 vid) external view returns (Outcome memory) {
        return outcomes[vid];
    }
}
