import { emptyTreeRoot, nodeHash } from "./hasher.js";
import { MerkleError } from "./merkle-error.js";
import { bitCeil, bitLength } from "./tree-bits.js";

/**
 * Where proof generation reads hashes from: the roots of perfect subtrees, which never change once their
 * last leaf is appended. Node (level, index) covers leaves [index·2^level, (index+1)·2^level); level 0
 * is the leaf hashes themselves.
 *
 * Proofs for any tree size up to `size` only need such nodes (the RFC's incomplete right-edge subtrees are
 * rebuilt from them by `rangeHash`), so a store of completed nodes, such as the ones
 * `CompactMerkleTree.append` reports, serves proofs for every past tree size too.
 */
export interface SubtreeHashReader {
  /** Number of leaves covered by the store: proofs may be asked for any tree size up to it. */
  readonly size: number;
  /**
   * Hash of the perfect subtree at `level` and `index`. Only asked for nodes lying entirely below `size`.
   * The result may be a view into the store: callers must not modify it.
   */
  perfectSubtreeHash(level: number, index: number): Uint8Array;
}

/**
 * Merkle Tree Hash of the leaves [start, end), read from perfect subtrees: the range is tiled by the
 * subtrees of its size's set bits, largest first, and folded from the right as RFC 6962 §2.1 prescribes.
 * Costs one read per set bit of `end − start` and one node hash fewer.
 *
 * The range must be a (possibly incomplete) node of a tree: `start` a multiple of the smallest power of
 * two at or above `end − start`. Every range an inclusion or consistency proof needs is of this kind.
 *
 * @returns the hash, possibly a view into the store when the range is one perfect subtree.
 * @throws MerkleError `INVALID_RANGE` if the range is not such a node or extends beyond `reader.size`.
 */
export function rangeHash(reader: SubtreeHashReader, start: number, end: number): Uint8Array {
  const count = end - start;
  if (!(start >= 0 && count >= 0 && end <= reader.size && start % bitCeil(count) === 0)) {
    throw new MerkleError(
      "INVALID_RANGE",
      `[${start}, ${end}) is not a subtree of a ${reader.size}-leaf store`,
    );
  }
  if (count === 0) return emptyTreeRoot();

  const parts: Uint8Array[] = [];
  let offset = start;
  for (let level = bitLength(count) - 1; level >= 0; level--) {
    const width = 2 ** level;
    // Bit `level` of `count`; plain `&` would truncate counts above 2^31.
    if (Math.floor(count / width) % 2 === 1) {
      parts.push(reader.perfectSubtreeHash(level, offset / width));
      offset += width;
    }
  }
  let hash = parts[parts.length - 1] as Uint8Array;
  for (let i = parts.length - 2; i >= 0; i--) hash = nodeHash(parts[i] as Uint8Array, hash);
  return hash;
}
