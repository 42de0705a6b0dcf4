// RFC 6962 §2.1 hashing: SHA-256 with a one-byte prefix that separates leaves (0x00) from interior
// nodes (0x01), so that no leaf can be passed off as a node (second-preimage resistance).

import { createHash, hash } from "node:crypto";

import { MerkleError } from "./merkle-error.js";

/** Length of every hash in the tree, in bytes (SHA-256). */
export const HASH_SIZE_BYTES = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

// Hashing dominates the cost of sequencing and of verifying a bundle, so each input is copied into one
// reusable buffer and hashed in a single one-shot call: about 30% faster than a Hash object fed with
// three update() calls. This is safe because JS runs these synchronous functions one at a time.
const nodeInput = Buffer.alloc(1 + 2 * HASH_SIZE_BYTES);
nodeInput[0] = NODE_PREFIX;

// Leaves longer than this are hashed with a streaming Hash object instead of being copied.
const LEAF_SCRATCH_BYTES = 4096;
const leafInput = Buffer.alloc(1 + LEAF_SCRATCH_BYTES);
leafInput[0] = LEAF_PREFIX;
const leafPrefix = Buffer.from([LEAF_PREFIX]);

const EMPTY_TREE_ROOT = new Uint8Array(hash("sha256", new Uint8Array(0), "buffer"));

/** Leaf hash of RFC 6962: SHA-256(0x00 ‖ data). Returns a new 32-byte array. */
export function leafHash(data: Uint8Array): Uint8Array {
  if (data.length <= LEAF_SCRATCH_BYTES) {
    leafInput.set(data, 1);
    return hash("sha256", leafInput.subarray(0, 1 + data.length), "buffer");
  }
  return createHash("sha256").update(leafPrefix).update(data).digest();
}

/**
 * Interior node hash of RFC 6962: SHA-256(0x01 ‖ left ‖ right). Returns a new 32-byte array.
 *
 * @throws MerkleError `WRONG_HASH_LENGTH` if either child is not 32 bytes: hashing a short child would
 *   silently compute the hash of a different tree.
 */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== HASH_SIZE_BYTES || right.length !== HASH_SIZE_BYTES) {
    throw new MerkleError(
      "WRONG_HASH_LENGTH",
      `node children must be ${HASH_SIZE_BYTES} bytes, got ${left.length} and ${right.length}`,
    );
  }
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE_BYTES);
  return hash("sha256", nodeInput, "buffer");
}

/** Root of the empty tree, SHA-256 of the empty string (RFC 6962 §2.1). Returns a new array. */
export function emptyTreeRoot(): Uint8Array {
  return EMPTY_TREE_ROOT.slice();
}
