pragma circom 2.1.0;

// Batch(N, D, depth, MODE): D deposit slots then N L2-operation slots, chained
// through intermediate roots from oldRoot to newRoot, plus the binding of the
// batch's data to the proof's public input(s).
//
// The batch data ("body") is a fixed-length byte string, the same bytes the
// rollup contract rebuilds from the calldata it receives (src/calldata.ts):
//
//   chainId u64 | contract 20 B | depositCount u8
//   D × [ target index (IB bytes) | pubkey.x 32 B | pubkey.y 32 B | amount 16 B ]
//   N × [ type u8 | from (IB bytes) | to (IB bytes) | amount float40 (5 B: e:5 | m:35) ]
//
// IB = ceil(depth / 8); all integers big-endian; unused deposit slots and
// no-op slots are zero bytes. Every field is decomposed into bits once here
// (Num2Bits, so every bit is boolean and every field is range-bound), and the
// bits feed both the state transitions and the binding.
//
// Two bindings (MODE; see README, "Binding the data to the proof"):
//   MODE 0 (sha):    one public input = SHA-256(oldRoot ‖ newRoot ‖ body) mod 2^253.
//   MODE 1 (packed): public inputs = oldRoot, newRoot, body in 31-byte chunks.
//
// SOUNDNESS NOTES
// - Field elements that enter the body as 32-byte strings (pubkeys, roots in
//   MODE 0) are decomposed with Num2Bits(254), not Num2Bits_strict: their
//   bits are fixed by the public input(s), which the contract computes from
//   the canonical (< p) values it holds, so no alias can match.
// - chainId and contract are inputs bound by the public input; the contract
//   uses its own chain id and address, so a proof for another deployment fails.

include "bitify.circom";
include "comparators.circom";
include "sha256/sha256.circom";
include "lib/ops.circom";

function idxBytes(depth) {
    return (depth + 7) \ 8;
}

// Number of public inputs: 1 for MODE 0 (SHA-256 commitment), 2 + chunks for MODE 1 (packed).
function bindingInputs(N, D, depth, MODE) {
    if (MODE == 0) return 1;
    return 2 + (bodyBits(N, D, depth) \ 8 + 30) \ 31;
}

function bodyBits(N, D, depth) {
    var ib = idxBytes(depth);
    return 64 + 160 + 8 + D * (8 * ib + 256 + 256 + 128) + N * (8 + 16 * ib + 40);
}

