// Property tests: proofs generated for random trees verify against roots computed by another algorithm,
// and flipping any single bit of a proof, leaf hash or root makes verification fail.
//
// Medium trees (up to 3,000 leaves) are rebuilt for every run. For trees up to 2^20 leaves, one set of
// pseudo-random leaf hashes is hashed once into MerkleTreeLevels, and a single CompactMerkleTree walk over
// the same leaves records the independent roots at a few random sizes: every size up to 2^20 shares the
// same perfect subtrees, so one store serves them all.

import { beforeAll, describe, expect, it } from "@jest/globals";
import fc from "fast-check";

import { CompactMerkleTree } from "../../src/domain/merkle/compact-tree.js";
import { consistencyProof } from "../../src/domain/merkle/consistency-proof.js";
import { inclusionProof } from "../../src/domain/merkle/inclusion-proof.js";
import { MerkleError } from "../../src/domain/merkle/merkle-error.js";
import { rootFromLeafHashes } from "../../src/domain/merkle/tree-hash.js";
import { MerkleTreeLevels } from "../../src/domain/merkle/tree-levels.js";
import { verifyConsistency, verifyInclusion } from "../../src/domain/merkle/verify.js";
import { flipBit, hex, pseudoRandomLeafHashes, splitHashes } from "./reference-merkle.js";

const HASH_BITS = 256;

function refuses(run: () => void): boolean {
  try {
    run();
    return false;
  } catch (error) {
    if (error instanceof MerkleError) return true;
    throw error;
  }
}

/**
 * Flips bit `bit` (taken modulo the total) of the concatenation proof ‖ extra[0] ‖ extra[1] ‖ …, so that
 * one random number picks any single bit of everything the verifier is given.
 */
function corrupt(proof: readonly Uint8Array[], extra: readonly Uint8Array[], bit: number) {
  const all = [...proof, ...extra];
  const position = bit % (all.length * HASH_BITS);
  const target = Math.floor(position / HASH_BITS);
  const flipped = all.map((hash, i) => (i === target ? flipBit(hash, position % HASH_BITS) : hash));
  return { proof: flipped.slice(0, proof.length), extra: flipped.slice(proof.length) };
}

function assertInclusionHolds(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: Uint8Array[],
  root: Uint8Array,
  bit: number,
) {
  verifyInclusion(index, size, leaf, proof, root);
  const bad = corrupt(proof, [leaf, root], bit);
  const [badLeaf, badRoot] = bad.extra as [Uint8Array, Uint8Array];
  expect(refuses(() => verifyInclusion(index, size, badLeaf, bad.proof, badRoot))).toBe(true);
}

function assertConsistencyHolds(
  size1: number,
  size2: number,
  proof: Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
  bit: number,
) {
  verifyConsistency(size1, size2, proof, root1, root2);
  const bad = corrupt(proof, [root1, root2], bit);
  const [badRoot1, badRoot2] = bad.extra as [Uint8Array, Uint8Array];
  expect(refuses(() => verifyConsistency(size1, size2, bad.proof, badRoot1, badRoot2))).toBe(true);
}

