// The RFC 6962 Merkle tree of the audit log: hashing, roots, a compact tree for appending, proof
// generation and proof verification. Pure functions over Uint8Array; no I/O.

export { CompactMerkleTree, type CompactTreeState, type CompletedSubtreeVisitor } from "./compact-tree.js";
export { consistencyProof } from "./consistency-proof.js";
export { emptyTreeRoot, HASH_SIZE_BYTES, leafHash, nodeHash } from "./hasher.js";
export { inclusionProof } from "./inclusion-proof.js";
export { leafArrayReader, type ProofSource } from "./leaf-array-reader.js";
export { MerkleError, type MerkleErrorCode } from "./merkle-error.js";
export { rangeHash, type SubtreeHashReader } from "./subtree-hashes.js";
export { rootFromLeafHashes } from "./tree-hash.js";
export { MerkleTreeLevels } from "./tree-levels.js";
export {
  rootFromConsistencyProof,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from "./verify.js";
