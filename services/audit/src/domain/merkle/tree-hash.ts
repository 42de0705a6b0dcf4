import { emptyTreeRoot, HASH_SIZE_BYTES, nodeHash } from "./hasher.js";
import { MerkleError } from "./merkle-error.js";

/**
 * Merkle Tree Hash of RFC 6962 §2.1 over the given leaf hashes (not leaf data: hash entries with
 * `leafHash` first). The empty list gives SHA-256("").
 *
 * Pairs neighbours level by level and carries an odd last node up unchanged, which yields the same tree
 * as the RFC's split at the largest power of two below n, in n − 1 node hashes and without recursion.
 * This is deliberately a different algorithm from `CompactMerkleTree`, so each can check the other.
 *
 * @returns a new 32-byte array.
 * @throws MerkleError `WRONG_HASH_LENGTH` if any leaf hash is not 32 bytes.
 */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  for (let i = 0; i < leafHashes.length; i++) {
    const length = leafHashes[i]?.length;
    if (length !== HASH_SIZE_BYTES) {
      throw new MerkleError("WRONG_HASH_LENGTH", `leaf hash ${i} is ${length} bytes, not ${HASH_SIZE_BYTES}`);
    }
  }
  if (leafHashes.length === 0) return emptyTreeRoot();

  let level: readonly Uint8Array[] = leafHashes;
  while (level.length > 1) {
    const next: Uint8Array[] = new Array<Uint8Array>(Math.ceil(level.length / 2));
    const pairs = Math.floor(level.length / 2);
    for (let i = 0; i < pairs; i++) {
      next[i] = nodeHash(level[2 * i] as Uint8Array, level[2 * i + 1] as Uint8Array);
    }
    if (level.length % 2 === 1) next[pairs] = level[level.length - 1] as Uint8Array;
    level = next;
  }
  // A one-leaf tree's root is the leaf hash itself; copy it so the caller's array is never aliased.
  return new Uint8Array(level[0] as Uint8Array);
}
