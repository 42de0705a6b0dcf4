import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";

import { CompactMerkleTree, type CompactTreeState } from "../../src/domain/merkle/compact-tree.js";
import { consistencyProof } from "../../src/domain/merkle/consistency-proof.js";
import { inclusionProof } from "../../src/domain/merkle/inclusion-proof.js";
import { MerkleError } from "../../src/domain/merkle/merkle-error.js";
import type { SubtreeHashReader } from "../../src/domain/merkle/subtree-hashes.js";
import { rootFromLeafHashes } from "../../src/domain/merkle/tree-hash.js";
import { MerkleTreeLevels } from "../../src/domain/merkle/tree-levels.js";
import { verifyConsistency, verifyInclusion } from "../../src/domain/merkle/verify.js";
import { hex, pseudoRandomLeafHashes, splitHashes } from "./reference-merkle.js";

const leaves = splitHashes(pseudoRandomLeafHashes(4096, 7));

// What the Postgres row would hold: a size and base64 (or bytea) hashes, here through JSON and back.
function throughStorage(state: CompactTreeState): CompactTreeState {
  const row = JSON.stringify({
    size: state.size,
    hashes: state.hashes.map((h) => Buffer.from(h).toString("base64")),
  });
  const parsed = JSON.parse(row) as { size: number; hashes: string[] };
  return { size: parsed.size, hashes: parsed.hashes.map((h) => new Uint8Array(Buffer.from(h, "base64"))) };
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof MerkleError ? error.code : `not a MerkleError: ${String(error)}`;
  }
}

describe("CompactMerkleTree", () => {
  it("has the root of rootFromLeafHashes after every single append", () => {
    const tree = CompactMerkleTree.empty();
    expect(hex(tree.root())).toBe(hex(rootFromLeafHashes([])));
    for (let size = 1; size <= 300; size++) {
      tree.append(leaves[size - 1] as Uint8Array);
      expect(tree.size).toBe(size);
      expect(hex(tree.root())).toBe(hex(rootFromLeafHashes(leaves.slice(0, size))));
      // One stored hash per set bit of the size.
      expect(tree.toState().hashes).toHaveLength(size.toString(2).replaceAll("0", "").length);
    }
  });

  it("gives the same root whatever the batches and wherever it is stored and restored", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ count: fc.integer({ min: 0, max: 300 }), store: fc.boolean() }), {
          maxLength: 12,
        }),
        (batches) => {
          let tree = CompactMerkleTree.empty();
          let size = 0;
          for (const { count, store } of batches) {
            const batch = leaves.slice(size, Math.min(size + count, leaves.length));
            tree.appendAll(batch);
            size += batch.length;
            if (store) tree = CompactMerkleTree.fromState(throughStorage(tree.toState()));
            expect(tree.size).toBe(size);
          }
          expect(hex(tree.root())).toBe(hex(rootFromLeafHashes(leaves.slice(0, size))));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("round-trips its state exactly and does not share it", () => {
    const tree = CompactMerkleTree.empty();
    tree.appendAll(leaves.slice(0, 1234));
    const state = tree.toState();
    expect(state.size).toBe(1234);
    const restored = CompactMerkleTree.fromState(state);
    expect(restored.toState().hashes.map(hex)).toEqual(state.hashes.map(hex));
    const first = state.hashes[0] as Uint8Array;
    first[0] = (first[0] as number) ^ 1; // Changing the exported state must not change the trees.
    expect(hex(restored.root())).toBe(hex(tree.root()));
    expect(hex(tree.root())).toBe(hex(rootFromLeafHashes(leaves.slice(0, 1234))));
  });

  it("reports every completed subtree, enough to serve proofs for every earlier size", () => {
    const nodes = new Map<string, Uint8Array>();
    const tree = CompactMerkleTree.empty();
    const size = 777;
    tree.appendAll(leaves.slice(0, size), (level, index, hash) => {
      expect(nodes.has(`${level}/${index}`)).toBe(false);
      nodes.set(`${level}/${index}`, new Uint8Array(hash));
    });
    const levels = MerkleTreeLevels.fromLeafHashes(leaves.slice(0, size));
    let expected = 0;
    for (let level = 0; 2 ** level <= size; level++) {
      for (let index = 0; (index + 1) * 2 ** level <= size; index++, expected++) {
        expect(hex(nodes.get(`${level}/${index}`) ?? new Uint8Array())).toBe(
          hex(levels.perfectSubtreeHash(level, index)),
        );
      }
    }
    expect(nodes.size).toBe(expected);

    // A reader over the stored nodes, as the sequencer would back with a table, serves proofs.
    const stored: SubtreeHashReader = {
      size,
      perfectSubtreeHash: (level, index) => nodes.get(`${level}/${index}`) as Uint8Array,
    };
    const root = tree.root();
    for (const index of [0, 1, 400, 775, 776]) {
      verifyInclusion(index, size, leaves[index] as Uint8Array, inclusionProof(index, size, stored), root);
    }
    for (const size1 of [1, 2, 3, 512, 700, 776]) {
      verifyConsistency(size1, size, consistencyProof(size1, size, stored), levels.root(size1), root);
    }
  });

  it("refuses malformed leaves and states, leaving the tree unchanged", () => {
    const tree = CompactMerkleTree.empty();
    tree.appendAll(leaves.slice(0, 5));
    const before = hex(tree.root());
    expect(codeOf(() => tree.append(new Uint8Array(31)))).toBe("WRONG_HASH_LENGTH");
    expect(tree.size).toBe(5);
    expect(hex(tree.root())).toBe(before);

    const hash = new Uint8Array(32);
    expect(codeOf(() => CompactMerkleTree.fromState({ size: 5, hashes: [hash] }))).toBe(
      "INVALID_COMPACT_TREE_STATE",
    );
    expect(codeOf(() => CompactMerkleTree.fromState({ size: 0, hashes: [hash] }))).toBe(
      "INVALID_COMPACT_TREE_STATE",
    );
    expect(codeOf(() => CompactMerkleTree.fromState({ size: 4, hashes: [new Uint8Array(33)] }))).toBe(
      "WRONG_HASH_LENGTH",
    );
    expect(codeOf(() => CompactMerkleTree.fromState({ size: -1, hashes: [] }))).toBe("INVALID_TREE_SIZE");
    expect(codeOf(() => CompactMerkleTree.fromState({ size: 2 ** 53, hashes: [hash] }))).toBe(
      "INVALID_TREE_SIZE",
    );
  });

  it("keeps sizes past 2^32 exact", () => {
    // A state as a huge log would store it: 2^40 + 1 leaves, two subtrees.
    const state = { size: 2 ** 40 + 1, hashes: [leaves[0] as Uint8Array, leaves[1] as Uint8Array] };
    const tree = CompactMerkleTree.fromState(state);
    const seen: string[] = [];
    tree.append(leaves[2] as Uint8Array, (level, index) => seen.push(`${level}/${index}`));
    expect(seen).toEqual([`0/${2 ** 40 + 1}`, `1/${2 ** 39}`]);
    expect(tree.size).toBe(2 ** 40 + 2);
    expect(tree.toState().hashes).toHaveLength(2);
  });
});
