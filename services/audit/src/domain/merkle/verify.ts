// Verifiers for RFC 6962 inclusion and consistency proofs, ported from transparency-dev/merkle's
// proof/verify.go so that both accept and refuse exactly the same inputs (the test vectors under
// test/fixtures/rfc6962 come from that repository). Proofs are checked by recomputing roots: a proof is
// valid only if it has exactly the expected number of 32-byte elements and leads to the given root(s).

import { Buffer } from "node:buffer";

import { HASH_SIZE_BYTES, nodeHash } from "./hasher.js";
import { MerkleError } from "./merkle-error.js";
import {
  assertLeafIndex,
  assertTreeSize,
  bitAt,
  bitLength,
  popCount,
  shiftRight,
  trailingZeros,
  xor,
} from "./tree-bits.js";

/**
 * Checks that `leafHash` is the leaf at `leafIndex` of the tree of size `treeSize` whose root is `root`.
 *
 * @throws MerkleError `INVALID_LEAF_INDEX`, `INVALID_TREE_SIZE`, `LEAF_INDEX_BEYOND_TREE_SIZE`,
 *   `WRONG_HASH_LENGTH` (leaf hash or a proof element not 32 bytes), `WRONG_PROOF_LENGTH`,
 *   `ROOT_MISMATCH` (the proof leads to another root).
 */
export function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  const computed = rootFromInclusionProof(leafIndex, treeSize, leafHash, proof);
  if (Buffer.compare(computed, root) !== 0) {
    throw new MerkleError(
      "ROOT_MISMATCH",
      `inclusion proof for leaf ${leafIndex} of ${treeSize} leads elsewhere`,
    );
  }
}

/**
 * The root that an inclusion proof leads to, for callers that check many leaves against one root or
 * want to report the computed root.
 *
 * @returns the root, a new 32-byte array.
 * @throws MerkleError as `verifyInclusion`, except `ROOT_MISMATCH`.
 */
export function rootFromInclusionProof(
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  assertLeafIndex(leafIndex);
  assertTreeSize(treeSize);
  if (leafIndex >= treeSize) {
    throw new MerkleError("LEAF_INDEX_BEYOND_TREE_SIZE", `leaf index ${leafIndex} >= tree size ${treeSize}`);
  }
  if (leafHash.length !== HASH_SIZE_BYTES) {
    throw new MerkleError(
      "WRONG_HASH_LENGTH",
      `leaf hash is ${leafHash.length} bytes, not ${HASH_SIZE_BYTES}`,
    );
  }
  const { inner, border } = decomposeInclusionProof(leafIndex, treeSize);
  assertProofShape(proof, inner + border);

  if (proof.length === 0) return new Uint8Array(leafHash); // A one-leaf tree's root is its leaf hash.
  const hash = chainInner(leafHash, proof, 0, inner, leafIndex);
  return chainBorderRight(hash, proof, inner, inner + border);
}

/**
 * Checks that the tree of size `size2` with root `root2` extends the tree of size `size1` with root
 * `root1`, i.e. that the log only appended.
 *
 * Equal sizes need an empty proof and identical roots; nothing is hashed then, so the roots are compared
 * as given, whatever their length, as transparency-dev/merkle does. A consistency proof from the empty
 * tree is refused: every tree extends it, so it would prove nothing and usually signals a caller bug.
 *
 * @throws MerkleError `INVALID_TREE_SIZE`, `SIZE1_EXCEEDS_SIZE2`, `CONSISTENCY_FROM_EMPTY_TREE`,
 *   `WRONG_PROOF_LENGTH`, `WRONG_HASH_LENGTH` (root1 or a proof element not 32 bytes),
 *   `ROOT1_MISMATCH` (the proof does not lead to root1), `ROOT2_MISMATCH` (it leads to another root2,
 *   or the sizes are equal and the roots differ).
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  const computed = rootFromConsistencyProof(size1, size2, proof, root1);
  if (Buffer.compare(computed, root2) !== 0) {
    throw new MerkleError("ROOT2_MISMATCH", `consistency proof ${size1} → ${size2} leads to another root2`);
  }
}

/**
 * The newer root that a consistency proof leads to, after checking that it leads to `root1`.
 *
 * @returns the root of the tree of size `size2` as a new array (a copy of `root1` when the sizes are equal).
 * @throws MerkleError as `verifyConsistency`, except `ROOT2_MISMATCH`.
 */
