// Checkpoints (c2sp.org/tlog-checkpoint): the body format, signing and verifying, and a real checkpoint of
// the Go checksum database with its published key (from transparency-dev/formats log/note_test.go).

import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";

import { formatCheckpointBody, parseCheckpointBody } from "../../src/domain/checkpoint/checkpoint-body.js";
import { CheckpointError } from "../../src/domain/checkpoint/checkpoint-error.js";
import { generateCheckpointKeyPair } from "../../src/domain/checkpoint/generate-key-pair.js";
import { ed25519KeyHash } from "../../src/domain/checkpoint/note-keys.js";
import { parseCheckpoint } from "../../src/domain/checkpoint/parse-checkpoint.js";
import { signCheckpoint } from "../../src/domain/checkpoint/sign-checkpoint.js";
import { signNote } from "../../src/domain/checkpoint/sign-note.js";
import { parseVerifierKey } from "../../src/domain/checkpoint/verifier-key.js";
import { verifyCheckpoint } from "../../src/domain/checkpoint/verify-checkpoint.js";
import { CompactMerkleTree } from "../../src/domain/merkle/compact-tree.js";
import { leafHash } from "../../src/domain/merkle/hasher.js";
import { hex } from "./reference-merkle.js";

const SUMDB_VERIFIER_KEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";
const SUMDB_CHECKPOINT =
  "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n" +
  "— sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n";

const ROOT = new Uint8Array(Buffer.from("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", "base64"));

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof CheckpointError ? error.code : `not a CheckpointError: ${String(error)}`;
  }
}

describe("checkpoint body", () => {
  it("is origin, decimal size and base64 root, each on its own line, as in the spec's example", () => {
    const body = formatCheckpointBody({
      origin: "example.com/behind-the-sofa",
      size: 20852163,
      rootHash: ROOT,
    });
    expect(body).toBe(
      "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
    );
    const parsed = parseCheckpointBody(body);
    expect(parsed).toEqual({
      origin: "example.com/behind-the-sofa",
      size: 20852163,
      rootHash: ROOT,
      extensionLines: [],
    });
  });

  it("writes the empty tree as size 0 and keeps extension lines", () => {
    const body = formatCheckpointBody({
      origin: "log",
      size: 0,
      rootHash: ROOT,
      extensionLines: ["ext one", "ext two"],
    });
    expect(body).toBe(`log\n0\n${Buffer.from(ROOT).toString("base64")}\next one\next two\n`);
    expect(parseCheckpointBody(body).extensionLines).toEqual(["ext one", "ext two"]);
  });

  it("round-trips any valid checkpoint", () => {
    const noControl = (s: string): boolean => [...s].every((c) => c.charCodeAt(0) >= 0x20);
    const line = fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }).filter(noControl);
    fc.assert(
      fc.property(
        line,
        fc.maxSafeNat(),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(line, { maxLength: 3 }),
        (origin, size, rootHash, extensionLines) => {
          const body = formatCheckpointBody({ origin, size, rootHash, extensionLines });
          expect(parseCheckpointBody(body)).toEqual({ origin, size, rootHash, extensionLines });
        },
      ),
    );
  });

  const root = Buffer.from(ROOT).toString("base64");
  it.each([
    ["no final newline", `log\n1\n${root}`],
    ["two lines only", `log\n1\n`],
    ["an empty origin", `\n1\n${root}\n`],
    ["a leading zero", `log\n01\n${root}\n`],
    ["a sign", `log\n+1\n${root}\n`],
    ["a negative size", `log\n-1\n${root}\n`],
    ["an exponent", `log\n1e3\n${root}\n`],
    ["a size past 2^53", `log\n9007199254740992\n${root}\n`],
    ["an empty size", `log\n\n${root}\n`],
    ["a short root", `log\n1\n${Buffer.alloc(31).toString("base64")}\n`],
    ["a long root", `log\n1\n${Buffer.alloc(33).toString("base64")}\n`],
    ["an unpadded root", `log\n1\n${root.replace("=", "")}\n`],
    ["URL-safe base64", `log\n1\n${Buffer.from(ROOT).toString("base64url")}=\n`],
    ["an empty extension line", `log\n1\n${root}\n\next\n`],
  ])("refuses a body with %s", (_what, body) => {
    expect(codeOf(() => parseCheckpointBody(body))).toBe("MALFORMED_CHECKPOINT");
  });

  it("refuses to format a checkpoint that would not parse", () => {
    const valid = { origin: "log", size: 1, rootHash: ROOT };
    expect(codeOf(() => formatCheckpointBody({ ...valid, origin: "" }))).toBe("MALFORMED_CHECKPOINT");
    expect(codeOf(() => formatCheckpointBody({ ...valid, origin: "a\nb" }))).toBe("MALFORMED_CHECKPOINT");
    expect(codeOf(() => formatCheckpointBody({ ...valid, size: -1 }))).toBe("MALFORMED_CHECKPOINT");
    expect(codeOf(() => formatCheckpointBody({ ...valid, size: 1.5 }))).toBe("MALFORMED_CHECKPOINT");
    expect(codeOf(() => formatCheckpointBody({ ...valid, size: 2 ** 53 }))).toBe("MALFORMED_CHECKPOINT");
    expect(codeOf(() => formatCheckpointBody({ ...valid, rootHash: new Uint8Array(20) }))).toBe(
      "MALFORMED_CHECKPOINT",
    );
    expect(codeOf(() => formatCheckpointBody({ ...valid, extensionLines: [""] }))).toBe(
      "MALFORMED_CHECKPOINT",
    );
  });
});

