import { createHash, type KeyObject } from "node:crypto";

import { rawEd25519PublicKey } from "./ed25519-key-encoding.js";

/** Signature type identifier byte of Ed25519 in c2sp.org/signed-note. */
export const ED25519_SIGNATURE_TYPE = 0x01;

/** A key that signs notes: its name (which appears in the signature line) and Ed25519 private key. */
export interface NoteSigner {
  readonly name: string;
  readonly privateKey: KeyObject;
}

/** A trusted key to verify notes with: its name and Ed25519 public key. */
export interface NoteVerifier {
  readonly name: string;
  readonly publicKey: KeyObject;
}

/**
 * The key hash ("key ID" in the current spec) that prefixes every signature so that verifiers can tell
 * keys of the same name apart: the first 4 bytes, big-endian, of
 * SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte Ed25519 public key).
 *
 * @param key the public key, or the private key whose public half is meant.
 * @returns the key hash as an unsigned 32-bit integer.
 * @throws CheckpointError `UNSUPPORTED_KEY_TYPE` if the key is not Ed25519.
 */
export function ed25519KeyHash(name: string, key: KeyObject): number {
  return noteKeyHash(name, typedEd25519Key(rawEd25519PublicKey(key)));
}

/**
 * The key hash for any signature type: SHA-256(key name ‖ 0x0A ‖ typed key)[:4] as a big-endian
 * unsigned 32-bit integer, where the typed key is the signature type byte followed by the public key.
 */
export function noteKeyHash(name: string, typedKey: Uint8Array): number {
  return createHash("sha256").update(name, "utf8").update("\n").update(typedKey).digest().readUInt32BE(0);
}

/** 0x01 ‖ the 32-byte public key: how Ed25519 keys appear in key strings and key hashes. */
export function typedEd25519Key(rawPublicKey: Uint8Array): Uint8Array {
  const typed = new Uint8Array(1 + rawPublicKey.length);
  typed[0] = ED25519_SIGNATURE_TYPE;
  typed.set(rawPublicKey, 1);
  return typed;
}

/** The key hash as written in key strings: 8 lowercase hex digits. */
export function formatKeyHash(keyHash: number): string {
  return keyHash.toString(16).padStart(8, "0");
}
