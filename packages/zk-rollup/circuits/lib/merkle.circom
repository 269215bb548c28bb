pragma circom 2.1.0;

// Binary Poseidon Merkle path update, matching @zk-kit/incremental-merkle-tree
// with hash = Poseidon(2) (poseidon-lite) and zero leaf 0.
//
// One set of siblings and path bits proves `oldLeaf` under `oldRoot` and
// computes `newRoot` with `newLeaf` at the same position: an update costs two
// Poseidon(2) per level, a pure membership check would cost one.
//
// SOUNDNESS: the path bits are forced to 0/1 here (zk-kit.circom #24: a
// selector bit of 2 lets a prover pick arbitrary left/right combinations and
// fake membership). The caller may constrain them again; it costs one
// constraint per level and is not worth risking.

include "poseidon.circom";

template MerkleUpdate(depth) {
    signal input oldLeaf;
    signal input newLeaf;
    signal input pathBits[depth];   // bit i = bit i of the leaf index (0 = left child)
    signal input siblings[depth];
    signal output oldRoot;
    signal output newRoot;

    component hOld[depth];
    component hNew[depth];
    signal oldCur[depth + 1];
    signal newCur[depth + 1];
    signal oldLeft[depth];
    signal newLeft[depth];

    oldCur[0] <== oldLeaf;
    newCur[0] <== newLeaf;
    for (var i = 0; i < depth; i++) {
        pathBits[i] * (pathBits[i] - 1) === 0;
        // left = bit ? sibling : current; right = the other one.
        oldLeft[i] <== oldCur[i] + pathBits[i] * (siblings[i] - oldCur[i]);
        newLeft[i] <== newCur[i] + pathBits[i] * (siblings[i] - newCur[i]);
        hOld[i] = Poseidon(2);
        hOld[i].inputs[0] <== oldLeft[i];
        hOld[i].inputs[1] <== oldCur[i] + siblings[i] - oldLeft[i];
        hNew[i] = Poseidon(2);
        hNew[i].inputs[0] <== newLeft[i];
        hNew[i].inputs[1] <== newCur[i] + siblings[i] - newLeft[i];
        oldCur[i + 1] <== hOld[i].out;
        newCur[i + 1] <== hNew[i].out;
    }
    oldRoot <== oldCur[depth];
    newRoot <== newCur[depth];
}