describe("signed checkpoints", () => {
  const origin = "example.com/audit";
  const { signer, verifier } = generateCheckpointKeyPair(origin);

  // A checkpoint of a real (small) log, as the sequencer would produce it.
  const tree = CompactMerkleTree.empty();
  for (let i = 0; i < 10; i++) tree.append(leafHash(new TextEncoder().encode(`entry ${i}`)));
  const body = formatCheckpointBody({ origin, size: tree.size, rootHash: tree.root() });

  it("verifies a real Go checksum database checkpoint with its published key", () => {
    const checkpoint = verifyCheckpoint(SUMDB_CHECKPOINT, parseVerifierKey(SUMDB_VERIFIER_KEY), {
      origin: "go.sum database tree",
    });
    expect(checkpoint.origin).toBe("go.sum database tree");
    expect(checkpoint.size).toBe(6476701);
    expect(Buffer.from(checkpoint.rootHash).toString("base64")).toBe(
      "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=",
    );
    expect(
      codeOf(() =>
        verifyCheckpoint(SUMDB_CHECKPOINT, parseVerifierKey(SUMDB_VERIFIER_KEY), { origin: "other" }),
      ),
    ).toBe("ORIGIN_MISMATCH");
  });

  it("signs to the exact note format and verifies back", () => {
    const note = signCheckpoint(body, signer);
    // Body, blank line, "— <name> <base64 of 4 + 64 bytes>" with an em dash (U+2014).
    expect(note).toMatch(
      /^example\.com\/audit\n10\n[A-Za-z0-9+/]{43}=\n\n\u2014 example\.com\/audit [A-Za-z0-9+/]{91}=\n$/,
    );
    expect(note.startsWith(`${body}\n`)).toBe(true);
    const signatureBytes = Buffer.from(note.slice(note.lastIndexOf(" ") + 1, -1), "base64");
    expect(signatureBytes.readUInt32BE(0)).toBe(ed25519KeyHash(origin, verifier.publicKey));

    const checkpoint = verifyCheckpoint(note, verifier, { origin });
    expect(checkpoint.size).toBe(10);
    expect(hex(checkpoint.rootHash)).toBe(hex(tree.root()));
    expect(checkpoint.text).toBe(body);
    expect(parseCheckpoint(note).size).toBe(10);
  });

  it("signs the same body to the same note (Ed25519 is deterministic)", () => {
    expect(signCheckpoint(body, signer)).toBe(signCheckpoint(body, signer));
  });

  it("refuses any single flipped bit of the body or of the signature", () => {
    const note = signCheckpoint(body, signer);
    const bodyBytes = Buffer.from(body, "utf8");
    for (let bit = 0; bit < bodyBytes.length * 8; bit++) {
      const changed = Buffer.from(bodyBytes);
      changed[bit >> 3] = (changed[bit >> 3] as number) ^ (0x80 >> (bit & 7));
      const code = codeOf(() => verifyCheckpoint(note.replace(body, changed.toString("latin1")), verifier));
      // A flip may also break the note's format (a newline or control character) before the signature.
      expect(["INVALID_SIGNATURE", "MALFORMED_NOTE"]).toContain(code);
    }
    const encoded = note.slice(note.lastIndexOf(" ") + 1, -1);
    const signature = Buffer.from(encoded, "base64");
    for (let bit = 0; bit < signature.length * 8; bit++) {
      const changed = Buffer.from(signature);
      changed[bit >> 3] = (changed[bit >> 3] as number) ^ (0x80 >> (bit & 7));
      const code = codeOf(() =>
        verifyCheckpoint(note.replace(encoded, changed.toString("base64")), verifier),
      );
      // Flipping a key hash bit makes the signature someone else's; flipping the signature makes it invalid.
      expect(code).toBe(bit < 32 ? "NO_SIGNATURE_FROM_KEY" : "INVALID_SIGNATURE");
    }
  });

  it("refuses a checkpoint signed by another key, even under the same name", () => {
    const note = signCheckpoint(body, signer);
    expect(codeOf(() => verifyCheckpoint(note, generateCheckpointKeyPair(origin).verifier))).toBe(
      "NO_SIGNATURE_FROM_KEY",
    );
    expect(codeOf(() => verifyCheckpoint(note, generateCheckpointKeyPair("other.example").verifier))).toBe(
      "NO_SIGNATURE_FROM_KEY",
    );
  });

  it("accepts cosignatures by other keys, in any order", () => {
    const witness = generateCheckpointKeyPair("witness.example");
    const ours = signCheckpoint(body, signer);
    const theirs = signCheckpoint(body, witness.signer);
    const cosigned = `${theirs}${ours.slice(body.length + 1)}`;
    expect(verifyCheckpoint(cosigned, verifier).signatures.map((s) => s.name)).toEqual([
      "witness.example",
      origin,
    ]);
    expect(verifyCheckpoint(cosigned, witness.verifier).size).toBe(10);
  });

  it("refuses to sign a text that is not a checkpoint", () => {
    expect(codeOf(() => signCheckpoint("hello\n", signer))).toBe("MALFORMED_CHECKPOINT");
    expect(codeOf(() => signCheckpoint(body.slice(0, -1), signer))).toBe("MALFORMED_CHECKPOINT");
  });

  it("checks the signature before reading the body", () => {
    // Validly signed but not a checkpoint: the signature passes, then the body is refused.
    expect(codeOf(() => verifyCheckpoint(signNote("not a checkpoint\n", signer), verifier))).toBe(
      "MALFORMED_CHECKPOINT",
    );
    // Not signed by our key: refused for that, without the body being read.
    const stranger = generateCheckpointKeyPair(origin).signer;
    expect(codeOf(() => verifyCheckpoint(signNote("not a checkpoint\n", stranger), verifier))).toBe(
      "NO_SIGNATURE_FROM_KEY",
    );
  });
});