template Batch(N, D, depth, MODE) {
    var BAL_BITS = 128;
    var NONCE_BITS = 40;
    var IB = idxBytes(depth);
    var BODY_BITS = bodyBits(N, D, depth);

    signal input oldRoot;
    signal input newRoot;
    signal input chainId;
    signal input contract;
    signal input depositCount;

    signal input depIndex[D];
    signal input depPkx[D];
    signal input depPky[D];
    signal input depAmount[D];
    signal input depIsEmpty[D];
    signal input depBalance[D];
    signal input depNonce[D];
    signal input depSiblings[D][treeLevels(depth)][3];

    signal input opType[N];
    signal input opFrom[N];
    signal input opTo[N];
    signal input opAmount[N];       // float40 as an integer: e·2^35 + m
    signal input senderAx[N];
    signal input senderAy[N];
    signal input senderBalance[N];
    signal input senderNonce[N];
    signal input senderSiblings[N][treeLevels(depth)][3];
    signal input sigR8x[N];
    signal input sigR8y[N];
    signal input sigS[N];
    signal input receiverAx[N];
    signal input receiverAy[N];
    signal input receiverBalance[N];
    signal input receiverNonce[N];
    signal input receiverSiblings[N][treeLevels(depth)][3];

    // Public input(s): see bindingInputs().
    signal input pub[bindingInputs(N, D, depth, MODE)];

    // Body bits, big-endian within each field (the SHA-256 / byte order).
    signal body[BODY_BITS];
    var pos = 0;

    // ---- header
    component chainBits = Num2Bits(64);
    chainBits.in <== chainId;
    for (var i = 0; i < 64; i++) body[pos + i] <== chainBits.out[63 - i];
    pos += 64;
    component contractBits = Num2Bits(160);
    contractBits.in <== contract;
    for (var i = 0; i < 160; i++) body[pos + i] <== contractBits.out[159 - i];
    pos += 160;
    signal domain;
    domain <== chainId * (1 << 160) + contract;

    component countBits = Num2Bits(8);
    countBits.in <== depositCount;
    for (var i = 0; i < 8; i++) body[pos + i] <== countBits.out[7 - i];
    pos += 8;
    // depositCount ≤ D: the contract consumes exactly depositCount queue entries,
    // so the circuit must not be able to claim more than it has slots for.
    component countMax = LessThan(8);
    countMax.in[0] <== depositCount;
    countMax.in[1] <== D + 1;
    countMax.out === 1;

    signal roots[D + N + 1];
    roots[0] <== oldRoot;

    // ---- deposit slots: slot i is live iff i < depositCount
    component depOn[D];
    component depIdxBits[D];
    component depPkxBits[D];
    component depPkyBits[D];
    component depAmtBits[D];
    component dep[D];
    for (var s = 0; s < D; s++) {
        depOn[s] = LessThan(8);
        depOn[s].in[0] <== s;
        depOn[s].in[1] <== depositCount;

        depIdxBits[s] = Num2Bits(8 * IB);
        depIdxBits[s].in <== depIndex[s];
        for (var i = depth; i < 8 * IB; i++) depIdxBits[s].out[i] === 0;
        for (var i = 0; i < 8 * IB; i++) body[pos + i] <== depIdxBits[s].out[8 * IB - 1 - i];
        pos += 8 * IB;

        depPkxBits[s] = Num2Bits(254);
        depPkxBits[s].in <== depPkx[s];
        body[pos] <== 0;
        body[pos + 1] <== 0;
        for (var i = 0; i < 254; i++) body[pos + 2 + i] <== depPkxBits[s].out[253 - i];
        pos += 256;
        depPkyBits[s] = Num2Bits(254);
        depPkyBits[s].in <== depPky[s];
        body[pos] <== 0;
        body[pos + 1] <== 0;
        for (var i = 0; i < 254; i++) body[pos + 2 + i] <== depPkyBits[s].out[253 - i];
        pos += 256;
        depAmtBits[s] = Num2Bits(BAL_BITS);
        depAmtBits[s].in <== depAmount[s];
        for (var i = 0; i < 128; i++) body[pos + i] <== depAmtBits[s].out[127 - i];
        pos += 128;

        dep[s] = DepositSlot(depth, BAL_BITS);
        dep[s].enabled <== depOn[s].out;
        dep[s].rootIn <== roots[s];
        for (var i = 0; i < depth; i++) dep[s].indexBits[i] <== depIdxBits[s].out[i];
        dep[s].pkx <== depPkx[s];
        dep[s].pky <== depPky[s];
        dep[s].amount <== depAmount[s];
        dep[s].isEmpty <== depIsEmpty[s];
        dep[s].balance <== depBalance[s];
        dep[s].nonce <== depNonce[s];
        dep[s].siblings <== depSiblings[s];
        roots[s + 1] <== dep[s].rootOut;
    }

    // ---- L2 operation slots
    component typeBits[N];
    component fromBits[N];
    component toBits[N];
    component amtBits[N];
    component op[N];
    for (var s = 0; s < N; s++) {
        typeBits[s] = Num2Bits(8);
        typeBits[s].in <== opType[s];
        // type ∈ {0 no-op, 1 transfer, 2 withdrawal}
        for (var i = 2; i < 8; i++) typeBits[s].out[i] === 0;
        typeBits[s].out[0] * typeBits[s].out[1] === 0;
        for (var i = 0; i < 8; i++) body[pos + i] <== typeBits[s].out[7 - i];
        pos += 8;

        fromBits[s] = Num2Bits(8 * IB);
        fromBits[s].in <== opFrom[s];
        for (var i = depth; i < 8 * IB; i++) fromBits[s].out[i] === 0;
        for (var i = 0; i < 8 * IB; i++) body[pos + i] <== fromBits[s].out[8 * IB - 1 - i];
        pos += 8 * IB;

        toBits[s] = Num2Bits(8 * IB);
        toBits[s].in <== opTo[s];
        for (var i = depth; i < 8 * IB; i++) toBits[s].out[i] === 0;
        for (var i = 0; i < 8 * IB; i++) body[pos + i] <== toBits[s].out[8 * IB - 1 - i];
        pos += 8 * IB;

        amtBits[s] = Num2Bits(40);
        amtBits[s].in <== opAmount[s];
        for (var i = 0; i < 40; i++) body[pos + i] <== amtBits[s].out[39 - i];
        pos += 40;

        op[s] = OpSlot(depth, BAL_BITS, NONCE_BITS);
        op[s].rootIn <== roots[D + s];
        op[s].domain <== domain;
        op[s].isTransfer <== typeBits[s].out[0];
        op[s].isWithdraw <== typeBits[s].out[1];
        for (var i = 0; i < depth; i++) {
            op[s].fromBits[i] <== fromBits[s].out[i];
            op[s].toBits[i] <== toBits[s].out[i];
        }
        op[s].amountBits <== amtBits[s].out;
        op[s].senderAx <== senderAx[s];
        op[s].senderAy <== senderAy[s];
        op[s].senderBalance <== senderBalance[s];
        op[s].senderNonce <== senderNonce[s];
        op[s].senderSiblings <== senderSiblings[s];
        op[s].sigR8x <== sigR8x[s];
        op[s].sigR8y <== sigR8y[s];
        op[s].sigS <== sigS[s];
        op[s].receiverAx <== receiverAx[s];
        op[s].receiverAy <== receiverAy[s];
        op[s].receiverBalance <== receiverBalance[s];
        op[s].receiverNonce <== receiverNonce[s];
        op[s].receiverSiblings <== receiverSiblings[s];
        roots[D + s + 1] <== op[s].rootOut;
    }
    assert(pos == BODY_BITS);

    roots[D + N] === newRoot;

    if (MODE == 0) {
        // pub[0] = SHA-256(oldRoot ‖ newRoot ‖ body) with its top 3 bits
        // dropped (< 2^253 < p). The contract computes the same digest from its
        // stored root and the calldata, and refuses any other value.
        component oldBits = Num2Bits(254);
        oldBits.in <== oldRoot;
        component newBits = Num2Bits(254);
        newBits.in <== newRoot;
        component sha = Sha256(512 + BODY_BITS);
        sha.in[0] <== 0;
        sha.in[1] <== 0;
        for (var i = 0; i < 254; i++) sha.in[2 + i] <== oldBits.out[253 - i];
        sha.in[256] <== 0;
        sha.in[257] <== 0;
        for (var i = 0; i < 254; i++) sha.in[258 + i] <== newBits.out[253 - i];
        for (var i = 0; i < BODY_BITS; i++) sha.in[512 + i] <== body[i];
        var acc = 0;
        for (var i = 3; i < 256; i++) acc += sha.out[i] * (1 << (255 - i));
        pub[0] === acc;
    } else {
        // pub = [oldRoot, newRoot, body in 31-byte big-endian chunks (last one shorter)].
        // No in-circuit hash; each chunk costs the verifier 6,150 gas instead.
        pub[0] === oldRoot;
        pub[1] === newRoot;
        var chunks = (BODY_BITS \ 8 + 30) \ 31;
        for (var c = 0; c < chunks; c++) {
            var start = c * 31 * 8;
            var end = start + 31 * 8;
            if (end > BODY_BITS) end = BODY_BITS;
            var acc = 0;
            for (var i = start; i < end; i++) acc += body[i] * (1 << (end - 1 - i));
            pub[2 + c] === acc;
        }
    }
}
