pragma circom 2.1.0;

// Quaternary Poseidon Merkle path update, matching the account tree of
// src/tree.ts: @zk-kit/incremental-merkle-tree with arity 4, nodes =
// Poseidon(4) of the children left to right (poseidon = circomlib's), zero
// leaf 0. A leaf index's base-4 digit i (bits 2i and 2i+1, LSB first) is the
// position of the path's node among its parent's four children; the three
// siblings of a level are the other children, left to right.
//
// One set of siblings and path bits proves `oldLeaf` under `oldRoot` and
// computes `newRoot` with `newLeaf` at the same position: an update costs two
// Poseidon(4) per level (2 × 297 constraints for two bits of index, against
// 2 × 2 × 240 in a binary tree) plus 13 for placing the node among its
// siblings; a pure membership check would cost one.
//
// SOUNDNESS: the path bits are forced to 0/1 here (zk-kit.circom #24: a
// selector bit of 2 lets a prover pick arbitrary child orders and fake
// membership). The caller may constrain them again; it costs two constraints
// per level and is not worth risking. With both bits boolean exactly one of
// the position indicators e0..e3 is 1, so the children are the siblings with
// the node inserted at that position and nothing else.

include "poseidon.circom";

template QuadMerkleUpdate(levels) {
    signal input oldLeaf;
    signal input newLeaf;
    signal input pathBits[2 * levels];   // bits 2i, 2i + 1 = position at level i (LSB first)
    signal input siblings[levels][3];
    signal output oldRoot;
    signal output newRoot;

    component hOld[levels];
    component hNew[levels];
    signal oldCur[levels + 1];
    signal newCur[levels + 1];
    signal both[levels];        // b0·b1 = e3
    signal sib01[levels];       // e0·(s0 − s1), shared by both chains
    signal sib21[levels];       // e3·(s2 − s1), shared by both chains
    signal o0[levels];
    signal o1[levels];
    signal o2[levels];
    signal o3[levels];
    signal n0[levels];
    signal n1[levels];
    signal n2[levels];
    signal n3[levels];

    oldCur[0] <== oldLeaf;
    newCur[0] <== newLeaf;
    for (var i = 0; i < levels; i++) {
        var b0 = pathBits[2 * i];
        var b1 = pathBits[2 * i + 1];
        pathBits[2 * i] * (pathBits[2 * i] - 1) === 0;
        pathBits[2 * i + 1] * (pathBits[2 * i + 1] - 1) === 0;
        both[i] <== pathBits[2 * i] * pathBits[2 * i + 1];
        // Position indicators (exactly one is 1): linear in b0, b1 and b0·b1.
        var e0 = 1 - pathBits[2 * i] - pathBits[2 * i + 1] + both[i];
        var e1 = pathBits[2 * i] - both[i];
        var e2 = pathBits[2 * i + 1] - both[i];
        var e3 = both[i];
        var s0 = siblings[i][0];
        var s1 = siblings[i][1];
        var s2 = siblings[i][2];
        // children: c0 = e0 ? cur : s0; c1 = e0 ? s0 : (e1 ? cur : s1);
        //           c2 = e3 ? s2 : (e2 ? cur : s1); c3 = e3 ? cur : s2.
        sib01[i] <== e0 * (siblings[i][0] - siblings[i][1]);
        sib21[i] <== e3 * (siblings[i][2] - siblings[i][1]);

        o0[i] <== e0 * (oldCur[i] - siblings[i][0]);
        o1[i] <== e1 * (oldCur[i] - siblings[i][1]);
        o2[i] <== e2 * (oldCur[i] - siblings[i][1]);
        o3[i] <== e3 * (oldCur[i] - siblings[i][2]);
        hOld[i] = Poseidon(4);
        hOld[i].inputs[0] <== siblings[i][0] + o0[i];
        hOld[i].inputs[1] <== siblings[i][1] + sib01[i] + o1[i];
        hOld[i].inputs[2] <== siblings[i][1] + sib21[i] + o2[i];
        hOld[i].inputs[3] <== siblings[i][2] + o3[i];
        oldCur[i + 1] <== hOld[i].out;

        n0[i] <== e0 * (newCur[i] - siblings[i][0]);
        n1[i] <== e1 * (newCur[i] - siblings[i][1]);
        n2[i] <== e2 * (newCur[i] - siblings[i][1]);
        n3[i] <== e3 * (newCur[i] - siblings[i][2]);
        hNew[i] = Poseidon(4);
        hNew[i].inputs[0] <== siblings[i][0] + n0[i];
        hNew[i].inputs[1] <== siblings[i][1] + sib01[i] + n1[i];
        hNew[i].inputs[2] <== siblings[i][1] + sib21[i] + n2[i];
        hNew[i].inputs[3] <== siblings[i][2] + n3[i];
        newCur[i + 1] <== hNew[i].out;
    }
    oldRoot <== oldCur[levels];
    newRoot <== newCur[levels];
}
