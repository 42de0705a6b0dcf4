/**
 * What went wrong while reading, signing or verifying a signed note or checkpoint.
 *
 * - `MALFORMED_NOTE`: not a signed note (c2sp.org/signed-note): no blank line before the signatures, a
 *   signature line not of the form "— <name> <base64>", control characters, lone surrogates, more than
 *   `MAX_NOTE_SIGNATURES` signatures, or (when signing) a text that does not end in a newline.
 * - `MALFORMED_CHECKPOINT`: the note text is not origin, tree size and root hash lines
 *   (c2sp.org/tlog-checkpoint), or a checkpoint to format has such a flaw.
 * - `INVALID_KEY_NAME`: a key name is empty or holds a Unicode space or a "+".
 * - `MALFORMED_VERIFIER_KEY` / `MALFORMED_SIGNER_KEY`: a key string is not "<name>+<hex>+<base64>"
 *   (with a "PRIVATE+KEY+" prefix for signer keys) or its key has the wrong length.
 * - `KEY_HASH_MISMATCH`: a key string's hash does not match its name and key.
 * - `UNSUPPORTED_KEY_TYPE`: the key is not Ed25519 (signature type 0x01), the only type this log uses.
 * - `NO_SIGNATURE_FROM_KEY`: no signature line carries the verifier's key name and key hash.
 * - `INVALID_SIGNATURE`: a signature line claims the verifier's key but does not verify: the text was
 *   changed, or the signature was.
 * - `ORIGIN_MISMATCH`: the checkpoint verifies but comes from another log than the one expected.
 */
export type CheckpointErrorCode =
  | "MALFORMED_NOTE"
  | "MALFORMED_CHECKPOINT"
  | "INVALID_KEY_NAME"
  | "MALFORMED_VERIFIER_KEY"
  | "MALFORMED_SIGNER_KEY"
  | "KEY_HASH_MISMATCH"
  | "UNSUPPORTED_KEY_TYPE"
  | "NO_SIGNATURE_FROM_KEY"
  | "INVALID_SIGNATURE"
  | "ORIGIN_MISMATCH";

/**
 * The one error type of the checkpoint module; `code` says what failed. Messages never quote private
 * key material.
 */
export class CheckpointError extends Error {
  override readonly name = "CheckpointError";

  constructor(
    readonly code: CheckpointErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
