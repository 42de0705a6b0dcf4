// Known answers for hashing, roots and proof generation: the 8-leaf tree of transparency-dev/merkle's
// proof/verify_test.go (its leaves, the roots of every prefix and the proofs it publishes), then every
// proof of every tree up to 40 leaves against the RFC's recursive definitions.

import { describe, expect, it } from "@jest/globals";

import { CompactMerkleTree } from "../../src/domain/merkle/compact-tree.js";
import { consistencyProof } from "../../src/domain/merkle/consistency-proof.js";
import { emptyTreeRoot, leafHash, nodeHash } from "../../src/domain/merkle/hasher.js";
import { inclusionProof } from "../../src/domain/merkle/inclusion-proof.js";
import { MerkleError } from "../../src/domain/merkle/merkle-error.js";
import { rootFromLeafHashes } from "../../src/domain/merkle/tree-hash.js";
import { MerkleTreeLevels } from "../../src/domain/merkle/tree-levels.js";
import { verifyConsistency, verifyInclusion } from "../../src/domain/merkle/verify.js";
import { hex, ReferenceTree, referenceLeafHash } from "./reference-merkle.js";

const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "hex"));

const LEAVES = [
  "",
  "00",
  "10",
  "2021",
  "3031",
  "40414243",
  "5051525354555657",
  "606162636465666768696a6b6c6d6e6f",
].map(fromHex);

// ROOTS[i] is the root of the tree of the first i + 1 leaves.
const ROOTS = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

