import { MerkleError } from "./merkle-error.js";
import { readerOf, type ProofSource } from "./leaf-array-reader.js";
import { rangeHash } from "./subtree-hashes.js";
import { assertLeafIndex, assertTreeSize, largestPowerOfTwoBelow } from "./tree-bits.js";

/**
 * Audit path of RFC 6962 §2.1.1 for leaf `leafIndex` in the tree of the first `treeSize` leaves: the
 * sibling subtree hashes from the leaf up to the root, as `verifyInclusion` expects them.
 *
 * Walks down from the root, splitting each range at the largest power of two below its size, and records
 * the hash of the side that does not hold the leaf. With a `MerkleTreeLevels` (or any store of perfect
 * subtrees) that costs O(log² n) reads at worst; with a plain leaf array it rehashes O(n) nodes.
 *
 * @returns new 32-byte arrays, deepest sibling first; empty for a one-leaf tree.
 * @throws MerkleError `INVALID_TREE_SIZE`, `INVALID_LEAF_INDEX`, `LEAF_INDEX_BEYOND_TREE_SIZE`,
 *   `TREE_SIZE_BEYOND_STORE` if the source holds fewer than `treeSize` leaves, `WRONG_HASH_LENGTH` if a
 *   leaf of a plain array is not 32 bytes.
 */
export function inclusionProof(leafIndex: number, treeSize: number, source: ProofSource): Uint8Array[] {
  assertTreeSize(treeSize);
  assertLeafIndex(leafIndex);
  if (leafIndex >= treeSize) {
    throw new MerkleError("LEAF_INDEX_BEYOND_TREE_SIZE", `leaf index ${leafIndex} >= tree size ${treeSize}`);
  }
  const reader = readerOf(source);
  if (treeSize > reader.size) {
    throw new MerkleError("TREE_SIZE_BEYOND_STORE", `tree size ${treeSize} > ${reader.size} stored leaves`);
  }

  const siblings: Uint8Array[] = [];
  let start = 0;
  let end = treeSize;
  while (end - start > 1) {
    const middle = start + largestPowerOfTwoBelow(end - start);
    if (leafIndex < middle) {
      siblings.push(new Uint8Array(rangeHash(reader, middle, end)));
      end = middle;
    } else {
      siblings.push(new Uint8Array(rangeHash(reader, start, middle)));
      start = middle;
    }
  }
  return siblings.reverse();
}
