// The proofs the service serves come from the subtree hashes it stored, read in one query that a dry
// run plans. These properties hold that plan to the in-memory proofs for trees up to 2^20 leaves:
// the nodes it asks for exist, are few, and give exactly the proofs `inclusionProof` and
// `consistencyProof` compute from all the levels.

import { beforeAll, describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { nodeKey } from "../../src/db/tree-table.js";
import {
  consistencyProof,
  inclusionProof,
  MerkleTreeLevels,
  type SubtreeHashReader,
} from "../../src/domain/merkle/index.js";
import { plannedNodes } from "../../src/domain/tree/stored-tree.js";
import { pseudoRandomLeafHashes } from "../merkle/reference-merkle.js";

const LARGE = 2 ** 20;
let levels: MerkleTreeLevels;

beforeAll(() => {
  levels = MerkleTreeLevels.fromPackedLeafHashes(pseudoRandomLeafHashes(LARGE, 7));
});

/** A store holding only the planned nodes, as the one query returns them. */
function storeOf(size: number, wanted: readonly { level: number; index: number }[]): SubtreeHashReader {
  const found = new Map(
    wanted.map((w) => [nodeKey(w.level, w.index), levels.perfectSubtreeHash(w.level, w.index)]),
  );
  return {
    size,
    perfectSubtreeHash(level, index) {
      const hash = found.get(nodeKey(level, index));
      if (!hash) throw new Error(`unplanned node (${level}, ${index})`);
      return hash;
    },
  };
}

const hex = (hashes: readonly Uint8Array[]) => hashes.map((h) => Buffer.from(h).toString("hex"));
const log2 = (n: number) => Math.ceil(Math.log2(Math.max(2, n)));

describe("proofs planned for one query over the stored subtrees", () => {
  it("serve exactly the inclusion proofs of the full levels, from O(log² n) complete nodes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: LARGE }), fc.nat(), (size, pick) => {
        const index = pick % size;
        const wanted = plannedNodes(size, (reader) => inclusionProof(index, size, reader));
        for (const { level, index: i } of wanted) expect((i + 1) * 2 ** level).toBeLessThanOrEqual(size);
        expect(wanted.length).toBeLessThanOrEqual(log2(size) ** 2);
        const served = inclusionProof(index, size, storeOf(size, wanted));
        expect(hex(served)).toEqual(hex(inclusionProof(index, size, levels)));
      }),
      { numRuns: 300 },
    );
  });

  it("serve exactly the consistency proofs of the full levels", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: LARGE }), fc.integer({ min: 1, max: LARGE }), (a, b) => {
        const [size1, size2] = a <= b ? [a, b] : [b, a];
        const wanted = plannedNodes(size2, (reader) => consistencyProof(size1, size2, reader));
        expect(wanted.length).toBeLessThanOrEqual(log2(size2) ** 2);
        const served = consistencyProof(size1, size2, storeOf(size2, wanted));
        expect(hex(served)).toEqual(hex(consistencyProof(size1, size2, levels)));
      }),
      { numRuns: 300 },
    );
  });
});
