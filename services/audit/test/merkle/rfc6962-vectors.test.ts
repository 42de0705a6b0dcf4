// Every inclusion and consistency vector of transparency-dev/merkle (copied under
// test/fixtures/rfc6962): the verifiers must accept exactly the cases with wantErr false, and refuse the
// others with a MerkleError whose code says why.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "@jest/globals";

import { MerkleError, type MerkleErrorCode } from "../../src/domain/merkle/merkle-error.js";
import { verifyConsistency, verifyInclusion } from "../../src/domain/merkle/verify.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/rfc6962/", import.meta.url));

interface InclusionCase {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

interface ConsistencyCase {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return jsonFiles(path);
      return name.endsWith(".json") ? [path] : [];
    });
}

// JSON.parse turns 2^64 − 1 (Go's "index − 1" on index 0) into 1.8446744073709552e19: not a safe integer,
// so the verifiers refuse it as an invalid index or size, which is the right outcome for it anyway.
function load<T>(kind: string): [string, T][] {
  return jsonFiles(join(FIXTURES, kind)).map((path) => [
    relative(FIXTURES, path),
    JSON.parse(readFileSync(path, "utf8")) as T,
  ]);
}

const b64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "base64"));
const proofOf = (proof: string[] | null): Uint8Array[] => (proof ?? []).map(b64);

// Why each kind of corruption must be refused, where that does not depend on the tree's numbers (an index
// or size mutation fails for different reasons in different trees; those only need to fail).
const INCLUSION_CODES: Record<string, MerkleErrorCode[]> = {
  "wrong leaf": ["WRONG_HASH_LENGTH"],
  "empty leaf": ["WRONG_HASH_LENGTH"],
  "empty root and leaf": ["WRONG_HASH_LENGTH"],
  "random root": ["ROOT_MISMATCH"],
  "modified proof[0] bit @3": ["ROOT_MISMATCH"],
  "modified proof[1] bit @3": ["ROOT_MISMATCH"],
  "modified proof[2] bit @3": ["ROOT_MISMATCH"],
  "trailing garbage": ["WRONG_PROOF_LENGTH"],
  "trailing root": ["WRONG_PROOF_LENGTH"],
  "preceding garbage": ["WRONG_PROOF_LENGTH"],
  "preceding root": ["WRONG_PROOF_LENGTH"],
  "removed component": ["WRONG_PROOF_LENGTH"],
  "inserted component": ["WRONG_PROOF_LENGTH"],
  "treeSize mul @2": ["WRONG_PROOF_LENGTH"],
};

const CONSISTENCY_CODES: Record<string, MerkleErrorCode[]> = {
  "wrong root1": ["WRONG_HASH_LENGTH"],
  "wrong root2": ["ROOT2_MISMATCH"],
  "swapped roots": ["ROOT1_MISMATCH", "ROOT2_MISMATCH"],
  "modified proof@0 bit @4": ["ROOT1_MISMATCH", "ROOT2_MISMATCH"],
  "modified proof@1 bit @4": ["ROOT1_MISMATCH", "ROOT2_MISMATCH"],
  "modified proof@2 bit @4": ["ROOT1_MISMATCH", "ROOT2_MISMATCH"],
  "empty proof": ["WRONG_PROOF_LENGTH"],
  "truncated proof": ["WRONG_PROOF_LENGTH"],
  "trailing garbage": ["WRONG_PROOF_LENGTH"],
  "trailing root1": ["WRONG_PROOF_LENGTH"],
  "trailing root2": ["WRONG_PROOF_LENGTH"],
  "preceding garbage": ["WRONG_PROOF_LENGTH"],
  "preceding root1": ["WRONG_PROOF_LENGTH"],
  "preceding root2": ["WRONG_PROOF_LENGTH"],
  "preceding proof @0": ["WRONG_PROOF_LENGTH"],
  "size1 plus @1": ["WRONG_PROOF_LENGTH"],
  "size2 mul @2": ["WRONG_PROOF_LENGTH"],
  "size1 is greater than size2": ["SIZE1_EXCEEDS_SIZE2"],
  "size1 is greater than size2 again": ["SIZE1_EXCEEDS_SIZE2"],
  "consistency check on empty tree (size1 is zero) is useless": ["CONSISTENCY_FROM_EMPTY_TREE"],
  "size1 is zero and does not equal size2": ["CONSISTENCY_FROM_EMPTY_TREE"],
  "size1 is zero and size2 is not zero": ["CONSISTENCY_FROM_EMPTY_TREE"],
  "sizes are equal (zero) and proof is empty": ["CONSISTENCY_FROM_EMPTY_TREE"],
  "sizes are equal (zero) but roots are not": ["CONSISTENCY_FROM_EMPTY_TREE"],
  "roots do not match and sizes are zero": ["CONSISTENCY_FROM_EMPTY_TREE"],
  "sizes match but proof is not empty and sizes are zero": ["CONSISTENCY_FROM_EMPTY_TREE"],
  "sizes match but proof is not empty and sizes are one": ["WRONG_PROOF_LENGTH"],
  "sizes are equal (one) but roots are not": ["ROOT2_MISMATCH"],
  "roots do not not match and sizes are one": ["ROOT2_MISMATCH"],
  "sizes do not watch and proof is empty": ["WRONG_PROOF_LENGTH"],
};

function outcome(run: () => void): MerkleError | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (error instanceof MerkleError) return error;
    throw error; // Anything else (a TypeError, a RangeError) is a bug, not a refusal.
  }
}

const inclusionCases = load<InclusionCase>("inclusion");
const consistencyCases = load<ConsistencyCase>("consistency");

describe("transparency-dev/merkle RFC 6962 vectors", () => {
  it("loads every vector file", () => {
    // 196 files, 12 of which are valid proofs: a silently skipped directory would show here.
    expect(inclusionCases).toHaveLength(98);
    expect(consistencyCases).toHaveLength(98);
    const accepted = [...inclusionCases, ...consistencyCases].filter(([, c]) => !c.wantErr);
    expect(accepted).toHaveLength(12);
  });

  describe("inclusion", () => {
    it.each(inclusionCases)("%s", (_path, c) => {
      const error = outcome(() =>
        verifyInclusion(c.leafIdx, c.treeSize, b64(c.leafHash), proofOf(c.proof), b64(c.root)),
      );
      if (!c.wantErr) {
        expect(error).toBeUndefined();
        return;
      }
      expect(error).toBeInstanceOf(MerkleError);
      const codes = INCLUSION_CODES[c.desc];
      if (codes !== undefined) expect(codes).toContain(error?.code);
    });
  });

  describe("consistency", () => {
    it.each(consistencyCases)("%s", (_path, c) => {
      const error = outcome(() =>
        verifyConsistency(c.size1, c.size2, proofOf(c.proof), b64(c.root1), b64(c.root2)),
      );
      if (!c.wantErr) {
        expect(error).toBeUndefined();
        return;
      }
      expect(error).toBeInstanceOf(MerkleError);
      const codes = CONSISTENCY_CODES[c.desc];
      if (codes !== undefined) expect(codes).toContain(error?.code);
    });
  });
});
