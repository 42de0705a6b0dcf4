import type { CommonQueryMethods } from "@money/db";
import { nodeKey, readSubtreeHashes } from "../../db/tree-table.js";
import { HASH_SIZE_BYTES, type SubtreeHashReader } from "../merkle/index.js";

const PLACEHOLDER = new Uint8Array(HASH_SIZE_BYTES);

/**
 * Runs a proof computation (`inclusionProof`, `consistencyProof`,
 * `rangeHash`…) over the subtree hashes stored for a tree of `size` leaves,
 * reading every hash it needs in one query.
 *
 * Which nodes a proof reads depends only on the sizes and indices, never on
 * the hash values. So `compute` runs twice: first over placeholder hashes to
 * learn which nodes it reads, then, once they are fetched, for real.
 * `compute` must therefore be pure.
 *
 * @throws Error if a node the proof needs is missing from the store: the
 *   stored tree is broken, which is a bug or tampering, never a caller error.
 */
export async function withStoredTree<T>(
  db: CommonQueryMethods,
  size: number,
  compute: (reader: SubtreeHashReader) => T,
): Promise<T> {
  const found = await readSubtreeHashes(db, plannedNodes(size, compute));
  return compute({
    size,
    perfectSubtreeHash(level, index) {
      const hash = found.get(nodeKey(level, index));
      if (!hash) throw new Error(`stored tree of ${size} leaves lacks node (${level}, ${index})`);
      return hash;
    },
  });
}

/**
 * What `withStoredTree` reads, as a pure function over a map: lets property
 * tests check the two-pass planning against an in-memory tree.
 */
export function plannedNodes<T>(
  size: number,
  compute: (reader: SubtreeHashReader) => T,
): { level: number; index: number }[] {
  const wanted = new Map<string, { level: number; index: number }>();
  compute({
    size,
    perfectSubtreeHash(level, index) {
      wanted.set(nodeKey(level, index), { level, index });
      return PLACEHOLDER;
    },
  });
  return [...wanted.values()];
}
