/**
 * What went wrong while building or checking a Merkle tree structure.
 *
 * - `INVALID_TREE_SIZE`: a tree size is not a non-negative safe integer (sizes above 2^53 − 1 cannot be
 *   represented exactly by a JS number, so they are refused rather than rounded).
 * - `INVALID_LEAF_INDEX`: a leaf index is not a non-negative safe integer.
 * - `LEAF_INDEX_BEYOND_TREE_SIZE`: the leaf index is not below the tree size.
 * - `WRONG_HASH_LENGTH`: a leaf hash, node hash, proof element or root is not 32 bytes.
 * - `WRONG_PROOF_LENGTH`: the proof does not have the number of elements its sizes call for.
 * - `ROOT_MISMATCH`: the inclusion proof leads to a different root than the one given.
 * - `SIZE1_EXCEEDS_SIZE2`: a consistency proof was asked from a larger tree to a smaller one.
 * - `CONSISTENCY_FROM_EMPTY_TREE`: every tree is consistent with the empty tree, so such a proof proves
 *   nothing and is refused, as transparency-dev/merkle does.
 * - `ROOT1_MISMATCH`: the consistency proof does not lead to the older root.
 * - `ROOT2_MISMATCH`: the consistency proof does not lead to the newer root.
 * - `TREE_SIZE_BEYOND_STORE`: a proof was asked for a tree larger than the hashes the store holds.
 * - `INVALID_RANGE`: a subtree or leaf range that is not a node of the tree was asked for.
 * - `INVALID_COMPACT_TREE_STATE`: a stored compact tree does not hold one hash per set bit of its size.
 */
export type MerkleErrorCode =
  | "INVALID_TREE_SIZE"
  | "INVALID_LEAF_INDEX"
  | "LEAF_INDEX_BEYOND_TREE_SIZE"
  | "WRONG_HASH_LENGTH"
  | "WRONG_PROOF_LENGTH"
  | "ROOT_MISMATCH"
  | "SIZE1_EXCEEDS_SIZE2"
  | "CONSISTENCY_FROM_EMPTY_TREE"
  | "ROOT1_MISMATCH"
  | "ROOT2_MISMATCH"
  | "TREE_SIZE_BEYOND_STORE"
  | "INVALID_RANGE"
  | "INVALID_COMPACT_TREE_STATE";

/** The one error type of the Merkle module; `code` says what failed, `message` gives the numbers. */
export class MerkleError extends Error {
  override readonly name = "MerkleError";

  constructor(
    readonly code: MerkleErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
