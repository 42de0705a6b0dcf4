// Verifier keys as the signed-note ecosystem writes them: "<name>+<8 hex key hash>+<base64(0x01 ‖ 32-byte
// Ed25519 public key)>", e.g. "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW".

import { CheckpointError } from "./checkpoint-error.js";
import { ED25519_KEY_BYTES, ed25519PublicKeyFromRaw, rawEd25519PublicKey } from "./ed25519-key-encoding.js";
import { assertValidKeyName, isValidKeyName } from "./key-name.js";
import {
  ED25519_SIGNATURE_TYPE,
  formatKeyHash,
  noteKeyHash,
  typedEd25519Key,
  type NoteVerifier,
} from "./note-keys.js";
import { decodeBase64Strict, encodeBase64 } from "./strict-base64.js";

const KEY_HASH_HEX = /^[0-9a-fA-F]{8}$/;

/** A verifier read from a verifier key string, with its key hash. */
export interface ParsedVerifierKey extends NoteVerifier {
  readonly keyHash: number;
}

/**
 * The verifier key string of an Ed25519 verifier, to publish so that others can check the log's
 * checkpoints.
 *
 * @throws CheckpointError `INVALID_KEY_NAME`, `UNSUPPORTED_KEY_TYPE` if the key is not Ed25519.
 */
export function encodeVerifierKey(verifier: NoteVerifier): string {
  assertValidKeyName(verifier.name);
  const typed = typedEd25519Key(rawEd25519PublicKey(verifier.publicKey));
  return `${verifier.name}+${formatKeyHash(noteKeyHash(verifier.name, typed))}+${encodeBase64(typed)}`;
}

/**
 * Reads a verifier key string, checking that its key hash matches its name and key.
 *
 * @throws CheckpointError `MALFORMED_VERIFIER_KEY` if it is not "<name>+<8 hex>+<base64>" with a valid
 *   name or the key is not 32 bytes, `KEY_HASH_MISMATCH`, `UNSUPPORTED_KEY_TYPE` if the type byte is not
 *   Ed25519's.
 */
export function parseVerifierKey(text: string): ParsedVerifierKey {
  // Split at the first two "+" only: base64 may contain more.
  const first = text.indexOf("+");
  const second = first < 0 ? -1 : text.indexOf("+", first + 1);
  if (second < 0) throw malformed("expected <name>+<key hash>+<key>");
  const name = text.slice(0, first);
  const hashText = text.slice(first + 1, second);
  const typed = decodeBase64Strict(text.slice(second + 1));
  if (!isValidKeyName(name) || !KEY_HASH_HEX.test(hashText) || typed === undefined || typed.length === 0) {
    throw malformed("expected <name>+<8 hex digits>+<base64 key>");
  }
  const keyHash = Number.parseInt(hashText, 16);
  // The reference implementation checks the hash over the typed key before looking at the type.
  const type = typed[0];
  const raw = typed.subarray(1);
  if (noteKeyHash(name, typed) !== keyHash) throw new CheckpointError("KEY_HASH_MISMATCH", `key ${name}`);
  if (type !== ED25519_SIGNATURE_TYPE) {
    throw new CheckpointError("UNSUPPORTED_KEY_TYPE", `signature type ${type}`);
  }
  if (raw.length !== ED25519_KEY_BYTES) throw malformed(`Ed25519 key is ${raw.length} bytes, want 32`);
  return { name, keyHash, publicKey: ed25519PublicKeyFromRaw(raw) };
}

function malformed(reason: string): CheckpointError {
  return new CheckpointError("MALFORMED_VERIFIER_KEY", reason);
}
