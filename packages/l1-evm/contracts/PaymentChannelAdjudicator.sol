// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Codec, Rejected, Sig} from "./L2Bench.sol";

/// The two-party channel adjudicator: the Solidity port of
/// packages/payment-channel/src/adjudicator.ts (Adjudicator), same lifecycle,
/// same checks in the same order, same revert fields (code REVERT, as the
/// TypeScript contract's ctx.revert gives).
///
///   open + value → funding; confirm + value (B) → open; refund (A, after the
///   timeout) → closed; topUp + value → open; close(final state) → closed;
///   register → disputed; challenge(newer) → disputed (same deadline);
///   finalize (after the deadline) → closed. Penalty `slash`: a registrant
///   superseded by ≥ 2 versions loses its balance at finalize. Locked entries
///   are kept apart on close and paid by resolveLocked (split by a witness in
///   a subclass: VirtualAdjudicator.sol).
///
/// Public keys are not stored: open takes them uncompressed, checks each
/// hashes to its party, and logs them; signatures are checked against the
/// stored addresses (Sig.verify, one ecrecover each).
contract PaymentChannelAdjudicator {
    bytes32 internal constant STATE_TAG = keccak256("l2bench/payment-channel/state/v1");
    bytes32 internal constant CHANNEL_ID_TAG = keccak256("l2bench/payment-channel/id/v1");
    uint256 internal constant MAX_LOCKED = 483;

    uint8 internal constant FUNDING = 1;
    uint8 internal constant OPEN = 2;
    uint8 internal constant DISPUTED = 3;
    uint8 internal constant CLOSED = 4;
    uint8 internal constant SLASH = 1;

    struct Channel {
        // slot 0
        address a;
        uint8 phase;
        uint32 disputeWindow;
        uint8 penalty;
        uint32 fundingDeadline;
        // slot 1
        address b;
        // slot 2
        uint128 depositA;
        uint128 depositB;
        // slot 3
        uint128 declaredDepositB;
    }

    struct Lock {
        bytes32 id;
        uint256 amount;
        uint8 direction;
        bytes32 hash;
        uint64 expiry;
    }

    struct State {
        bytes32 channelId;
        uint64 version;
        uint256 balanceA;
        uint256 balanceB;
        Lock[] locked;
        bool isFinal;
    }

    struct Signature {
        bytes32 r;
        bytes32 vs;
    }

    struct OpenArgs {
        address b;
        bytes32[2] pkA;
        bytes32[2] pkB;
        uint64 nonce;
        uint256 depositB;
        uint32 disputeWindow;
        uint32 fundingTimeout;
        uint8 penalty;
    }

    struct Dispute {
        // slot 0
        uint64 version;
        uint32 deadline;
        int8 by;
        uint8 cheaters;
        // slot 1
        uint128 balanceA;
        uint128 balanceB;
    }

    /// A locked entry of a registered state, as stored (3 slots; amounts fit 128 bits: they sum to the deposits).
    struct StoredLock {
        bytes32 id;
        bytes32 hash;
        uint128 amount;
        uint64 expiry;
        uint8 direction;
    }

    /// A locked entry kept apart on close (its amount and parties' money stay here until resolved).
    struct Kept {
        bytes32 hash;
        uint128 amount;
        uint8 direction;
        uint64 expiry;
    }

    mapping(bytes32 => Channel) internal channels;
    mapping(bytes32 => Dispute) internal disputes;
    mapping(bytes32 => StoredLock[]) internal disputeLocks;
    mapping(bytes32 => mapping(bytes32 => Kept)) internal kept;

    event Opened(bytes32 indexed channelId, address indexed a, address indexed b, uint256 depositA, uint256 depositB, bytes32[2] pkA, bytes32[2] pkB);
    event Funded(bytes32 indexed channelId, uint256 depositA, uint256 depositB);
    event Refunded(bytes32 indexed channelId, uint256 amount);
    event ToppedUp(bytes32 indexed channelId, uint8 party, uint256 amount, uint256 depositA, uint256 depositB, uint64 version);
    event Registered(bytes32 indexed channelId, uint64 version, uint32 deadline, address by);
    event Challenged(bytes32 indexed channelId, uint64 version, uint32 deadline, address by);
    event Concluded(bytes32 indexed channelId, uint64 version, uint256 balanceA, uint256 balanceB, uint256 locked, int8 slashed);
    event LockedResolved(bytes32 indexed channelId, bytes32 indexed lockId, address indexed to, uint256 amount);

    // ------------------------------------------------------------ funding

    function open(OpenArgs calldata o) external payable returns (bytes32 id) {
        if (o.b == msg.sender) revert Rejected("REVERT", "b");
        if (keyAddress(o.pkA) != msg.sender) revert Rejected("REVERT", "pkA");
        if (keyAddress(o.pkB) != o.b) revert Rejected("REVERT", "pkB");
        if (o.disputeWindow < 1) revert Rejected("REVERT", "disputeWindow");
        if (o.fundingTimeout < 1) revert Rejected("REVERT", "fundingTimeout");
        uint256 from = Codec.start();
        uint256 p = Codec.put(from, uint256(CHANNEL_ID_TAG), 32);
        p = Codec.put(p, block.chainid, 8);
        p = Codec.put(p, uint160(address(this)), 20);
        p = Codec.put(p, uint160(msg.sender), 20);
        p = Codec.put(p, uint160(o.b), 20);
        p = Codec.put(p, o.nonce, 8);
        id = Codec.hash(from, p);
        Channel storage c = channels[id];
        if (c.phase != 0) revert Rejected("REVERT", "nonce");
        if (msg.value > type(uint128).max) revert Rejected("AMOUNT", "value");
        if (o.depositB > type(uint128).max) revert Rejected("AMOUNT", "depositB");
        channels[id] = Channel(msg.sender, FUNDING, o.disputeWindow, o.penalty, uint32(block.number + o.fundingTimeout), o.b, uint128(msg.value), 0, uint128(o.depositB));
        emit Opened(id, msg.sender, o.b, msg.value, o.depositB, o.pkA, o.pkB);
    }

    function confirm(bytes32 id) external payable {
        Channel storage c = config(id);
        if (c.phase != FUNDING) revert Rejected("REVERT", "channelId");
        if (msg.sender != c.b) revert Rejected("REVERT", "sender");
        if (block.number > c.fundingDeadline) revert Rejected("REVERT", "channelId");
        if (msg.value != c.declaredDepositB) revert Rejected("REVERT", "value");
        c.depositB = uint128(msg.value);
        c.phase = OPEN;
        emit Funded(id, c.depositA, msg.value);
    }

    function refund(bytes32 id) external {
        Channel storage c = config(id);
        if (c.phase != FUNDING) revert Rejected("REVERT", "channelId");
        if (msg.sender != c.a) revert Rejected("REVERT", "sender");
        if (block.number <= c.fundingDeadline) revert Rejected("REVERT", "channelId");
        uint256 amount = c.depositA;
        c.phase = CLOSED;
        c.depositA = 0;
        c.depositB = 0;
        pay(c.a, amount);
        emit Refunded(id, amount);
    }

    /// A deposit lands only with a state signed by both that accounts for it
    /// (Σ state = deposits + value), so no one can make the signed states
    /// unenforceable by depositing outside them.
    function topUp(State calldata s, Signature calldata sigA, Signature calldata sigB) external payable {
        Channel storage c = config(s.channelId);
        if (c.phase != OPEN) revert Rejected("REVERT", "state.channelId");
        if (msg.value == 0) revert Rejected("REVERT", "value");
        int8 who = partyOf(c, msg.sender);
        if (who == -1) revert Rejected("REVERT", "sender");
        uint128 depA = c.depositA;
        uint128 depB = c.depositB;
        if (who == 0) depA = add128(depA, msg.value);
        else depB = add128(depB, msg.value);
        checkSigned(c, s, sigA, sigB, uint256(depA) + depB);
        c.depositA = depA;
        c.depositB = depB;
        emit ToppedUp(s.channelId, uint8(who), msg.value, depA, depB, s.version);
    }

    // ------------------------------------------------------------ closing

    function close(State calldata s, Signature calldata sigA, Signature calldata sigB) external {
        Channel storage c = config(s.channelId);
        if (c.phase != OPEN && c.phase != DISPUTED) revert Rejected("REVERT", "state.channelId");
        if (!s.isFinal) revert Rejected("REVERT", "state.isFinal");
        checkSigned(c, s, sigA, sigB, uint256(c.depositA) + c.depositB);
        if (c.phase == DISPUTED && s.version <= disputes[s.channelId].version) revert Rejected("REVERT", "state.version");
        uint256 lockedSum = keep(s.channelId, s.locked);
        payout(c, s.channelId, s.balanceA, s.balanceB, lockedSum, s.version, -1);
    }

    function register(State calldata s, Signature calldata sigA, Signature calldata sigB) external {
        Channel storage c = config(s.channelId);
        if (c.phase != OPEN) revert Rejected("REVERT", "state.channelId");
        int8 by = partyOf(c, msg.sender);
        if (by == -1) revert Rejected("REVERT", "sender");
        checkSigned(c, s, sigA, sigB, uint256(c.depositA) + c.depositB);
        uint32 deadline = uint32(block.number + c.disputeWindow);
        storeDispute(s, deadline, by, 0);
        c.phase = DISPUTED;
        emit Registered(s.channelId, s.version, deadline, msg.sender);
    }

    function challenge(State calldata s, Signature calldata sigA, Signature calldata sigB) external {
        Channel storage c = config(s.channelId);
        if (c.phase != DISPUTED) revert Rejected("REVERT", "state.channelId");
        Dispute storage old = disputes[s.channelId];
        if (block.number > old.deadline) revert Rejected("REVERT", "state");
        if (s.version <= old.version) revert Rejected("REVERT", "state.version");
        checkSigned(c, s, sigA, sigB, uint256(c.depositA) + c.depositB);
        uint8 cheaters = old.cheaters;
        if (c.penalty == SLASH && old.by != -1 && s.version >= uint256(old.version) + 2) cheaters |= uint8(1) << uint8(old.by);
        // Perun's storeChallenge: the deadline is the registration's, never extended.
        uint32 deadline = old.deadline;
        storeDispute(s, deadline, partyOf(c, msg.sender), cheaters);
        emit Challenged(s.channelId, s.version, deadline, msg.sender);
    }

    function finalize(bytes32 id) external {
        Channel storage c = config(id);
        if (c.phase != DISPUTED) revert Rejected("REVERT", "channelId");
        Dispute memory d = disputes[id];
        if (block.number <= d.deadline) revert Rejected("REVERT", "channelId");
        uint256 balA = d.balanceA;
        uint256 balB = d.balanceB;
        int8 slashed = -1;
        if (d.cheaters == 1) {
            slashed = 0;
            balB += balA;
            balA = 0;
        } else if (d.cheaters == 2) {
            slashed = 1;
            balA += balB;
            balB = 0;
        }
        StoredLock[] storage locks = disputeLocks[id];
        uint256 lockedSum = 0;
        for (uint256 i = 0; i < locks.length; i++) {
            StoredLock storage l = locks[i];
            kept[id][l.id] = Kept(l.hash, l.amount, l.direction, l.expiry);
            lockedSum += l.amount;
        }
        delete disputeLocks[id];
        delete disputes[id];
        payout(c, id, balA, balB, lockedSum, d.version, slashed);
    }

    function payout(Channel storage c, bytes32 id, uint256 balA, uint256 balB, uint256 lockedSum, uint64 version, int8 slashed) internal {
        c.phase = CLOSED;
        c.depositA = 0;
        c.depositB = 0;
        address a = c.a;
        address b = c.b;
        if (balA != 0) pay(a, balA);
        if (balB != 0) pay(b, balB);
        emit Concluded(id, version, balA, balB, lockedSum, slashed);
    }

    function keep(bytes32 id, Lock[] calldata locked) internal returns (uint256 sum) {
        for (uint256 i = 0; i < locked.length; i++) {
            Lock calldata l = locked[i];
            kept[id][l.id] = Kept(l.hash, uint128(l.amount), l.direction, l.expiry);
            sum += l.amount;
        }
    }

    function resolveLocked(bytes32 id, bytes32 lockId, bytes calldata witness) external {
        Kept memory k = kept[id][lockId];
        if (k.amount == 0) revert Rejected("REVERT", "lockId");
        uint256 toA;
        uint256 toB;
        if (witness.length == 0) {
            if (block.number < k.expiry) revert Rejected("REVERT", "witness");
            (toA, toB) = k.direction == 0 ? (uint256(k.amount), uint256(0)) : (uint256(0), uint256(k.amount));
        } else {
            bool ok;
            (ok, toA, toB) = splitWithWitness(id, lockId, k, witness);
            if (!ok || toA + toB != k.amount) revert Rejected("REVERT", "witness");
        }
        delete kept[id][lockId];
        // One LockedResolved per party paid (one for an HTLC; two when a subclass splits the entry).
        if (toA != 0) payLocked(id, lockId, channels[id].a, toA);
        if (toB != 0) payLocked(id, lockId, channels[id].b, toB);
    }

    function payLocked(bytes32 id, bytes32 lockId, address who, uint256 amount) internal {
        pay(who, amount);
        emit LockedResolved(id, lockId, who, amount);
    }

    /// How a locked entry is paid given a non-empty witness: (accepted, to A,
    /// to B). The default gives the whole entry to whoever resolveWithWitness
    /// names; the virtual channel's adjudicator splits it by an outcome.
    function splitWithWitness(bytes32 id, bytes32, Kept memory k, bytes calldata witness) internal virtual returns (bool ok, uint256 toA, uint256 toB) {
        uint8 to;
        (ok, to) = resolveWithWitness(id, k, witness);
        if (ok) (toA, toB) = to == 0 ? (uint256(k.amount), uint256(0)) : (uint256(0), uint256(k.amount));
    }

    /// Who gets a locked entry given a non-empty witness. The base adjudicator
    /// knows no conditions; the HTLC adjudicator releases on a preimage.
    function resolveWithWitness(bytes32, Kept memory, bytes calldata) internal virtual returns (bool, uint8) {
        return (false, 0);
    }

    // ------------------------------------------------------------ checks and storage

    function config(bytes32 id) internal view returns (Channel storage c) {
        c = channels[id];
        if (c.phase == 0) revert Rejected("REVERT", "channelId");
    }

    function partyOf(Channel storage c, address who) internal view returns (int8) {
        return who == c.a ? int8(0) : who == c.b ? int8(1) : int8(-1);
    }

    function keyAddress(bytes32[2] calldata pk) internal pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encodePacked(pk[0], pk[1])))));
    }

    function storeDispute(State calldata s, uint32 deadline, int8 by, uint8 cheaters) internal {
        disputes[s.channelId] = Dispute(s.version, deadline, by, cheaters, uint128(s.balanceA), uint128(s.balanceB));
        StoredLock[] storage locks = disputeLocks[s.channelId];
        // Entries beyond the new length are cleared (refunded); the others overwritten.
        uint256 n = s.locked.length;
        while (locks.length > n) locks.pop();
        for (uint256 i = 0; i < n; i++) {
            Lock calldata l = s.locked[i];
            StoredLock memory stored = StoredLock(l.id, l.hash, uint128(l.amount), l.expiry, l.direction);
            if (i < locks.length) locks[i] = stored;
            else locks.push(stored);
        }
    }

    /// Conservation against the deposits, unique positive locks, then both signatures over the state digest.
    function checkSigned(Channel storage c, State calldata s, Signature calldata sigA, Signature calldata sigB, uint256 deposits) internal view {
        uint256 total = s.balanceA + s.balanceB;
        uint256 n = s.locked.length;
        if (n > MAX_LOCKED) revert Rejected("REVERT", "state.locked");
        for (uint256 i = 0; i < n; i++) {
            if (s.locked[i].amount == 0) revert Rejected("REVERT", "state.locked");
            total += s.locked[i].amount;
        }
        if (total != deposits) revert Rejected("REVERT", "state.balances");
        for (uint256 i = 1; i < n; i++)
            for (uint256 j = 0; j < i; j++) if (s.locked[i].id == s.locked[j].id) revert Rejected("REVERT", "state.locked");
        bytes32 digest = stateDigest(s);
        if (!Sig.verify(digest, sigA.r, sigA.vs, c.a)) revert Rejected("REVERT", "sigA");
        if (!Sig.verify(digest, sigB.r, sigB.vs, c.b)) revert Rejected("REVERT", "sigB");
    }

    /// keccakTagged(STATE_TAG, chainId ‖ adjudicator ‖ encode(state)) in the project's codec.
    function stateDigest(State calldata s) public view returns (bytes32) {
        uint256 from = Codec.start();
        uint256 p = Codec.put(from, uint256(STATE_TAG), 32);
        p = Codec.put(p, block.chainid, 8);
        p = Codec.put(p, uint160(address(this)), 20);
        p = Codec.put(p, uint256(s.channelId), 32);
        p = Codec.put(p, s.version, 8);
        p = Codec.putAmount(p, s.balanceA);
        p = Codec.putAmount(p, s.balanceB);
        uint256 n = s.locked.length;
        p = Codec.put(p, n, 4);
        for (uint256 i = 0; i < n; i++) {
            Lock calldata l = s.locked[i];
            p = Codec.put(p, uint256(l.id), 32);
            p = Codec.putAmount(p, l.amount);
            p = Codec.put(p, l.direction, 1);
            p = Codec.put(p, uint256(l.hash), 32);
            p = Codec.put(p, l.expiry, 8);
        }
        p = Codec.put(p, s.isFinal ? 1 : 0, 1);
        return Codec.hash(from, p);
    }

    function add128(uint128 a, uint256 b) internal pure returns (uint128) {
        uint256 r = uint256(a) + b;
        if (r > type(uint128).max) revert Rejected("AMOUNT", "value");
        return uint128(r);
    }

    function pay(address who, uint256 amount) internal {
        (bool ok,) = payable(who).call{value: amount}("");
        if (!ok) revert Rejected("TRANSFER_FAILED", "to");
    }

    // ------------------------------------------------------------ views

    function channel(bytes32 id) external view returns (Channel memory, Dispute memory, StoredLock[] memory) {
        return (channels[id], disputes[id], disputeLocks[id]);
    }

    function locked(bytes32 id, bytes32 lockId) external view returns (Kept memory) {
        return kept[id][lockId];
    }
}

/// The HTLC router's adjudicator (packages/htlc-router/src/htlc/adjudicator.ts):
/// a locked entry goes to the receiver on its 32-byte preimage before expiry;
/// the first claim records the preimage (so an upstream hop can learn it).
contract HtlcAdjudicator is PaymentChannelAdjudicator {
    struct Revealed {
        bytes32 preimage;
        uint64 height;
    }

    mapping(bytes32 => Revealed) internal preimages;

    event PreimageRevealed(bytes32 indexed hash, bytes32 preimage, bytes32 channelId);

    function resolveWithWitness(bytes32 id, Kept memory k, bytes calldata witness) internal override returns (bool, uint8) {
        if (witness.length != 32) return (false, 0);
        if (sha256(witness) != k.hash) return (false, 0);
        // After the expiry only the refund applies.
        if (block.number >= k.expiry) return (false, 0);
        if (preimages[k.hash].height == 0) preimages[k.hash] = Revealed(bytes32(witness), uint64(block.number));
        emit PreimageRevealed(k.hash, bytes32(witness), id);
        return (true, k.direction == 0 ? 1 : 0);
    }

    function preimage(bytes32 hash) external view returns (Revealed memory) {
        return preimages[hash];
    }
}
