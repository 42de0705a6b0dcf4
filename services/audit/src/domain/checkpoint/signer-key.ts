// Signer keys in the format of golang.org/x/mod/sumdb/note, which signed-note tools share:
// "PRIVATE+KEY+<name>+<8 hex key hash>+<base64(0x01 ‖ 32-byte Ed25519 seed)>". This is how the log's
// private key can be kept in a secret store as one line.

import { CheckpointError } from "./checkpoint-error.js";
import { ED25519_KEY_BYTES, ed25519PrivateKeyFromSeed, ed25519Seed } from "./ed25519-key-encoding.js";
import { assertValidKeyName, isValidKeyName } from "./key-name.js";
import { ED25519_SIGNATURE_TYPE, ed25519KeyHash, formatKeyHash, type NoteSigner } from "./note-keys.js";
import { decodeBase64Strict, encodeBase64 } from "./strict-base64.js";

const PREFIX = "PRIVATE+KEY+";
const KEY_HASH_HEX = /^[0-9a-fA-F]{8}$/;

/**
 * The signer key string of an Ed25519 signer. It holds the private key: treat it as a secret.
 *
 * @throws CheckpointError `INVALID_KEY_NAME`, `UNSUPPORTED_KEY_TYPE` if the key is not an Ed25519
 *   private key.
 */
export function encodeSignerKey(signer: NoteSigner): string {
  assertValidKeyName(signer.name);
  const seed = ed25519Seed(signer.privateKey);
  const typed = new Uint8Array(1 + seed.length);
  typed[0] = ED25519_SIGNATURE_TYPE;
  typed.set(seed, 1);
  const keyHash = formatKeyHash(ed25519KeyHash(signer.name, signer.privateKey));
  return `${PREFIX}${signer.name}+${keyHash}+${encodeBase64(typed)}`;
}

/**
 * Reads a signer key string, checking that its key hash matches the name and the public key derived
 * from the seed. Error messages never include the key.
 *
 * @throws CheckpointError `MALFORMED_SIGNER_KEY` if it is not "PRIVATE+KEY+<name>+<8 hex>+<base64>" with
 *   a valid name or the seed is not 32 bytes, `UNSUPPORTED_KEY_TYPE` if the type byte is not Ed25519's,
 *   `KEY_HASH_MISMATCH`.
 */
export function parseSignerKey(text: string): NoteSigner & { readonly keyHash: number } {
  if (!text.startsWith(PREFIX)) throw malformed();
  const rest = text.slice(PREFIX.length);
  const first = rest.indexOf("+");
  const second = first < 0 ? -1 : rest.indexOf("+", first + 1);
  if (second < 0) throw malformed();
  const name = rest.slice(0, first);
  const hashText = rest.slice(first + 1, second);
  const typed = decodeBase64Strict(rest.slice(second + 1));
  if (!isValidKeyName(name) || !KEY_HASH_HEX.test(hashText) || typed === undefined || typed.length === 0) {
    throw malformed();
  }
  if (typed[0] !== ED25519_SIGNATURE_TYPE) {
    throw new CheckpointError("UNSUPPORTED_KEY_TYPE", `type ${typed[0]}`);
  }
  const seed = typed.subarray(1);
  if (seed.length !== ED25519_KEY_BYTES) throw malformed();

  const privateKey = ed25519PrivateKeyFromSeed(seed);
  const keyHash = Number.parseInt(hashText, 16);
  if (ed25519KeyHash(name, privateKey) !== keyHash) {
    throw new CheckpointError("KEY_HASH_MISMATCH", `key ${name}`);
  }
  return { name, keyHash, privateKey };
}

function malformed(): CheckpointError {
  return new CheckpointError(
    "MALFORMED_SIGNER_KEY",
    "expected PRIVATE+KEY+<name>+<8 hex digits>+<base64 seed>",
  );
}
