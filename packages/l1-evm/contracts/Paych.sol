// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Codec, Rejected, Sig} from "./L2Bench.sol";

/// Filecoin-style voucher channels: the Solidity port of
/// packages/paych-manager/src/contract.ts (PaychContract), with the voucher
/// rules of packages/paych-manager/src/rules.ts checked in the same order, so
/// the first broken rule gives the same code on both backends.
///
/// Differences forced by the EVM, handled by the client binding:
///  - A contract cannot see its transaction's hash; the TypeScript contract
///    derives a channel's address from it. The binding passes that hash as
///    `salt`, and the address is derived exactly as in TypeScript.
///  - The sender's public key is not stored (a signature is checked against the
///    stored `from` address with ecrecover). create takes it uncompressed,
///    checks it hashes to the sender, and logs it, so a receiver can read it.
contract Paych {
    uint256 internal constant LANE_LIMIT = 256;
    uint256 internal constant MAX_MERGES = 16;
    uint256 internal constant MAX_SECRET_BYTES = 256;
    bytes32 internal constant CHANNEL_TAG = keccak256("l2bench/paych/channel/v1");
    bytes32 internal constant VOUCHER_TAG = keccak256("l2bench/paych/voucher/v1");

    struct Channel {
        // slot 0
        address from;
        uint32 settlingAt;
        uint32 minSettleHeight;
        uint16 laneCount;
        bool closed;
        // slot 1
        address to;
        uint64 version;
        // slot 2
        uint128 balance;
        uint128 toSend;
    }

    /// nonce 0 = the lane was never used (a voucher's nonce is at least 1).
    struct Lane {
        uint64 nonce;
        uint128 redeemed;
    }

    struct Merge {
        uint32 lane;
        uint64 nonce;
    }

    struct Voucher {
        address channel;
        uint32 timeLockMin;
        uint32 timeLockMax;
        bool hasSecretHash;
        bytes32 secretHash;
        uint32 lane;
        uint64 nonce;
        uint256 amount;
        uint32 minSettleHeight;
        Merge[] merges;
        bytes32 r;
        bytes32 vs;
    }

    uint32 public immutable settleDelay;
    mapping(address => Channel) internal channels;
    mapping(address => mapping(uint32 => Lane)) internal lanes;

    event Create(address indexed channel, address indexed from, address indexed to, uint256 amount, bytes32 keyX, bytes32 keyY);
    event AddFunds(address indexed channel, uint256 amount, uint256 balance);
    event Update(address indexed channel, uint32 lane, uint64 nonce, uint256 amount, uint256 toSend, bool revealed, bytes secret);
    event Settle(address indexed channel, uint32 settlingAt, address from, address to);
    event Collect(address indexed channel, uint256 toTo, uint256 toFrom);

    constructor(uint32 settleDelay_) {
        settleDelay = settleDelay_;
    }

    function create(address to, bytes32 salt, bytes32 keyX, bytes32 keyY) external payable returns (address channel) {
        if (address(uint160(uint256(keccak256(abi.encodePacked(keyX, keyY))))) != msg.sender) revert Rejected("BAD_PUBLIC_KEY", "fromPublicKey");
        if (to == msg.sender) revert Rejected("INVALID_INPUT", "to");
        uint256 from = Codec.start();
        uint256 p = Codec.put(from, uint256(CHANNEL_TAG), 32);
        p = Codec.put(p, uint160(address(this)), 20);
        p = Codec.put(p, uint256(salt), 32);
        channel = address(uint160(uint256(Codec.hash(from, p))));
        Channel storage c = channels[channel];
        if (c.from != address(0)) revert Rejected("INVALID_INPUT", "channel");
        c.from = msg.sender;
        c.to = to;
        c.version = 1;
        c.balance = uint128(msg.value);
        emit Create(channel, msg.sender, to, msg.value, keyX, keyY);
    }

    function load(address channel) internal view returns (Channel storage c) {
        c = channels[channel];
        if (c.from == address(0)) revert Rejected("UNKNOWN_CHANNEL", "channel");
        if (c.closed) revert Rejected("CHANNEL_CLOSED", "channel");
    }

    function requireParty(Channel storage c) internal view {
        if (msg.sender != c.from && msg.sender != c.to) revert Rejected("NOT_PARTY", "sender");
    }

    function addFunds(address channel) external payable {
        if (msg.value == 0) revert Rejected("ZERO_AMOUNT", "value");
        Channel storage c = load(channel);
        if (c.settlingAt != 0 && block.number >= c.settlingAt) revert Rejected("SETTLING_FINISHED", "channel");
        uint256 balance = uint256(c.balance) + msg.value;
        if (balance > type(uint128).max) revert Rejected("AMOUNT", "value");
        c.balance = uint128(balance);
        c.version += 1;
        emit AddFunds(channel, msg.value, balance);
    }

    /// keccakTagged(VOUCHER_TAG, chainId ‖ contract ‖ encode(voucher body)) in the project's codec.
    function voucherDigest(Voucher calldata v) public view returns (bytes32) {
        uint256 from = Codec.start();
        uint256 p = Codec.put(from, uint256(VOUCHER_TAG), 32);
        p = Codec.put(p, block.chainid, 8);
        p = Codec.put(p, uint160(address(this)), 20);
        p = Codec.put(p, uint160(v.channel), 20);
        p = Codec.put(p, v.timeLockMin, 4);
        p = Codec.put(p, v.timeLockMax, 4);
        if (v.hasSecretHash) {
            p = Codec.put(p, 1, 1);
            p = Codec.put(p, uint256(v.secretHash), 32);
        } else {
            p = Codec.put(p, 0, 1);
        }
        p = Codec.put(p, v.lane, 4);
        p = Codec.put(p, v.nonce, 8);
        p = Codec.putAmount(p, v.amount);
        p = Codec.put(p, v.minSettleHeight, 4);
        uint256 n = v.merges.length;
        p = Codec.put(p, n, 4);
        for (uint256 i = 0; i < n; i++) {
            p = Codec.put(p, v.merges[i].lane, 4);
            p = Codec.put(p, v.merges[i].nonce, 8);
        }
        return Codec.hash(from, p);
    }

    /// rules.ts 1–6: channel, settling, signature, time locks, secret.
    function checkVoucher(Channel storage c, Voucher calldata v, bool hasSecret, bytes calldata secret) internal view {
        if (c.settlingAt != 0 && block.number >= c.settlingAt) revert Rejected("SETTLING_FINISHED", "channel");
        if (v.merges.length > MAX_MERGES) revert Rejected("DECODE", "voucher.merges");
        if (!Sig.verify(voucherDigest(v), v.r, v.vs, c.from)) revert Rejected("BAD_SIGNATURE", "voucher.signature");
        if (block.number < v.timeLockMin) revert Rejected("TIME_LOCK_MIN", "voucher.timeLockMin");
        if (v.timeLockMax != 0 && block.number > v.timeLockMax) revert Rejected("VOUCHER_EXPIRED", "voucher.timeLockMax");
        if (v.hasSecretHash) {
            if (!hasSecret || sha256(secret) != v.secretHash) revert Rejected("SECRET_MISMATCH", "secret");
        }
    }

    /// rules.ts 8: merges; returns what the merged lanes had redeemed.
    function applyMerges(address channel, Voucher calldata v) internal returns (uint256 redeemedFromOthers) {
        for (uint256 i = 0; i < v.merges.length; i++) {
            Merge calldata m = v.merges[i];
            if (m.lane == v.lane) revert Rejected("MERGE_SAME_LANE", mergeField(i));
            for (uint256 j = 0; j < i; j++) if (v.merges[j].lane == m.lane) revert Rejected("MERGE_DUPLICATE_LANE", mergeField(i));
            Lane storage other = lanes[channel][m.lane];
            if (other.nonce == 0) revert Rejected("MERGE_UNKNOWN_LANE", mergeField(i));
            if (other.nonce >= m.nonce) revert Rejected("MERGE_NONCE_TOO_LOW", mergeField(i));
            redeemedFromOthers += other.redeemed;
            other.nonce = m.nonce;
        }
    }

    function update(Voucher calldata v, bool hasSecret, bytes calldata secret) external returns (uint256 delta, uint256 toSend) {
        if (secret.length > MAX_SECRET_BYTES) revert Rejected("DECODE", "secret");
        Channel storage c = load(v.channel);
        requireParty(c);
        checkVoucher(c, v, hasSecret, secret);
        Lane storage lane = lanes[v.channel][v.lane];
        bool newLane = lane.nonce == 0;
        // rules.ts 7
        if (v.nonce == 0) revert Rejected("NONCE_TOO_LOW", "voucher.nonce");
        if (!newLane && v.nonce <= lane.nonce) revert Rejected("NONCE_TOO_LOW", "voucher.nonce");
        if (newLane && c.laneCount >= LANE_LIMIT) revert Rejected("TOO_MANY_LANES", "voucher.lane");
        uint256 fromOthers = applyMerges(v.channel, v);
        // rules.ts 9–11
        uint256 laneRedeemed = lane.redeemed;
        if (!newLane && v.amount <= laneRedeemed) revert Rejected("AMOUNT_NOT_INCREASING", "voucher.amount");
        if (v.amount < fromOthers + laneRedeemed) revert Rejected("MERGE_LOWERS_TO_SEND", "voucher.merges");
        delta = v.amount - (fromOthers + laneRedeemed);
        toSend = uint256(c.toSend) + delta;
        if (toSend > c.balance) revert Rejected("INSUFFICIENT_CHANNEL_FUNDS", "voucher.amount");
        lane.nonce = v.nonce;
        lane.redeemed = uint128(v.amount);
        c.toSend = uint128(toSend);
        if (newLane) c.laneCount += 1;
        finishUpdate(c, v, toSend, secret);
    }

    function finishUpdate(Channel storage c, Voucher calldata v, uint256 toSend, bytes calldata secret) internal {
        if (v.minSettleHeight != 0) {
            if (c.settlingAt != 0 && c.settlingAt < v.minSettleHeight) c.settlingAt = v.minSettleHeight;
            if (c.minSettleHeight < v.minSettleHeight) c.minSettleHeight = v.minSettleHeight;
        }
        c.version += 1;
        // A redeemed hash lock publishes its secret (seed 004 V1: the hub redeems its own voucher with it).
        emit Update(v.channel, v.lane, v.nonce, v.amount, toSend, v.hasSecretHash, v.hasSecretHash ? secret : bytes(""));
    }

    function settle(address channel) external returns (uint32 settlingAt) {
        Channel storage c = load(channel);
        requireParty(c);
        if (c.settlingAt != 0) revert Rejected("ALREADY_SETTLING", "channel");
        uint256 at = block.number + settleDelay;
        if (at < c.minSettleHeight) at = c.minSettleHeight;
        settlingAt = uint32(at);
        c.settlingAt = settlingAt;
        c.version += 1;
        emit Settle(channel, settlingAt, c.from, c.to);
    }

    function collect(address channel) external returns (uint256 toTo, uint256 toFrom) {
        Channel storage c = load(channel);
        requireParty(c);
        if (c.settlingAt == 0) revert Rejected("NOT_SETTLING", "channel");
        if (block.number < c.settlingAt) revert Rejected("SETTLE_NOT_DUE", "channel");
        toTo = c.toSend;
        toFrom = uint256(c.balance) - toTo;
        c.balance = 0;
        c.toSend = 0;
        c.closed = true;
        c.version += 1;
        address to = c.to;
        address from = c.from;
        if (toTo != 0) pay(to, toTo);
        if (toFrom != 0) pay(from, toFrom);
        emit Collect(channel, toTo, toFrom);
    }

    function pay(address who, uint256 amount) internal {
        (bool ok,) = payable(who).call{value: amount}("");
        if (!ok) revert Rejected("TRANSFER_FAILED", "to");
    }

    function channel(address id) external view returns (Channel memory) {
        return channels[id];
    }

    function laneStates(address id, uint32[] calldata ids) external view returns (Lane[] memory out) {
        out = new Lane[](ids.length);
        for (uint256 i = 0; i < ids.length; i++) out[i] = lanes[id][ids[i]];
    }

    function mergeField(uint256 i) internal pure returns (string memory) {
        return string.concat("voucher.merges[", toString(i), "]");
    }

    function toString(uint256 v) internal pure returns (string memory) {
        if (v == 0) return "0";
        bytes memory b;
        for (; v != 0; v /= 10) b = abi.encodePacked(uint8(48 + (v % 10)), b);
        return string(b);
    }
}
