// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Rejected} from "./L2Bench.sol";

/// Baby Jubjub (the twisted Edwards curve a·x² + y² = 1 + d·x²·y² over the
/// BN254 scalar field, circomlib's parameters): the prime-order subgroup check
/// of an L2 public key, which the EVM has no precompile for.
///
/// The curve's group has order 8·l (l prime), so multiplying by the cofactor 8
/// maps it onto the subgroup of order l, and A is in that subgroup exactly when
/// A = 8·B for some curve point B. The depositor's client supplies the hint
/// B = (8⁻¹ mod l)·A (zk-rollup's subgroupHint); the contract checks that B is
/// on the curve and that three doublings of B give A — a few thousand gas
/// instead of the ~338,000 of computing l·A by double-and-add in Solidity
/// (measured on this port before it took the hint). A wrong or missing hint,
/// a key off the curve, or a key with a small-order component is refused.
library BabyJubjub {
    uint256 internal constant P = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant A = 168700;
    uint256 internal constant D = 168696;

    function onCurve(uint256 x, uint256 y) internal pure returns (bool) {
        if (x >= P || y >= P) return false;
        uint256 xx = mulmod(x, x, P);
        uint256 yy = mulmod(y, y, P);
        return addmod(mulmod(A, xx, P), yy, P) == addmod(1, mulmod(D, mulmod(xx, yy, P), P), P);
    }

    /// A key the circuit and the TypeScript contract accept (keys.ts isValidPublicKey):
    /// two field elements, x ≠ 0 (not the identity, not the point of order 2), and
    /// (x, y) = 8·(hx, hy) for the curve point (hx, hy): in the prime-order subgroup.
    function isSubgroupKey(uint256 x, uint256 y, uint256 hx, uint256 hy) internal pure returns (bool ok) {
        if (x == 0 || x >= P || y >= P || !onCurve(hx, hy)) return false;
        assembly ("memory-safe") {
            let p := P
            let rx := hx
            let ry := hy
            let rz := 1
            // three doublings (dbl-2008-bbjlp, projective; complete on this curve)
            for { let i := 0 } lt(i, 3) { i := add(i, 1) } {
                let s := addmod(rx, ry, p)
                let b := mulmod(s, s, p)
                let c := mulmod(rx, rx, p)
                let dd := mulmod(ry, ry, p)
                let e := mulmod(168700, c, p)
                let f := addmod(e, dd, p)
                let h := mulmod(rz, rz, p)
                let j := addmod(f, sub(p, addmod(h, h, p)), p)
                rx := mulmod(addmod(b, sub(p, addmod(c, dd, p)), p), j, p)
                ry := mulmod(f, addmod(e, sub(p, dd), p), p)
                rz := mulmod(f, j, p)
            }
            // (rx : ry : rz) = (x, y) projectively
            ok := and(iszero(iszero(rz)), and(eq(rx, mulmod(x, rz, p)), eq(ry, mulmod(y, rz, p))))
        }
    }
}

