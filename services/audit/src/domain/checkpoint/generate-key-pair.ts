import { generateKeyPairSync } from "node:crypto";

import { assertValidKeyName } from "./key-name.js";
import type { NoteSigner, NoteVerifier } from "./note-keys.js";
import { encodeVerifierKey } from "./verifier-key.js";

/** A fresh checkpoint signing key and what to publish for it. */
export interface CheckpointKeyPair {
  readonly signer: NoteSigner;
  readonly verifier: NoteVerifier;
  /** The verifier key string to publish ("<name>+<key hash>+<base64 key>"). */
  readonly verifierKey: string;
}

/**
 * Generates an Ed25519 key pair for signing checkpoints under `name` (by convention the log's origin).
 * Persist the private key with `encodeSignerKey`, or as PKCS#8 via `signer.privateKey.export()`.
 *
 * @throws CheckpointError `INVALID_KEY_NAME`.
 */
export function generateCheckpointKeyPair(name: string): CheckpointKeyPair {
  assertValidKeyName(name);
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const verifier = { name, publicKey };
  return { signer: { name, privateKey }, verifier, verifierKey: encodeVerifierKey(verifier) };
}
