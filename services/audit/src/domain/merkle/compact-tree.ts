import { emptyTreeRoot, HASH_SIZE_BYTES, nodeHash } from "./hasher.js";
import { MerkleError } from "./merkle-error.js";
import { assertTreeSize, popCount } from "./tree-bits.js";

/**
 * What a compact tree is stored as (for example a bigint and a bytea[] column): the tree size and the
 * roots of the perfect subtrees that tile leaves [0, size), largest (leftmost) first, one per set bit of
 * the size.
 */
export interface CompactTreeState {
  readonly size: number;
  readonly hashes: readonly Uint8Array[];
}

/**
 * Told about every perfect subtree an append completes, the new leaf included (level 0): node (level,
 * index) covers leaves [index·2^level, (index+1)·2^level). Storing these is enough to serve inclusion and
 * consistency proofs later through a `SubtreeHashReader`, without reloading leaves. `hash` is shared with
 * the tree: copy it before modifying it.
 */
export type CompletedSubtreeVisitor = (level: number, index: number, hash: Uint8Array) => void;

/**
 * A Merkle tree that keeps only O(log n) hashes ("compact range" in transparency-dev/merkle): the roots of
 * the perfect subtrees covering all leaves so far. The sequencer appends each batch to the state it
 * stored last time and gets the new root without reading the existing leaves.
 *
 * Appending merges equal-sized subtrees like a binary counter carries: O(1) node hashes per leaf on
 * average, O(log n) at worst.
 */
export class CompactMerkleTree {
  #size: number;
  readonly #hashes: Uint8Array[];

  private constructor(size: number, hashes: Uint8Array[]) {
    this.#size = size;
    this.#hashes = hashes;
  }

  /** A tree with no leaves. */
  static empty(): CompactMerkleTree {
    return new CompactMerkleTree(0, []);
  }

  /**
   * Restores a tree from its stored state; the hashes are copied.
   *
   * @throws MerkleError `INVALID_TREE_SIZE`, `INVALID_COMPACT_TREE_STATE` if there is not exactly one hash
   *   per set bit of the size, `WRONG_HASH_LENGTH` if a hash is not 32 bytes.
   */
  static fromState(state: CompactTreeState): CompactMerkleTree {
    assertTreeSize(state.size);
    const expected = popCount(state.size);
    if (state.hashes.length !== expected) {
      throw new MerkleError(
        "INVALID_COMPACT_TREE_STATE",
        `a tree of size ${state.size} has ${expected} subtree hashes, got ${state.hashes.length}`,
      );
    }
    const hashes = state.hashes.map((hash, i) => {
      if (hash.length !== HASH_SIZE_BYTES) {
        throw new MerkleError(
          "WRONG_HASH_LENGTH",
          `subtree hash ${i} is ${hash.length} bytes, not ${HASH_SIZE_BYTES}`,
        );
      }
      return new Uint8Array(hash);
    });
    return new CompactMerkleTree(state.size, hashes);
  }

  /** Number of leaves appended so far. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends one leaf hash (hash entries with `leafHash` first); the hash is copied.
   *
   * @throws MerkleError `WRONG_HASH_LENGTH` if it is not 32 bytes, `INVALID_TREE_SIZE` if the tree would
   *   outgrow 2^53 − 1 leaves. The tree is unchanged when it throws, though `onSubtree` may have been
   *   called if it is the visitor that threw.
   */
  append(leafHash: Uint8Array, onSubtree?: CompletedSubtreeVisitor): void {
    if (leafHash.length !== HASH_SIZE_BYTES) {
      throw new MerkleError(
        "WRONG_HASH_LENGTH",
        `leaf hash is ${leafHash.length} bytes, not ${HASH_SIZE_BYTES}`,
      );
    }
    assertTreeSize(this.#size + 1);

    let hash: Uint8Array = new Uint8Array(leafHash);
    let index = this.#size;
    let level = 0;
    onSubtree?.(level, index, hash);
    // Each trailing 1 bit of the old size is a subtree of the current width waiting for a right sibling.
    let merges = 0;
    while (index % 2 === 1) {
      const left = this.#hashes[this.#hashes.length - 1 - merges] as Uint8Array;
      hash = nodeHash(left, hash);
      index = (index - 1) / 2;
      level++;
      merges++;
      onSubtree?.(level, index, hash);
    }
    // Only mutate once everything that can throw has run.
    this.#hashes.length -= merges;
    this.#hashes.push(hash);
    this.#size++;
  }

  /**
   * Appends leaf hashes in order; see `append`. If one throws, the ones before it stay appended.
   *
   * @throws MerkleError as `append`.
   */
  appendAll(leafHashes: Iterable<Uint8Array>, onSubtree?: CompletedSubtreeVisitor): void {
    for (const leafHash of leafHashes) this.append(leafHash, onSubtree);
  }

  /** Root of the tree at its current size (SHA-256("") when empty), in O(log n); a new array. */
  root(): Uint8Array {
    const hashes = this.#hashes;
    if (hashes.length === 0) return emptyTreeRoot();
    let hash = hashes[hashes.length - 1] as Uint8Array;
    for (let i = hashes.length - 2; i >= 0; i--) hash = nodeHash(hashes[i] as Uint8Array, hash);
    return hashes.length === 1 ? new Uint8Array(hash) : hash;
  }

  /** The state to store; the hashes are copies. */
  toState(): CompactTreeState {
    return { size: this.#size, hashes: this.#hashes.map((hash) => new Uint8Array(hash)) };
  }
}
