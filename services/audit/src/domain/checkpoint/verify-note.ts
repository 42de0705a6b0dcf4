import { Buffer } from "node:buffer";
import { verify } from "node:crypto";

import { CheckpointError } from "./checkpoint-error.js";
import { assertValidKeyName } from "./key-name.js";
import { ed25519KeyHash, type NoteVerifier } from "./note-keys.js";
import { parseSignedNote, type SignedNote } from "./signed-note.js";

const ED25519_SIGNATURE_BYTES = 64;

/**
 * Checks that a signed note carries a valid signature by `verifier`, following the spec's rules:
 * signatures from other keys (witnesses, a rotated key) are ignored; a signature that names this key
 * (same key name and key hash) must verify, or the whole note is refused.
 *
 * @returns the parsed note; its text is now trusted to come from the verifier's key holder.
 * @throws CheckpointError `MALFORMED_NOTE`, `INVALID_KEY_NAME`, `UNSUPPORTED_KEY_TYPE` if the key is
 *   not Ed25519, `NO_SIGNATURE_FROM_KEY` if no signature names this key, `INVALID_SIGNATURE` if one that
 *   does fails to verify.
 */
export function verifyNote(note: string, verifier: NoteVerifier): SignedNote {
  assertValidKeyName(verifier.name);
  const keyHash = ed25519KeyHash(verifier.name, verifier.publicKey);
  const parsed = parseSignedNote(note);
  const ours = parsed.signatures.filter((s) => s.name === verifier.name && s.keyHash === keyHash);
  if (ours.length === 0) {
    throw new CheckpointError("NO_SIGNATURE_FROM_KEY", `no signature by ${verifier.name} with this key`);
  }
  const signedBytes = Buffer.from(parsed.text, "utf8");
  for (const { signature } of ours) {
    const valid =
      signature.length === ED25519_SIGNATURE_BYTES &&
      verify(null, signedBytes, verifier.publicKey, signature);
    if (!valid) {
      throw new CheckpointError("INVALID_SIGNATURE", `signature by ${verifier.name} does not verify`);
    }
  }
  return parsed;
}
