// Signed notes and note keys (c2sp.org/signed-note), against the reference implementation's published
// example (golang.org/x/mod/sumdb/note, package doc and note_test.go) and the spec's own example.

import { describe, expect, it } from "@jest/globals";

import { CheckpointError } from "../../src/domain/checkpoint/checkpoint-error.js";
import { generateCheckpointKeyPair } from "../../src/domain/checkpoint/generate-key-pair.js";
import { ed25519KeyHash, formatKeyHash } from "../../src/domain/checkpoint/note-keys.js";
import { signNote } from "../../src/domain/checkpoint/sign-note.js";
import { MAX_NOTE_SIGNATURES, parseSignedNote } from "../../src/domain/checkpoint/signed-note.js";
import { encodeSignerKey, parseSignerKey } from "../../src/domain/checkpoint/signer-key.js";
import { encodeVerifierKey, parseVerifierKey } from "../../src/domain/checkpoint/verifier-key.js";
import { verifyNote } from "../../src/domain/checkpoint/verify-note.js";

// golang.org/x/mod/sumdb/note: the PeterNeumann key pair and the note it signs, byte for byte.
const PETER_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_NOTE =
  PETER_TEXT +
  "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
// The same note cosigned by EnochRoot, whose key we do not hold as a verifier.
const ENOCH_LINE =
  "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

// https://github.com/C2SP/C2SP/blob/d4c16da5e7687a016619074e78dad84b2c7238cc/signed-note.md#example
const SPEC_VERIFIER_KEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const SPEC_NOTE =
  "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof CheckpointError ? error.code : `not a CheckpointError: ${String(error)}`;
  }
}

describe("known answers", () => {
  it("reproduces the reference implementation's signed note byte for byte", () => {
    const signer = parseSignerKey(PETER_SIGNER_KEY);
    expect(signer.name).toBe("PeterNeumann");
    expect(formatKeyHash(signer.keyHash)).toBe("c74f20a3");
    expect(signNote(PETER_TEXT, signer)).toBe(PETER_NOTE);
    expect(encodeSignerKey(signer)).toBe(PETER_SIGNER_KEY);
    expect(encodeVerifierKey({ name: signer.name, publicKey: signer.privateKey })).toBe(PETER_VERIFIER_KEY);
  });

  it("verifies the reference note and ignores a cosignature by an unknown key", () => {
    const verifier = parseVerifierKey(PETER_VERIFIER_KEY);
    expect(formatKeyHash(ed25519KeyHash(verifier.name, verifier.publicKey))).toBe("c74f20a3");
    expect(encodeVerifierKey(verifier)).toBe(PETER_VERIFIER_KEY);
    expect(verifyNote(PETER_NOTE, verifier).text).toBe(PETER_TEXT);
    const cosigned = verifyNote(PETER_NOTE + ENOCH_LINE, verifier);
    expect(cosigned.signatures.map((s) => s.name)).toEqual(["PeterNeumann", "EnochRoot"]);
  });

  it("verifies the example of the C2SP signed-note spec", () => {
    const verifier = parseVerifierKey(SPEC_VERIFIER_KEY);
    expect(verifyNote(SPEC_NOTE, verifier).text).toBe("This is an example message.\n");
  });
});

describe("signing and verifying", () => {
  const { signer, verifier } = generateCheckpointKeyPair("example.com/audit");

  it("keeps blank lines inside the text and splits at the last one", () => {
    const text = "first\n\nthird\n\n";
    const note = signNote(text, signer);
    expect(parseSignedNote(note).text).toBe(text);
    expect(verifyNote(note, verifier).text).toBe(text);
  });

  it("refuses a changed text, a changed signature and a foreign key", () => {
    const note = signNote("hello\n", signer);
    expect(codeOf(() => verifyNote(note.replace("hello", "hellp"), verifier))).toBe("INVALID_SIGNATURE");
    const line = note.slice(note.indexOf("— "));
    const bytes = Buffer.from(line.slice(line.lastIndexOf(" ") + 1, -1), "base64");
    for (const byte of [4, 40, 67]) {
      const changed = Buffer.from(bytes);
      changed[byte] = (changed[byte] as number) ^ 1;
      const tampered = note.replace(line, `— ${signer.name} ${changed.toString("base64")}\n`);
      expect(codeOf(() => verifyNote(tampered, verifier))).toBe("INVALID_SIGNATURE");
    }
    // A different key of the same name: the key hash differs, so the signature is not ours.
    const other = generateCheckpointKeyPair("example.com/audit");
    expect(codeOf(() => verifyNote(note, other.verifier))).toBe("NO_SIGNATURE_FROM_KEY");
    // An attacker's signature relabelled with our key hash is checked, and fails.
    const forged = signNote("hello\n", other.signer);
    const ourHash = ed25519KeyHash(verifier.name, verifier.publicKey);
    const forgedLine = forged.slice(forged.indexOf("— "));
    const forgedBytes = Buffer.from(forgedLine.slice(forgedLine.lastIndexOf(" ") + 1, -1), "base64");
    forgedBytes.writeUInt32BE(ourHash, 0);
    const relabelled = forged.replace(forgedLine, `— ${signer.name} ${forgedBytes.toString("base64")}\n`);
    expect(codeOf(() => verifyNote(relabelled, verifier))).toBe("INVALID_SIGNATURE");
    // A valid signature of ours next to a failing one of ours: the note is refused.
    expect(codeOf(() => verifyNote(note + relabelled.slice(relabelled.indexOf("— ")), verifier))).toBe(
      "INVALID_SIGNATURE",
    );
  });

  it("refuses to sign texts that would not round-trip", () => {
    expect(codeOf(() => signNote("no newline", signer))).toBe("MALFORMED_NOTE");
    expect(codeOf(() => signNote("", signer))).toBe("MALFORMED_NOTE");
    expect(codeOf(() => signNote("tab\there\n", signer))).toBe("MALFORMED_NOTE");
    expect(codeOf(() => signNote("lone \ud800 surrogate\n", signer))).toBe("MALFORMED_NOTE");
    expect(codeOf(() => signNote("ok\n", { name: "bad name", privateKey: signer.privateKey }))).toBe(
      "INVALID_KEY_NAME",
    );
    expect(codeOf(() => signNote("ok\n", { name: "n", privateKey: verifier.publicKey }))).toBe(
      "UNSUPPORTED_KEY_TYPE",
    );
  });
});