/// The zk-rollup's L1 contract: the Solidity port of
/// packages/zk-rollup/src/contract.ts (RollupContract) — the deposit queue,
/// the payee table, submitBatch with its calldata bound to the proof's public
/// inputs, and withdrawals — with the same checks in the same order and the
/// same revert codes and fields. One storage slot per key of the TypeScript
/// contract's layout (contract-storage.ts), so both charge the same accesses.
///
/// The Groth16 verifier is snarkjs's export for the circuit actually built
/// (packages/l1-evm/src/groth16.ts), a separate contract this one calls
/// (its verifyProof ends with an assembly `return`, so it cannot be inlined).
///
/// Not ported yet: the escape hatch of exodus.ts (forceWithdraw, refuteForced,
/// activateExodus, exit, refundDeposit, claimByKey), which needs Poseidon and
/// EdDSA-Poseidon on chain. The storage it reads here (the exodus flag, open
/// forced requests) is kept, so submitBatch and deposit pay what they will.
contract Rollup {
    uint256 internal constant P = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    uint256 internal constant MAX_BALANCE = (uint256(1) << 128) - 1;
    uint256 internal constant DEPOSIT_ENTRY_BYTES = 80;
    uint256 internal constant MASK_253 = (uint256(1) << 253) - 1;
    uint256 internal constant OP_TRANSFER = 1;
    uint256 internal constant OP_WITHDRAW = 2;

    bytes32 internal constant DEPOSIT_TAG = keccak256("l2bench/zk-rollup/deposit/v1");
    bytes32 internal constant LEAF_TAG = keccak256("l2bench/zk-rollup/withdrawal-leaf/v1");
    bytes32 internal constant KEY_LEAF_TAG = keccak256("l2bench/zk-rollup/withdrawal-leaf-key/v1");
    bytes32 internal constant NODE_TAG = keccak256("l2bench/zk-rollup/withdrawal-node/v1");
    bytes32 internal constant COMMIT_TAG = keccak256("l2bench/zk-rollup/withdrawals/v1");

    /// One queued deposit: a 20-byte hash of (key, amount) and the time it was queued.
    struct QueueEntry {
        bytes20 hash;
        uint64 at;
    }

    // Circuit parameters and configuration.
    uint256 public immutable n;
    uint256 public immutable d;
    uint256 public immutable depth;
    /// true: the sha binding (one public input), false: packed.
    bool public immutable sha;
    uint256 public immutable genesisRoot;
    uint256 public immutable minDeposit;
    uint256 public immutable forcedDelaySeconds;
    address public immutable verifier;
    bytes4 internal immutable verifySelector;
    uint256 internal immutable indexBytes;
    uint256 internal immutable keyPayeeId;

    // One slot per key of the TypeScript layout (contract-storage.ts K).
    uint256 internal root_;
    uint256 public batches;
    uint256 public queueLength;
    uint256 public queueHead;
    uint256 public payees;
    uint256 public leavesReserved;
    bool public exodus;
    mapping(uint256 => QueueEntry) internal queue;
    mapping(uint256 => address) public payeeOf;
    /// payee id + 1 (0: not registered).
    mapping(address => uint256) internal payeeIdPlus1;
    mapping(uint256 => bytes32) public withdrawalCommitment;
    mapping(uint256 => mapping(uint256 => bool)) public claimed;
    /// keccak256(x, y) of a key that has reserved a leaf.
    mapping(bytes32 => bool) internal keyLeaf;
    /// Open forced withdrawal per account (exodus.ts; packed payee, amount, nonce, key hash, deadline).
    mapping(uint256 => uint256) internal forced;

    event Deposit(uint256 indexed index, uint256 pubX, uint256 pubY, uint256 amount, address from);
    event PayeeRegistered(uint256 indexed id, address payee);
    event BatchVerified(uint256 indexed batch, uint256 oldRoot, uint256 newRoot, uint256 deposits, uint256 ops, uint256 withdrawals);
    event Withdrawn(uint256 indexed batch, uint256 position, address payee, uint256 amount);
    event ForcedServed(uint256 indexed from, uint256 to, uint256 amount);

    constructor(
        uint256 n_,
        uint256 d_,
        uint256 depth_,
        bool sha_,
        uint256 genesisRoot_,
        uint256 minDeposit_,
        uint256 forcedDelaySeconds_,
        address verifier_,
        bytes4 verifySelector_
    ) {
        n = n_;
        d = d_;
        depth = depth_;
        sha = sha_;
        genesisRoot = genesisRoot_;
        minDeposit = minDeposit_;
        forcedDelaySeconds = forcedDelaySeconds_;
        verifier = verifier_;
        verifySelector = verifySelector_;
        indexBytes = (depth_ + 7) / 8;
        keyPayeeId = (uint256(1) << depth_) - 1;
    }

    // ------------------------------------------------------------ deposits and payees

    /// `hintX`, `hintY`: the curve point whose 8-fold is the key (BabyJubjub.isSubgroupKey).
    function deposit(uint256 pubX, uint256 pubY, uint256 hintX, uint256 hintY) external payable returns (uint256 index) {
        if (exodus) revert Rejected("EXODUS", "type");
        if (!BabyJubjub.isSubgroupKey(pubX, pubY, hintX, hintY)) revert Rejected("BAD_DEPOSIT", "pubX");
        if (msg.value < minDeposit) revert Rejected("DEPOSIT_TOO_SMALL", "value");
        // The escrow (which already includes this value) bounds every L2 balance.
        if (address(this).balance > MAX_BALANCE) revert Rejected("ESCROW_FULL", "value");
        bytes32 key = keccak256(abi.encode(pubX, pubY));
        if (!keyLeaf[key]) {
            uint256 reserved = leavesReserved;
            if (reserved >= uint256(1) << depth) revert Rejected("TREE_FULL", "pubX");
            keyLeaf[key] = true;
            leavesReserved = reserved + 1;
        }
        index = queueLength;
        queue[index] = QueueEntry(entryHash(pubX, pubY, msg.value), uint64(block.timestamp));
        queueLength = index + 1;
        emit Deposit(index, pubX, pubY, msg.value, msg.sender);
    }

    function registerPayee(address payee) external returns (uint256 id) {
        uint256 existing = payeeIdPlus1[payee];
        if (existing != 0) return existing - 1;
        id = payees;
        // The last id is reserved: a withdrawal to it is claimed with the account's key.
        if (id >= keyPayeeId) revert Rejected("PAYEES_EXHAUSTED", "payee");
        payeeOf[id] = payee;
        payeeIdPlus1[payee] = id + 1;
        payees = id + 1;
        emit PayeeRegistered(id, payee);
    }

    // ------------------------------------------------------------ batches

    /// The decoded shape of a posted body (calldata.ts decodeBatchCalldata), as offsets into calldata.
    struct Body {
        uint256 newRoot;
        uint256 k;
        uint256 m;
        /// calldata offset of the first deposit slot / op slot
        uint256 deposits;
        uint256 ops;
    }

    function submitBatch(bytes calldata body, uint256[8] calldata proof, uint256[] calldata publicInputs)
        external
        returns (uint256 batch, address[] memory paid)
    {
        if (exodus) revert Rejected("EXODUS", "type");
        Body memory b = decodeBody(body);
        uint256 count = sha ? 1 : 2 + (circuitBodyBytes() + 30) / 31;
        if (publicInputs.length != count) revert Rejected("PUBLIC_INPUT_COUNT", "publicInputs");
        for (uint256 i = 0; i < count; i++)
            if (publicInputs[i] >= P) revert Rejected("PUBLIC_INPUT_OUT_OF_FIELD", fieldAt("publicInputs[", i, "]"));

        // Deposits: the body must carry exactly the next queue entries.
        uint256 head = queueHead;
        if (head + b.k > queueLength) revert Rejected("DEPOSIT_MISMATCH", "body.deposits");
        uint256 slot = indexBytes + DEPOSIT_ENTRY_BYTES;
        for (uint256 i = 0; i < b.k; i++) {
            uint256 at = b.deposits + i * slot + indexBytes;
            uint256 x;
            uint256 y;
            uint256 amount;
            assembly {
                x := calldataload(at)
                y := calldataload(add(at, 32))
                amount := shr(128, calldataload(add(at, 64)))
            }
            if (queue[head + i].hash != entryHash(x, y, amount)) revert Rejected("DEPOSIT_MISMATCH", fieldAt("body.deposits[", i, "]"));
        }

        // The expected public inputs, from what this contract holds.
        uint256 oldRoot = root();
        checkPublicInputs(b, oldRoot, publicInputs);

        for (uint256 i = 0; i < 8; i++) if (proof[i] >= Q) revert Rejected("MALFORMED_PROOF", "proof");
        if (!verify(proof, publicInputs)) revert Rejected("INVALID_PROOF", "proof");

        // Effects.
        batch = batches;
        paid = withdrawalsOf(b, batch);
        root_ = b.newRoot;
        batches = batch + 1;
        if (b.k > 0) queueHead = head + b.k;
        emit BatchVerified(batch, oldRoot, b.newRoot, b.k, b.m, paid.length);
    }

    function root() public view returns (uint256) {
        uint256 r = root_;
        return r == 0 ? genesisRoot : r;
    }

    function circuitBodyBytes() internal view returns (uint256) {
        return 29 + d * (indexBytes + DEPOSIT_ENTRY_BYTES) + n * (1 + 2 * indexBytes + 5);
    }

    /// Strict decoding, in the order and with the fields of calldata.ts.
    function decodeBody(bytes calldata body) internal view returns (Body memory b) {
        if (body.length < 35) revert Rejected("MALFORMED_CALLDATA", "body");
        uint256 off;
        assembly {
            off := body.offset
        }
        b.newRoot = uint256(bytes32(body[0:32]));
        if (b.newRoot >= P) revert Rejected("MALFORMED_CALLDATA", "body.newRoot");
        b.k = uint8(body[32]);
        b.m = (uint256(uint8(body[33])) << 8) | uint8(body[34]);
        if (b.k > d) revert Rejected("MALFORMED_CALLDATA", "body.depositCount");
        if (b.m > n) revert Rejected("MALFORMED_CALLDATA", "body.opCount");
        uint256 ib = indexBytes;
        uint256 dslot = ib + DEPOSIT_ENTRY_BYTES;
        uint256 oslot = 1 + 2 * ib + 5;
        if (body.length != 35 + b.k * dslot + b.m * oslot) revert Rejected("MALFORMED_CALLDATA", "body");
        uint256 max = uint256(1) << depth;
        uint256 ishift = 256 - 8 * ib;
        b.deposits = off + 35;
        for (uint256 i = 0; i < b.k; i++) {
            uint256 at = b.deposits + i * dslot;
            uint256 index;
            uint256 x;
            uint256 y;
            uint256 amount;
            assembly {
                index := shr(ishift, calldataload(at))
                x := calldataload(add(at, ib))
                y := calldataload(add(add(at, ib), 32))
                amount := shr(128, calldataload(add(add(at, ib), 64)))
            }
            if (index >= max) revert Rejected("MALFORMED_CALLDATA", fieldAt("body.deposits[", i, "].index"));
            // The key's subgroup membership is not re-checked: the entry must equal a queued
            // deposit's, whose key deposit() checked (an off-subgroup key can only mismatch).
            if (x == 0 || x >= P || y >= P) revert Rejected("MALFORMED_CALLDATA", fieldAt("body.deposits[", i, "].publicKey"));
            if (amount == 0) revert Rejected("MALFORMED_CALLDATA", fieldAt("body.deposits[", i, "].amount"));
        }
        b.ops = b.deposits + b.k * dslot;
        for (uint256 i = 0; i < b.m; i++) {
            uint256 at = b.ops + i * oslot;
            uint256 word;
            assembly {
                word := calldataload(at)
            }
            uint256 kind = word >> 248;
            if (kind != OP_TRANSFER && kind != OP_WITHDRAW) revert Rejected("MALFORMED_CALLDATA", fieldAt("body.ops[", i, "].type"));
            uint256 from = (word << 8) >> ishift;
            uint256 to = (word << (8 + 8 * ib)) >> ishift;
            if (from >= max) revert Rejected("MALFORMED_CALLDATA", fieldAt("body.ops[", i, "].from"));
            if (to >= max) revert Rejected("MALFORMED_CALLDATA", fieldAt("body.ops[", i, "].to"));
            uint256 amount = float40((word << (8 + 16 * ib)) >> 216);
            if (amount == 0 || amount > MAX_BALANCE) revert Rejected("MALFORMED_CALLDATA", fieldAt("body.ops[", i, "].amount"));
        }
    }

    /// The amount of a canonical float40 (m·10^e, 35-bit m, 5-bit e); 0 for a non-canonical encoding.
    /// Canonical: e = 0 when m·10^e < 2^35, otherwise the smallest e that represents the value —
    /// i.e. e = 0, or m ≥ … such that m·10 would not fit (m·10 > 2^35 − 1) or m is not a multiple of 10.
    function float40(uint256 f) internal pure returns (uint256) {
        uint256 m = f & ((uint256(1) << 35) - 1);
        uint256 e = f >> 35;
        if (e == 0) return m;
        // The smallest e: the value with one less exponent would need a mantissa m·10 ≥ 2^35.
        if (m * 10 < (uint256(1) << 35)) return 0;
        return m * 10 ** e;
    }

    /// Compares the given public inputs with the ones this calldata and the stored root give.
    function checkPublicInputs(Body memory b, uint256 oldRoot, uint256[] calldata given) internal view {
        uint256 len = circuitBodyBytes();
        uint256 dslot = indexBytes + DEPOSIT_ENTRY_BYTES;
        // [oldRoot | newRoot | circuit body], zero-padded slots
        bytes memory buf = new bytes(64 + len);
        uint256 chainId = block.chainid;
        address self = address(this);
        uint256 k = b.k;
        uint256 depositsAt = b.deposits;
        uint256 opsAt = b.ops;
        uint256 opsBytes = b.m * (1 + 2 * indexBytes + 5);
        uint256 opsStart = 29 + d * dslot;
        uint256 newRoot = b.newRoot;
        assembly {
            let p := add(buf, 32)
            mstore(p, oldRoot)
            mstore(add(p, 32), newRoot)
            let c := add(p, 64)
            mstore(c, or(shl(192, chainId), shl(32, self)))
            mstore8(add(c, 28), k)
            calldatacopy(add(c, 29), depositsAt, mul(k, dslot))
            calldatacopy(add(c, opsStart), opsAt, opsBytes)
        }
        if (sha) {
            uint256 h;
            assembly {
                if iszero(staticcall(gas(), 2, add(buf, 32), mload(buf), 0, 32)) { revert(0, 0) }
                h := mload(0)
            }
            if (given[0] != h & MASK_253) revert Rejected("PUBLIC_INPUT_MISMATCH", "publicInputs[0]");
            return;
        }
        if (given[0] != oldRoot) revert Rejected("PUBLIC_INPUT_MISMATCH", "publicInputs[0]");
        if (given[1] != newRoot) revert Rejected("PUBLIC_INPUT_MISMATCH", "publicInputs[1]");
        uint256 chunks = (len + 30) / 31;
        for (uint256 i = 0; i < chunks; i++) {
            uint256 size = len - 31 * i;
            if (size > 31) size = 31;
            uint256 v;
            assembly {
                v := shr(sub(256, mul(8, size)), mload(add(add(buf, 96), mul(31, i))))
            }
            if (given[2 + i] != v) revert Rejected("PUBLIC_INPUT_MISMATCH", fieldAt("publicInputs[", 2 + i, "]"));
        }
    }

    /// snarkjs's verifyProof(pA, pB, pC, pubSignals) on the wire-format proof (B's Fq2 halves swapped).
    function verify(uint256[8] calldata proof, uint256[] calldata inputs) internal view returns (bool) {
        bytes memory data = bytes.concat(
            verifySelector,
            abi.encode(proof[0], proof[1], proof[3], proof[2], proof[5], proof[4], proof[6], proof[7]),
            abi.encodePacked(inputs)
        );
        (bool ok, bytes memory out) = verifier.staticcall(data);
        return ok && out.length == 32 && abi.decode(out, (uint256)) == 1;
    }

    /// The batch's withdrawal list (withdrawals.ts withdrawalsOf): each payee id's address
    /// (zero for the reserved id, claimed with the account's key), the forced requests it
    /// serves closed, and one commitment to the keccak tree of its leaves stored.
    function withdrawalsOf(Body memory b, uint256 batch) internal returns (address[] memory paid) {
        uint256 ib = indexBytes;
        uint256 oslot = 1 + 2 * ib + 5;
        uint256 ishift = 256 - 8 * ib;
        uint256 count = 0;
        for (uint256 i = 0; i < b.m; i++) {
            uint256 at = b.ops + i * oslot;
            uint256 kind;
            assembly {
                kind := shr(248, calldataload(at))
            }
            if (kind == OP_WITHDRAW) count++;
        }
        paid = new address[](count);
        bytes32[] memory leaves = new bytes32[](count);
        uint256 w = 0;
        for (uint256 i = 0; i < b.m && w < count; i++) {
            uint256 word;
            uint256 at = b.ops + i * oslot;
            assembly {
                word := calldataload(at)
            }
            if (word >> 248 != OP_WITHDRAW) continue;
            uint256 from = (word << 8) >> ishift;
            uint256 to = (word << (8 + 8 * ib)) >> ishift;
            uint256 amount = float40((word << (8 + 16 * ib)) >> 216);
            if (to == keyPayeeId) {
                leaves[w] = keccak256(abi.encodePacked(KEY_LEAF_TAG, uint64(batch), uint32(w), uint32(from), uint128(amount)));
            } else {
                address who = payeeOf[to];
                if (who == address(0)) revert Rejected("UNKNOWN_PAYEE", fieldAt("body.ops[", i, "].to"));
                paid[w] = who;
                leaves[w] = keccak256(abi.encodePacked(LEAF_TAG, uint64(batch), uint32(w), who, uint128(amount)));
            }
            w++;
        }
        // forcedServed (exodus.ts): a withdrawal of the account, to the payee, of the amount a request names, closes it.
        for (uint256 i = 0; i < b.m; i++) {
            uint256 word;
            uint256 at = b.ops + i * oslot;
            assembly {
                word := calldataload(at)
            }
            if (word >> 248 != OP_WITHDRAW) continue;
            uint256 from = (word << 8) >> ishift;
            uint256 req = forced[from];
            if (req == 0) continue;
            // Request layout: payee id (bits 0-31), float40 amount (32-71), nonce, key hash, deadline.
            uint256 to = (word << (8 + 8 * ib)) >> ishift;
            uint256 amount = (word << (8 + 16 * ib)) >> 216;
            if (uint32(req) != to || (req >> 32) & ((uint256(1) << 40) - 1) != amount) continue;
            delete forced[from];
            emit ForcedServed(from, to, amount);
        }
        if (count > 0) withdrawalCommitment[batch] = keccak256(abi.encodePacked(COMMIT_TAG, uint32(count), treeRoot(leaves)));
    }

    /// Root of the keccak tree over `leaves`, padded with zero leaves to a power of two (withdrawals.ts withdrawalRoot).
    function treeRoot(bytes32[] memory leaves) internal pure returns (bytes32) {
        uint256 width = leaves.length;
        while (width > 1) {
            uint256 half = (width + 1) / 2;
            for (uint256 i = 0; i < half; i++) {
                bytes32 right = 2 * i + 1 < width ? leaves[2 * i + 1] : bytes32(0);
                leaves[i] = keccak256(abi.encodePacked(NODE_TAG, leaves[2 * i], right));
            }
            width = half;
        }
        return leaves[0];
    }

    // ------------------------------------------------------------ withdrawals

    /// Pays withdrawal `position` of a verified batch to its payee, once (contract-storage.ts payWithdrawal).
    function withdraw(uint64 batch, uint32 position, uint32 count, address payee, uint128 amount, bytes32[] calldata proof) external {
        bytes32 stored = withdrawalCommitment[batch];
        if (stored == bytes32(0)) revert Rejected("NO_WITHDRAWALS", "batch");
        if (position >= count) revert Rejected("WITHDRAWAL_PROOF_MISMATCH", "position");
        uint256 levels = 0;
        while ((uint256(1) << levels) < count) levels++;
        if (proof.length != levels) revert Rejected("WITHDRAWAL_PROOF_MISMATCH", "proof");
        bytes32 cur = keccak256(abi.encodePacked(LEAF_TAG, batch, position, payee, amount));
        uint256 pos = position;
        for (uint256 i = 0; i < levels; i++) {
            cur = pos & 1 == 1 ? keccak256(abi.encodePacked(NODE_TAG, proof[i], cur)) : keccak256(abi.encodePacked(NODE_TAG, cur, proof[i]));
            pos >>= 1;
        }
        if (keccak256(abi.encodePacked(COMMIT_TAG, count, cur)) != stored) revert Rejected("WITHDRAWAL_PROOF_MISMATCH", "proof");
        if (claimed[batch][position]) revert Rejected("ALREADY_WITHDRAWN", "position");
        claimed[batch][position] = true;
        (bool ok,) = payee.call{value: amount}("");
        if (!ok) revert Rejected("TRANSFER_FAILED", "payee");
        emit Withdrawn(batch, position, payee, amount);
    }

    // ------------------------------------------------------------ views

    function payeeId(address who) external view returns (bool registered, uint256 id) {
        uint256 v = payeeIdPlus1[who];
        return (v != 0, v == 0 ? 0 : v - 1);
    }

    function queueEntry(uint256 index) external view returns (bytes20 hash, uint64 at) {
        QueueEntry memory e = queue[index];
        return (e.hash, e.at);
    }

    // ------------------------------------------------------------ helpers

    /// The first 20 bytes of keccakTagged(DEPOSIT_TAG, x, y, amount as 16 bytes) (contract-storage.ts depositEntryHash).
    function entryHash(uint256 x, uint256 y, uint256 amount) internal pure returns (bytes20) {
        return bytes20(keccak256(abi.encodePacked(DEPOSIT_TAG, x, y, uint128(amount))));
    }

    /// `prefix` + decimal i + `suffix`: a field name of the TypeScript contract (only built on a revert).
    function fieldAt(string memory prefix, uint256 i, string memory suffix) internal pure returns (string memory) {
        bytes memory digits = new bytes(1);
        if (i == 0) digits[0] = "0";
        else {
            uint256 len = 0;
            for (uint256 x = i; x > 0; x /= 10) len++;
            digits = new bytes(len);
            for (uint256 x = i; x > 0; x /= 10) digits[--len] = bytes1(uint8(48 + (x % 10)));
        }
        return string.concat(prefix, string(digits), suffix);
    }
}