const INCLUSION_PROOFS: { leafIndex: number; treeSize: number; proof: string[] }[] = [
  { leafIndex: 0, treeSize: 1, proof: [] },
  {
    leafIndex: 0,
    treeSize: 8,
    proof: [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
  },
  {
    leafIndex: 5,
    treeSize: 8,
    proof: [
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  },
  { leafIndex: 2, treeSize: 3, proof: ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"] },
  {
    leafIndex: 1,
    treeSize: 5,
    proof: [
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
  },
];

const CONSISTENCY_PROOFS: { size1: number; size2: number; proof: string[] }[] = [
  { size1: 1, size2: 1, proof: [] },
  {
    size1: 1,
    size2: 8,
    proof: [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
  },
  {
    size1: 6,
    size2: 8,
    proof: [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  },
  {
    size1: 2,
    size2: 5,
    proof: [
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
  },
  {
    size1: 6,
    size2: 7,
    proof: [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  },
];

const leafHashes = LEAVES.map((leaf) => leafHash(leaf));
const levels = MerkleTreeLevels.fromLeafHashes(leafHashes);
const rootOf = (size: number): Uint8Array => fromHex(ROOTS[size - 1] as string);

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof MerkleError ? error.code : `not a MerkleError: ${String(error)}`;
  }
}

describe("RFC 6962 hashing", () => {
  it("hashes the empty tree to SHA-256 of the empty string", () => {
    expect(hex(emptyTreeRoot())).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(hex(rootFromLeafHashes([]))).toBe(hex(emptyTreeRoot()));
    expect(hex(CompactMerkleTree.empty().root())).toBe(hex(emptyTreeRoot()));
  });

  it("hashes leaves with a 0x00 prefix, including leaves too long for the scratch buffer", () => {
    expect(hex(leafHash(new Uint8Array(0)))).toBe(ROOTS[0]);
    for (const length of [0, 1, 4095, 4096, 4097, 100_000]) {
      const data = new Uint8Array(length).map((_, i) => i * 7);
      expect(hex(leafHash(data))).toBe(hex(referenceLeafHash(data)));
    }
  });

  it("refuses node children that are not 32 bytes", () => {
    expect(codeOf(() => nodeHash(new Uint8Array(31), new Uint8Array(32)))).toBe("WRONG_HASH_LENGTH");
    expect(codeOf(() => nodeHash(new Uint8Array(32), new Uint8Array(33)))).toBe("WRONG_HASH_LENGTH");
  });

  it("gives the published root for every prefix of the 8-leaf tree, by every method", () => {
    const compact = CompactMerkleTree.empty();
    for (let size = 1; size <= 8; size++) {
      compact.append(leafHashes[size - 1] as Uint8Array);
      const want = ROOTS[size - 1];
      expect(hex(rootFromLeafHashes(leafHashes.slice(0, size)))).toBe(want);
      expect(hex(levels.root(size))).toBe(want);
      expect(hex(compact.root())).toBe(want);
    }
  });
});

describe("proof generation on the published 8-leaf tree", () => {
  it.each(INCLUSION_PROOFS)("inclusion of leaf $leafIndex in $treeSize", ({ leafIndex, treeSize, proof }) => {
    expect(inclusionProof(leafIndex, treeSize, levels).map(hex)).toEqual(proof);
    expect(inclusionProof(leafIndex, treeSize, leafHashes).map(hex)).toEqual(proof);
    verifyInclusion(
      leafIndex,
      treeSize,
      leafHashes[leafIndex] as Uint8Array,
      proof.map(fromHex),
      rootOf(treeSize),
    );
  });

  it.each(CONSISTENCY_PROOFS)("consistency $size1 → $size2", ({ size1, size2, proof }) => {
    expect(consistencyProof(size1, size2, levels).map(hex)).toEqual(proof);
    expect(consistencyProof(size1, size2, leafHashes).map(hex)).toEqual(proof);
    verifyConsistency(size1, size2, proof.map(fromHex), rootOf(size1), rootOf(size2));
  });
});

describe("proof generation against the RFC's recursive definitions", () => {
  const MAX_SIZE = 40;
  const leaves = Array.from({ length: MAX_SIZE }, (_, i) => leafHash(new Uint8Array([i, i >> 8])));
  const store = MerkleTreeLevels.fromLeafHashes(leaves);

  it(`matches PATH and PROOF exactly for every tree of 1 to ${MAX_SIZE} leaves`, () => {
    for (let size = 1; size <= MAX_SIZE; size++) {
      const reference = new ReferenceTree(leaves.slice(0, size));
      const root = reference.mth();
      expect(hex(rootFromLeafHashes(leaves.slice(0, size)))).toBe(hex(root));
      expect(hex(store.root(size))).toBe(hex(root));
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(index, size, store);
        expect(proof.map(hex)).toEqual(reference.path(index).map(hex));
        verifyInclusion(index, size, leaves[index] as Uint8Array, proof, root);
      }
      for (let size1 = 1; size1 <= size; size1++) {
        const proof = consistencyProof(size1, size, store);
        expect(proof.map(hex)).toEqual(reference.proof(size1).map(hex));
        verifyConsistency(size1, size, proof, reference.mth(0, size1), root);
      }
    }
  });

  it("refuses impossible proof requests with the reason", () => {
    expect(codeOf(() => inclusionProof(8, 8, levels))).toBe("LEAF_INDEX_BEYOND_TREE_SIZE");
    expect(codeOf(() => inclusionProof(0, 0, levels))).toBe("LEAF_INDEX_BEYOND_TREE_SIZE");
    expect(codeOf(() => inclusionProof(0, 9, levels))).toBe("TREE_SIZE_BEYOND_STORE");
    expect(codeOf(() => inclusionProof(-1, 8, levels))).toBe("INVALID_LEAF_INDEX");
    expect(codeOf(() => inclusionProof(0.5, 8, levels))).toBe("INVALID_LEAF_INDEX");
    expect(codeOf(() => inclusionProof(0, Number.NaN, levels))).toBe("INVALID_TREE_SIZE");
    expect(codeOf(() => inclusionProof(0, 2 ** 53, levels))).toBe("INVALID_TREE_SIZE");
    expect(codeOf(() => consistencyProof(3, 2, levels))).toBe("SIZE1_EXCEEDS_SIZE2");
    expect(codeOf(() => consistencyProof(0, 2, levels))).toBe("CONSISTENCY_FROM_EMPTY_TREE");
    expect(codeOf(() => consistencyProof(0, 0, levels))).toBe("CONSISTENCY_FROM_EMPTY_TREE");
    expect(codeOf(() => consistencyProof(2, 9, levels))).toBe("TREE_SIZE_BEYOND_STORE");
    expect(codeOf(() => inclusionProof(0, 2, [new Uint8Array(32), new Uint8Array(31)]))).toBe(
      "WRONG_HASH_LENGTH",
    );
    expect(codeOf(() => levels.perfectSubtreeHash(3, 1))).toBe("INVALID_RANGE");
    expect(codeOf(() => levels.perfectSubtreeHash(4, 0))).toBe("INVALID_RANGE");
  });
});

describe("verification edge cases of transparency-dev/merkle's verify_test.go", () => {
  const someHash = fromHex("abacaba000000000000000000000000000000000000000000060061e00123456");
  const emptyHash = emptyTreeRoot();

  it.each([
    [0, 0],
    [0, 1],
    [1, 0],
    [2, 1],
  ])("refuses an empty proof for index %d of size %d with a mismatched root or leaf", (index, size) => {
    expect(codeOf(() => verifyInclusion(index, size, someHash, [], new Uint8Array(0)))).toBeDefined();
    expect(codeOf(() => verifyInclusion(index, size, new Uint8Array(0), [], emptyHash))).toBeDefined();
    expect(codeOf(() => verifyInclusion(index, size, someHash, [], emptyHash))).toBeDefined();
  });

  it("accepts a one-leaf tree only when the root is the leaf hash", () => {
    const hash = leafHash(new TextEncoder().encode("data"));
    expect(codeOf(() => verifyInclusion(0, 1, hash, [], hash))).toBeUndefined();
    expect(codeOf(() => verifyInclusion(0, 1, new Uint8Array(0), [], hash))).toBe("WRONG_HASH_LENGTH");
    expect(codeOf(() => verifyInclusion(0, 1, hash, [], new Uint8Array(0)))).toBe("ROOT_MISMATCH");
  });
});