describe("proofs of trees up to 3,000 leaves", () => {
  it("verify against rootFromLeafHashes, and fail with any bit flipped", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.integer(),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 4 }),
        (size, seed, picks) => {
          const leaves = splitHashes(pseudoRandomLeafHashes(size, seed));
          const levels = MerkleTreeLevels.fromLeafHashes(leaves);
          const root = rootFromLeafHashes(leaves);
          expect(hex(levels.root())).toBe(hex(root));
          for (const [pick, bit] of picks) {
            const index = pick % size;
            assertInclusionHolds(
              index,
              size,
              leaves[index] as Uint8Array,
              inclusionProof(index, size, levels),
              root,
              bit,
            );
            const size1 = (pick % size) + 1;
            const root1 = rootFromLeafHashes(leaves.slice(0, size1));
            assertConsistencyHolds(size1, size, consistencyProof(size1, size, levels), root1, root, bit);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("proofs of trees up to 2^20 leaves", () => {
  const LARGE = 2 ** 20;
  let leaves: Uint8Array[] = [];
  let levels: MerkleTreeLevels;
  let sizes: number[] = [];
  const roots = new Map<number, Uint8Array>();

  beforeAll(() => {
    const packed = pseudoRandomLeafHashes(LARGE, 20);
    leaves = splitHashes(packed);
    levels = MerkleTreeLevels.fromPackedLeafHashes(packed);
    // Random sizes on top of the edge cases; a failing property reports its size, which can then be
    // added to the fixed list to reproduce it.
    const random = fc.sample(fc.integer({ min: 1, max: LARGE }), 6);
    sizes = [...new Set([1, 2 ** 19, 2 ** 19 + 1, LARGE - 1, LARGE, ...random])].sort((a, b) => a - b);

    const compact = CompactMerkleTree.empty();
    let next = 0;
    for (const size of sizes) {
      while (compact.size < size) compact.append(leaves[next++] as Uint8Array);
      roots.set(size, compact.root());
    }
  });

  const rootAt = (size: number): Uint8Array => roots.get(size) as Uint8Array;

  it("agrees with the compact tree at every sampled size", () => {
    for (const size of sizes) expect(hex(levels.root(size))).toBe(hex(rootAt(size)));
  });

  it("generates inclusion proofs that verify, and fail with any bit flipped", () => {
    fc.assert(
      fc.property(fc.constantFrom(...sizes), fc.nat(), fc.nat(), (size, pick, bit) => {
        const index = pick % size;
        const proof = inclusionProof(index, size, levels);
        assertInclusionHolds(index, size, leaves[index] as Uint8Array, proof, rootAt(size), bit);
      }),
      { numRuns: 300 },
    );
  });

  it("generates consistency proofs that verify, and fail with any bit flipped", () => {
    const pairs = sizes.flatMap((size2) =>
      sizes.filter((size1) => size1 <= size2).map((size1) => [size1, size2]),
    );
    fc.assert(
      fc.property(fc.constantFrom(...pairs), fc.nat(), ([size1, size2], bit) => {
        const proof = consistencyProof(size1 as number, size2 as number, levels);
        assertConsistencyHolds(
          size1 as number,
          size2 as number,
          proof,
          rootAt(size1 as number),
          rootAt(size2 as number),
          bit,
        );
      }),
      { numRuns: 200 },
    );
  });

  it("refuses every single-bit flip of one large inclusion and one large consistency proof", () => {
    const size = LARGE - 1;
    const index = 654_321;
    const leaf = leaves[index] as Uint8Array;
    const proof = inclusionProof(index, size, levels);
    const inclusionBits = (proof.length + 2) * HASH_BITS;
    for (let bit = 0; bit < inclusionBits; bit++) {
      const bad = corrupt(proof, [leaf, rootAt(size)], bit);
      const [badLeaf, badRoot] = bad.extra as [Uint8Array, Uint8Array];
      if (!refuses(() => verifyInclusion(index, size, badLeaf, bad.proof, badRoot))) {
        throw new Error(`bit ${bit}`);
      }
    }

    const size1 = 2 ** 19 + 1;
    const consistency = consistencyProof(size1, size, levels);
    const consistencyBits = (consistency.length + 2) * HASH_BITS;
    for (let bit = 0; bit < consistencyBits; bit++) {
      const bad = corrupt(consistency, [rootAt(size1), rootAt(size)], bit);
      const [badRoot1, badRoot2] = bad.extra as [Uint8Array, Uint8Array];
      if (!refuses(() => verifyConsistency(size1, size, bad.proof, badRoot1, badRoot2))) {
        throw new Error(`bit ${bit}`);
      }
    }
  });
});
