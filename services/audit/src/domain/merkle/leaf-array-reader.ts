import { HASH_SIZE_BYTES, nodeHash } from "./hasher.js";
import { MerkleError } from "./merkle-error.js";
import type { SubtreeHashReader } from "./subtree-hashes.js";

/**
 * A `SubtreeHashReader` over a plain array of leaf hashes that stores nothing: each perfect subtree is
 * rehashed from its leaves when asked, so one proof costs about as many hashes as the tree has leaves.
 * Fine for small trees and one-off proofs; use `MerkleTreeLevels` to serve many proofs.
 *
 * @throws MerkleError `WRONG_HASH_LENGTH` if a leaf hash is not 32 bytes, and `INVALID_RANGE` from
 *   `perfectSubtreeHash` for nodes beyond the array.
 */
export function leafArrayReader(leafHashes: readonly Uint8Array[]): SubtreeHashReader {
  const size = leafHashes.length;
  for (let i = 0; i < size; i++) {
    const length = leafHashes[i]?.length;
    if (length !== HASH_SIZE_BYTES) {
      throw new MerkleError("WRONG_HASH_LENGTH", `leaf hash ${i} is ${length} bytes, not ${HASH_SIZE_BYTES}`);
    }
  }
  const subtree = (level: number, index: number): Uint8Array => {
    if (level === 0) return leafHashes[index] as Uint8Array;
    return nodeHash(subtree(level - 1, 2 * index), subtree(level - 1, 2 * index + 1));
  };
  return {
    size,
    perfectSubtreeHash(level: number, index: number): Uint8Array {
      if (!(Number.isInteger(level) && level >= 0 && index >= 0 && (index + 1) * 2 ** level <= size)) {
        throw new MerkleError(
          "INVALID_RANGE",
          `no complete node (${level}, ${index}) in a ${size}-leaf tree`,
        );
      }
      return subtree(level, index);
    },
  };
}

/** What proof generation accepts: a store of subtree hashes, or the plain list of leaf hashes. */
export type ProofSource = SubtreeHashReader | readonly Uint8Array[];

/** The reader behind a `ProofSource`, wrapping a plain list with `leafArrayReader`. */
export function readerOf(source: ProofSource): SubtreeHashReader {
  return "perfectSubtreeHash" in source ? source : leafArrayReader(source);
}
