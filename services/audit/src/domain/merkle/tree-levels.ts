import { HASH_SIZE_BYTES, nodeHash } from "./hasher.js";
import { MerkleError } from "./merkle-error.js";
import { rangeHash, type SubtreeHashReader } from "./subtree-hashes.js";
import { assertTreeSize } from "./tree-bits.js";

/**
 * Every perfect subtree hash of a tree, built once from its leaf hashes and kept in memory, so that
 * inclusion and consistency proofs for any tree size up to `size` cost O(log n) reads instead of
 * rehashing whole subtrees.
 *
 * Each level is one packed byte array (32 bytes per node) rather than an array of small buffers: for
 * 2^20 leaves that is 64 MiB in 21 objects instead of two million buffer objects.
 */
export class MerkleTreeLevels implements SubtreeHashReader {
  readonly size: number;
  readonly #levels: readonly Uint8Array[];

  private constructor(size: number, levels: readonly Uint8Array[]) {
    this.size = size;
    this.#levels = levels;
  }

  /**
   * Builds all levels from leaf hashes (2n node hashes at most); the hashes are copied.
   *
   * @throws MerkleError `WRONG_HASH_LENGTH` if a leaf hash is not 32 bytes.
   */
  static fromLeafHashes(leafHashes: readonly Uint8Array[]): MerkleTreeLevels {
    const packed = new Uint8Array(leafHashes.length * HASH_SIZE_BYTES);
    for (let i = 0; i < leafHashes.length; i++) {
      const leaf = leafHashes[i] as Uint8Array;
      if (leaf.length !== HASH_SIZE_BYTES) {
        throw new MerkleError(
          "WRONG_HASH_LENGTH",
          `leaf hash ${i} is ${leaf.length} bytes, not ${HASH_SIZE_BYTES}`,
        );
      }
      packed.set(leaf, i * HASH_SIZE_BYTES);
    }
    return MerkleTreeLevels.#build(packed);
  }

  /**
   * Builds all levels from leaf hashes packed back to back (32 bytes each), as stored in a bytea column
   * or read from a bundle; the bytes are copied.
   *
   * @throws MerkleError `WRONG_HASH_LENGTH` if the length is not a multiple of 32.
   */
  static fromPackedLeafHashes(packed: Uint8Array): MerkleTreeLevels {
    if (packed.length % HASH_SIZE_BYTES !== 0) {
      throw new MerkleError("WRONG_HASH_LENGTH", `${packed.length} bytes is not a whole number of hashes`);
    }
    return MerkleTreeLevels.#build(packed.slice());
  }

  static #build(leaves: Uint8Array): MerkleTreeLevels {
    const levels: Uint8Array[] = [leaves];
    let below = leaves;
    let count = leaves.length / HASH_SIZE_BYTES;
    while (count >= 2) {
      count = Math.floor(count / 2);
      const level = new Uint8Array(count * HASH_SIZE_BYTES);
      for (let i = 0; i < count; i++) {
        const left = 2 * i * HASH_SIZE_BYTES;
        const hash = nodeHash(
          below.subarray(left, left + HASH_SIZE_BYTES),
          below.subarray(left + HASH_SIZE_BYTES, left + 2 * HASH_SIZE_BYTES),
        );
        level.set(hash, i * HASH_SIZE_BYTES);
      }
      levels.push(level);
      below = level;
    }
    return new MerkleTreeLevels(leaves.length / HASH_SIZE_BYTES, levels);
  }

  /**
   * @returns a view into the store (do not modify it).
   * @throws MerkleError `INVALID_RANGE` if the node does not lie entirely below `size`.
   */
  perfectSubtreeHash(level: number, index: number): Uint8Array {
    const nodes = this.#levels[level];
    const offset = index * HASH_SIZE_BYTES;
    if (nodes === undefined || !Number.isSafeInteger(index) || index < 0 || offset >= nodes.length) {
      throw new MerkleError(
        "INVALID_RANGE",
        `no complete node (${level}, ${index}) in a ${this.size}-leaf tree`,
      );
    }
    return nodes.subarray(offset, offset + HASH_SIZE_BYTES);
  }

  /**
   * Root of the tree made of the first `treeSize` leaves (all of them by default), in O(log n).
   *
   * @returns a new 32-byte array.
   * @throws MerkleError `INVALID_TREE_SIZE`, or `TREE_SIZE_BEYOND_STORE` if `treeSize` exceeds `size`.
   */
  root(treeSize: number = this.size): Uint8Array {
    assertTreeSize(treeSize);
    if (treeSize > this.size) {
      throw new MerkleError("TREE_SIZE_BEYOND_STORE", `tree size ${treeSize} > ${this.size} stored leaves`);
    }
    return new Uint8Array(rangeHash(this, 0, treeSize));
  }
}
