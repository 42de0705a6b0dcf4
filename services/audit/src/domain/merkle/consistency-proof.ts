import { MerkleError } from "./merkle-error.js";
import { readerOf, type ProofSource } from "./leaf-array-reader.js";
import { rangeHash } from "./subtree-hashes.js";
import { assertTreeSize, largestPowerOfTwoBelow } from "./tree-bits.js";

/**
 * Consistency proof of RFC 6962 §2.1.2 between the trees of the first `size1` and `size2` leaves:
 * PROOF(m, D[n]) = SUBPROOF(m, D[n], true), as `verifyConsistency` expects it.
 *
 * SUBPROOF is unrolled into a loop from the root down: each step records the hash of the side the old
 * tree does not end in, and the walk stops at the subtree that is exactly the old tree's last part. That
 * subtree's own hash is included unless it is the whole old tree, which the verifier already holds.
 *
 * @returns new 32-byte arrays, deepest first; empty when `size1 === size2`.
 * @throws MerkleError `INVALID_TREE_SIZE`, `SIZE1_EXCEEDS_SIZE2`, `CONSISTENCY_FROM_EMPTY_TREE` when
 *   `size1` is 0 (such a proof proves nothing and verifiers refuse it), `TREE_SIZE_BEYOND_STORE` if the
 *   source holds fewer than `size2` leaves, `WRONG_HASH_LENGTH` if a leaf of a plain array is not 32 bytes.
 */
export function consistencyProof(size1: number, size2: number, source: ProofSource): Uint8Array[] {
  assertTreeSize(size1, "size1");
  assertTreeSize(size2, "size2");
  if (size1 > size2) throw new MerkleError("SIZE1_EXCEEDS_SIZE2", `size1 ${size1} > size2 ${size2}`);
  if (size1 === 0) throw new MerkleError("CONSISTENCY_FROM_EMPTY_TREE", "size1 is 0");
  const reader = readerOf(source);
  if (size2 > reader.size) {
    throw new MerkleError("TREE_SIZE_BEYOND_STORE", `tree size ${size2} > ${reader.size} stored leaves`);
  }
  if (size1 === size2) return [];

  const nodes: Uint8Array[] = [];
  let start = 0;
  let end = size2;
  // SUBPROOF's flag b: true while the range still starts at leaf 0, i.e. its old part is the whole old tree.
  let wholeOldTree = true;
  // The walk ends when the range is exactly the old tree's last part, i.e. ends where the old tree ends.
  while (end !== size1) {
    const middle = start + largestPowerOfTwoBelow(end - start);
    if (size1 <= middle) {
      nodes.push(new Uint8Array(rangeHash(reader, middle, end)));
      end = middle;
    } else {
      nodes.push(new Uint8Array(rangeHash(reader, start, middle)));
      start = middle;
      wholeOldTree = false;
    }
  }
  if (!wholeOldTree) nodes.push(new Uint8Array(rangeHash(reader, start, end)));
  return nodes.reverse();
}