export function rootFromConsistencyProof(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
): Uint8Array {
  assertTreeSize(size1, "size1");
  assertTreeSize(size2, "size2");
  if (size2 < size1) throw new MerkleError("SIZE1_EXCEEDS_SIZE2", `size1 ${size1} > size2 ${size2}`);
  if (size1 === 0) throw new MerkleError("CONSISTENCY_FROM_EMPTY_TREE", "size1 is 0");
  if (size1 === size2) {
    assertProofShape(proof, 0);
    return new Uint8Array(root1);
  }
  if (proof.length === 0) {
    throw new MerkleError("WRONG_PROOF_LENGTH", `empty proof for sizes ${size1} → ${size2}`);
  }
  if (root1.length !== HASH_SIZE_BYTES) {
    throw new MerkleError("WRONG_HASH_LENGTH", `root1 is ${root1.length} bytes, not ${HASH_SIZE_BYTES}`);
  }

  // The proof is the tail of the inclusion proof of leaf size1 − 1 in the tree of size2, starting at the
  // level of the largest perfect subtree the old tree ends with (2^shift leaves), whose hash comes first.
  const decomposition = decomposeInclusionProof(size1 - 1, size2);
  const shift = trailingZeros(size1);
  const inner = decomposition.inner - shift; // shift < inner because size1 < size2.
  const border = decomposition.border;

  // When the old tree is itself that perfect subtree, the verifier already holds its hash: root1.
  const oldTreeIsPerfect = size1 === 2 ** shift;
  const seed = oldTreeIsPerfect ? root1 : (proof[0] as Uint8Array);
  const start = oldTreeIsPerfect ? 0 : 1;
  assertProofShape(proof, start + inner + border);

  const mask = shiftRight(size1 - 1, shift);
  let hash1 = chainInnerRight(seed, proof, start, start + inner, mask);
  hash1 = chainBorderRight(hash1, proof, start + inner, proof.length);
  if (Buffer.compare(hash1, root1) !== 0) {
    throw new MerkleError("ROOT1_MISMATCH", `consistency proof ${size1} → ${size2} does not lead to root1`);
  }
  let hash2 = chainInner(seed, proof, start, start + inner, mask);
  hash2 = chainBorderRight(hash2, proof, start + inner, proof.length);
  return hash2;
}

/**
 * Splits the inclusion proof of leaf `index` in a tree of `size` leaves where the paths to `index` and to
 * the last leaf diverge: `inner` siblings below that point, `border` left siblings along the right edge.
 */
function decomposeInclusionProof(index: number, size: number): { inner: number; border: number } {
  const inner = bitLength(xor(index, size - 1));
  const border = popCount(shiftRight(index, inner));
  return { inner, border };
}

function assertProofShape(proof: readonly Uint8Array[], expectedLength: number): void {
  if (proof.length !== expectedLength) {
    throw new MerkleError("WRONG_PROOF_LENGTH", `proof has ${proof.length} elements, want ${expectedLength}`);
  }
  for (let i = 0; i < proof.length; i++) {
    const length = (proof[i] as Uint8Array).length;
    if (length !== HASH_SIZE_BYTES) {
      throw new MerkleError(
        "WRONG_HASH_LENGTH",
        `proof element ${i} is ${length} bytes, not ${HASH_SIZE_BYTES}`,
      );
    }
  }
}

/** Hashes up through proof[from, to), the bits of `index` saying on which side the path runs. */
function chainInner(
  seed: Uint8Array,
  proof: readonly Uint8Array[],
  from: number,
  to: number,
  index: number,
): Uint8Array {
  let hash = seed;
  for (let i = from; i < to; i++) {
    const sibling = proof[i] as Uint8Array;
    hash = bitAt(index, i - from) === 0 ? nodeHash(hash, sibling) : nodeHash(sibling, hash);
  }
  return hash;
}

/**
 * Like `chainInner` but keeps only the siblings on the left of the path, which yields the hash of the
 * same subtree as it was before the leaves to the right of the path were appended.
 */
function chainInnerRight(
  seed: Uint8Array,
  proof: readonly Uint8Array[],
  from: number,
  to: number,
  index: number,
): Uint8Array {
  let hash = seed;
  for (let i = from; i < to; i++) {
    if (bitAt(index, i - from) === 1) hash = nodeHash(proof[i] as Uint8Array, hash);
  }
  return hash;
}

/** Hashes up the tree's right edge, where every proof element is a left sibling. */
function chainBorderRight(
  seed: Uint8Array,
  proof: readonly Uint8Array[],
  from: number,
  to: number,
): Uint8Array {
  let hash = seed;
  for (let i = from; i < to; i++) hash = nodeHash(proof[i] as Uint8Array, hash);
  return hash;
}