describe("note format", () => {
  const { signer } = generateCheckpointKeyPair("log");
  const note = signNote("text\n", signer);
  const signatureLine = note.slice(note.indexOf("— "));

  it.each([
    ["no blank line", "text\n" + signatureLine],
    ["no signature", "text\n\n"],
    ["no final newline", note.slice(0, -1)],
    ["hyphen instead of em dash", note.replace("— ", "- ")],
    ["no space after the dash", note.replace("— ", "—")],
    ["empty key name", note.replace("— log ", "—  ")],
    ["key name with a plus", note.replace("— log ", "— lo+g ")],
    ["signature not base64", note.replace(signatureLine, "— log !!!!\n")],
    ["signature without padding", note.replace(/=\n$/, "\n")],
    ["signature of 4 bytes only", note.replace(signatureLine, "— log AAAAAA==\n")],
    ["missing signature", note.replace(signatureLine, "— log\n")],
    ["trailing space", note.replace(/\n$/, " \n")],
    ["carriage return", note.replace("text\n", "text\r\n")],
    ["NUL byte", note.replace("text", "te\u0000xt")],
    ["too many signatures", note + signatureLine.repeat(MAX_NOTE_SIGNATURES)],
  ])("refuses a note with %s", (_what, text) => {
    expect(codeOf(() => parseSignedNote(text))).toBe("MALFORMED_NOTE");
  });

  it("accepts the maximum number of signatures", () => {
    expect(parseSignedNote(note + signatureLine.repeat(MAX_NOTE_SIGNATURES - 1)).signatures).toHaveLength(
      MAX_NOTE_SIGNATURES,
    );
  });
});

describe("key strings", () => {
  // Every proper substring and every single-byte change of a key must be refused, as in note_test.go.
  function manglings(key: string): string[] {
    const out: string[] = [];
    for (let i = 0; i <= key.length; i++) {
      for (let j = i + 1; j <= key.length; j++) if (i !== 0 || j !== key.length) out.push(key.slice(i, j));
    }
    for (let i = 0; i < key.length; i++) {
      out.push(key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) + 1) + key.slice(i + 1));
    }
    return out;
  }

  it("refuses every mangling of a verifier key", () => {
    const accepted = manglings(PETER_VERIFIER_KEY).filter(
      (k) => codeOf(() => parseVerifierKey(k)) === undefined,
    );
    expect(accepted).toEqual([]);
  });

  it("refuses every mangling of a signer key", () => {
    const accepted = manglings(PETER_SIGNER_KEY).filter((k) => codeOf(() => parseSignerKey(k)) === undefined);
    expect(accepted).toEqual([]);
  });

  it("says why a verifier key is refused", () => {
    // From note_test.go: a wrong-length key and an unknown algorithm, each with a matching key hash.
    expect(
      codeOf(() =>
        parseVerifierKey("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="),
      ),
    ).toBe("MALFORMED_VERIFIER_KEY");
    expect(
      codeOf(() => parseVerifierKey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")),
    ).toBe("UNSUPPORTED_KEY_TYPE");
    expect(codeOf(() => parseVerifierKey(PETER_VERIFIER_KEY.replace("c74f20a3", "c74f20a4")))).toBe(
      "KEY_HASH_MISMATCH",
    );
    expect(codeOf(() => parseVerifierKey("PeterNeumann+c74f20a3"))).toBe("MALFORMED_VERIFIER_KEY");
  });

  it("round-trips generated keys", () => {
    const pair = generateCheckpointKeyPair("example.com/audit");
    const verifier = parseVerifierKey(pair.verifierKey);
    expect(verifier.name).toBe("example.com/audit");
    expect(pair.verifierKey).toMatch(/^example\.com\/audit\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/); // 33 bytes: no padding
    const signer = parseSignerKey(encodeSignerKey(pair.signer));
    expect(verifyNote(signNote("x\n", signer), verifier).text).toBe("x\n");
    expect(codeOf(() => generateCheckpointKeyPair("has space"))).toBe("INVALID_KEY_NAME");
    expect(codeOf(() => generateCheckpointKeyPair(""))).toBe("INVALID_KEY_NAME");
  });
});
