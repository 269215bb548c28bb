pragma circom 2.1.0;

// Per-operation state transitions of the rollup: one deposit slot and one L2
// operation slot (transfer | withdrawal | no-op). Each takes the running state
// root and returns the next one, so a batch chains them through intermediate
// roots.
//
// Account leaf = Poseidon(pubkey.x, pubkey.y, balance, nonce); an empty leaf is 0.
// Balances are < 2^BAL_BITS; every new balance is range-checked with Num2Bits,
// so neither a debit below zero (0 - 1 = p - 1 in the field) nor a credit past
// 2^BAL_BITS can be proven. Amounts are bounded by construction: they come from
// calldata bits (a 35-bit mantissa times 10^e, e < 32, so < 2^139), far below
// the field size, so old + amount and old - amount never wrap before the check.

include "poseidon.circom";
include "bitify.circom";
include "comparators.circom";
include "eddsaposeidon.circom";
include "merkle.circom";

// Levels of the quaternary account tree for `depth` index bits.
function treeLevels(depth) {
    return (depth + 1) \ 2;
}

// Feeds `depth` index bits to a QuadMerkleUpdate as 2·levels path bits (the
// missing top bit of an odd depth is 0).
template PathBits(depth) {
    signal input in[depth];
    signal output out[2 * treeLevels(depth)];
    for (var i = 0; i < depth; i++) out[i] <== in[i];
    for (var i = depth; i < 2 * treeLevels(depth); i++) out[i] <== 0;
}

// Fails when `enabled` = 1 and `in` = 0. An account leaf is a Poseidon output,
// which is 0 only if someone found a preimage of 0; the check makes "an empty
// leaf is never an account" explicit at the cost of two constraints.
template NonZeroIfEnabled() {
    signal input in;
    signal input enabled;
    signal inv;
    signal prod;
    inv <-- in != 0 ? 1 / in : 0;
    prod <== in * inv;
    (prod - 1) * enabled === 0;
}

// 10^e for e given by its bits (e < 2^nBits): product of (bit ? 10^(2^i) : 1).
template Pow10(nBits) {
    signal input bits[nBits];
    signal output out;
    signal acc[nBits + 1];
    acc[0] <== 1;
    var p = 10;
    for (var i = 0; i < nBits; i++) {
        acc[i + 1] <== acc[i] * (1 + bits[i] * (p - 1));
        p = p * p;
    }
    out <== acc[nBits];
}

// A deposit slot: credits `amount` to the leaf at `indexBits`, which is either
// empty (a new account with pubkey (pkx, pky), nonce 0) or already holds the
// same pubkey. Disabled slots pass the root through unchanged.
template DepositSlot(depth, BAL_BITS) {
    signal input enabled;           // boolean, from the batch's deposit count
    signal input rootIn;
    signal output rootOut;
    signal input indexBits[depth];  // boolean (constrained by the caller and by QuadMerkleUpdate)
    signal input pkx;
    signal input pky;
    signal input amount;            // < 2^BAL_BITS (range-checked by the caller)

    signal input isEmpty;           // private: 1 when the target leaf is empty
    signal input balance;           // old balance (0 when empty)
    signal input nonce;             // old nonce (0 when empty)
    signal input siblings[treeLevels(depth)][3];

    isEmpty * (isEmpty - 1) === 0;
    isEmpty * balance === 0;
    isEmpty * nonce === 0;

    component oldHash = Poseidon(4);
    oldHash.inputs[0] <== pkx;
    oldHash.inputs[1] <== pky;
    oldHash.inputs[2] <== balance;
    oldHash.inputs[3] <== nonce;
    // An existing leaf must be a real account (non-zero hash).
    component nz = NonZeroIfEnabled();
    nz.in <== oldHash.out;
    nz.enabled <== 1 - isEmpty;
    signal oldLeaf;
    oldLeaf <== (1 - isEmpty) * oldHash.out;

    signal newBalance;
    newBalance <== balance + amount;
    component range = Num2Bits(BAL_BITS);
    range.in <== newBalance;

    component newHash = Poseidon(4);
    newHash.inputs[0] <== pkx;
    newHash.inputs[1] <== pky;
    newHash.inputs[2] <== newBalance;
    newHash.inputs[3] <== nonce;

    component bits = PathBits(depth);
    bits.in <== indexBits;
    component mu = QuadMerkleUpdate(treeLevels(depth));
    mu.oldLeaf <== oldLeaf;
    mu.newLeaf <== newHash.out;
    mu.pathBits <== bits.out;
    mu.siblings <== siblings;

    component rootCheck = ForceEqualIfEnabled();
    rootCheck.enabled <== enabled;
    rootCheck.in[0] <== mu.oldRoot;
    rootCheck.in[1] <== rootIn;
    rootOut <== rootIn + enabled * (mu.newRoot - rootIn);
}

