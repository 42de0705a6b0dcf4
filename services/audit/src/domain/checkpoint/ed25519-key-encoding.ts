// Conversions between Node KeyObjects and the raw RFC 8032 encodings that signed notes use: a 32-byte
// public key and a 32-byte private seed.

import { Buffer } from "node:buffer";
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";

import { CheckpointError } from "./checkpoint-error.js";

/** Length of an Ed25519 public key and of a private seed, in bytes. */
export const ED25519_KEY_BYTES = 32;

// A PKCS#8 PrivateKeyInfo for Ed25519 is this fixed header followed by the seed (RFC 8410 §7); it is the
// only way to import a bare seed, as a JWK would also need the public key.
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/**
 * The 32-byte public key of an Ed25519 key (a private key yields its public half).
 *
 * @throws CheckpointError `UNSUPPORTED_KEY_TYPE` if the key is not Ed25519.
 */
export function rawEd25519PublicKey(key: KeyObject): Uint8Array {
  assertEd25519(key);
  const publicKey = key.type === "private" ? createPublicKey(key) : key;
  return base64UrlField(publicKey.export({ format: "jwk" }).x);
}

/**
 * The 32-byte seed of an Ed25519 private key.
 *
 * @throws CheckpointError `UNSUPPORTED_KEY_TYPE` if the key is not an Ed25519 private key.
 */
export function ed25519Seed(privateKey: KeyObject): Uint8Array {
  assertEd25519(privateKey);
  if (privateKey.type !== "private") throw new CheckpointError("UNSUPPORTED_KEY_TYPE", "not a private key");
  return base64UrlField(privateKey.export({ format: "jwk" }).d);
}

/** A public KeyObject from a 32-byte Ed25519 public key; the caller has checked the length. */
export function ed25519PublicKeyFromRaw(raw: Uint8Array): KeyObject {
  const x = Buffer.from(raw).toString("base64url");
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
}

/** A private KeyObject from a 32-byte Ed25519 seed; the caller has checked the length. */
export function ed25519PrivateKeyFromSeed(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: "der", type: "pkcs8" });
}

/** @throws CheckpointError `UNSUPPORTED_KEY_TYPE` unless `key` is an Ed25519 public or private key. */
export function assertEd25519(key: KeyObject): void {
  if (key.asymmetricKeyType !== "ed25519") {
    throw new CheckpointError(
      "UNSUPPORTED_KEY_TYPE",
      `${key.asymmetricKeyType ?? key.type} key, want ed25519`,
    );
  }
}

function base64UrlField(field: string | undefined): Uint8Array {
  const bytes = Buffer.from(field ?? "", "base64url");
  if (bytes.length !== ED25519_KEY_BYTES) {
    // Node always exports 32 bytes for Ed25519; anything else means a broken runtime, not bad input.
    throw new Error(`Ed25519 JWK field is ${bytes.length} bytes, want ${ED25519_KEY_BYTES}`);
  }
  return new Uint8Array(bytes);
}