// An L2 operation slot. isTransfer / isWithdraw come from the op's type byte
// (at most one is 1; both 0 = no-op padding). The sender signs
// M = Poseidon(domain, packed) with
//   packed = type + 4·(from + 2^depth·(to + 2^depth·(float40 + 2^40·nonce)))
//   domain = chainId·2^160 + rollup contract address,
// which binds chain, contract, op type, sender, recipient, amount and nonce.
// For a withdrawal, `to` is the L1 payee id (not an account) and only the
// sender's leaf changes.
template OpSlot(depth, BAL_BITS, NONCE_BITS) {
    signal input rootIn;
    signal output rootOut;
    signal input domain;
    signal input isTransfer;        // boolean (caller)
    signal input isWithdraw;        // boolean (caller)
    signal input fromBits[depth];   // boolean (caller)
    signal input toBits[depth];     // boolean (caller)
    signal input amountBits[40];    // float40: bits 0..34 mantissa, 35..39 exponent (boolean, caller)

    signal input senderAx;
    signal input senderAy;
    signal input senderBalance;
    signal input senderNonce;
    signal input senderSiblings[treeLevels(depth)][3];
    signal input sigR8x;
    signal input sigR8y;
    signal input sigS;

    signal input receiverAx;
    signal input receiverAy;
    signal input receiverBalance;
    signal input receiverNonce;
    signal input receiverSiblings[treeLevels(depth)][3];

    signal active;
    active <== isTransfer + isWithdraw;

    // ---- amount = mantissa · 10^exponent
    var mantissa = 0;
    for (var i = 0; i < 35; i++) mantissa += amountBits[i] * (1 << i);
    component pow = Pow10(5);
    for (var i = 0; i < 5; i++) pow.bits[i] <== amountBits[35 + i];
    signal amount;
    amount <== mantissa * pow.out;

    // ---- sender: debit, nonce + 1
    component sOld = Poseidon(4);
    sOld.inputs[0] <== senderAx;
    sOld.inputs[1] <== senderAy;
    sOld.inputs[2] <== senderBalance;
    sOld.inputs[3] <== senderNonce;
    component sNz = NonZeroIfEnabled();
    sNz.in <== sOld.out;
    sNz.enabled <== active;

    signal senderNewBalance;
    senderNewBalance <== senderBalance - amount;
    component sRange = Num2Bits(BAL_BITS);   // underflow → p - x, which has high bits set
    sRange.in <== senderNewBalance;
    component nonceBits = Num2Bits(NONCE_BITS);
    nonceBits.in <== senderNonce;

    component sNew = Poseidon(4);
    sNew.inputs[0] <== senderAx;
    sNew.inputs[1] <== senderAy;
    sNew.inputs[2] <== senderNewBalance;
    sNew.inputs[3] <== senderNonce + 1;

    component sBits = PathBits(depth);
    sBits.in <== fromBits;
    component sPath = QuadMerkleUpdate(treeLevels(depth));
    sPath.oldLeaf <== sOld.out;
    sPath.newLeaf <== sNew.out;
    sPath.pathBits <== sBits.out;
    sPath.siblings <== senderSiblings;
    component sRoot = ForceEqualIfEnabled();
    sRoot.enabled <== active;
    sRoot.in[0] <== sPath.oldRoot;
    sRoot.in[1] <== rootIn;
    signal midRoot;
    midRoot <== rootIn + active * (sPath.newRoot - rootIn);

    // ---- signature over the packed op
    var fromNum = 0;
    var toNum = 0;
    for (var i = 0; i < depth; i++) {
        fromNum += fromBits[i] * (1 << i);
        toNum += toBits[i] * (1 << i);
    }
    var floatNum = 0;
    for (var i = 0; i < 40; i++) floatNum += amountBits[i] * (1 << i);
    var packed = isTransfer + 2 * isWithdraw
        + 4 * (fromNum + (1 << depth) * (toNum + (1 << depth) * (floatNum + (1 << 40) * senderNonce)));
    component msg = Poseidon(2);
    msg.inputs[0] <== domain;
    msg.inputs[1] <== packed;
    component sig = EdDSAPoseidonVerifier();
    sig.enabled <== active;
    sig.Ax <== senderAx;
    sig.Ay <== senderAy;
    sig.S <== sigS;
    sig.R8x <== sigR8x;
    sig.R8y <== sigR8y;
    sig.M <== msg.out;

    // ---- receiver (transfers only): credit; proven against the root after the
    // sender update, so a transfer to oneself is applied consistently.
    component rOld = Poseidon(4);
    rOld.inputs[0] <== receiverAx;
    rOld.inputs[1] <== receiverAy;
    rOld.inputs[2] <== receiverBalance;
    rOld.inputs[3] <== receiverNonce;
    component rNz = NonZeroIfEnabled();
    rNz.in <== rOld.out;
    rNz.enabled <== isTransfer;

    signal receiverNewBalance;
    receiverNewBalance <== receiverBalance + amount;
    component rRange = Num2Bits(BAL_BITS);   // overflow past 2^BAL_BITS
    rRange.in <== receiverNewBalance;

    component rNew = Poseidon(4);
    rNew.inputs[0] <== receiverAx;
    rNew.inputs[1] <== receiverAy;
    rNew.inputs[2] <== receiverNewBalance;
    rNew.inputs[3] <== receiverNonce;

    component rBits = PathBits(depth);
    rBits.in <== toBits;
    component rPath = QuadMerkleUpdate(treeLevels(depth));
    rPath.oldLeaf <== rOld.out;
    rPath.newLeaf <== rNew.out;
    rPath.pathBits <== rBits.out;
    rPath.siblings <== receiverSiblings;
    component rRoot = ForceEqualIfEnabled();
    rRoot.enabled <== isTransfer;
    rRoot.in[0] <== rPath.oldRoot;
    rRoot.in[1] <== midRoot;
    rootOut <== midRoot + isTransfer * (rPath.newRoot - midRoot);
}
