// Checkpoints of the audit log as C2SP signed notes (c2sp.org/tlog-checkpoint, c2sp.org/signed-note),
// signed with Ed25519. Pure functions over strings and KeyObjects; no I/O.

export {
  formatCheckpointBody,
  parseCheckpointBody,
  type Checkpoint,
  type CheckpointInit,
} from "./checkpoint-body.js";
export { CheckpointError, type CheckpointErrorCode } from "./checkpoint-error.js";
export { generateCheckpointKeyPair, type CheckpointKeyPair } from "./generate-key-pair.js";
export { isValidKeyName } from "./key-name.js";
export {
  ed25519KeyHash,
  formatKeyHash,
  noteKeyHash,
  type NoteSigner,
  type NoteVerifier,
} from "./note-keys.js";
export { parseCheckpoint, type SignedCheckpoint } from "./parse-checkpoint.js";
export { signCheckpoint } from "./sign-checkpoint.js";
export { signNote } from "./sign-note.js";
export {
  MAX_NOTE_SIGNATURES,
  parseSignedNote,
  SIGNATURE_LINE_PREFIX,
  type NoteSignature,
  type SignedNote,
} from "./signed-note.js";
export { encodeSignerKey, parseSignerKey } from "./signer-key.js";
export { encodeVerifierKey, parseVerifierKey, type ParsedVerifierKey } from "./verifier-key.js";
export { verifyCheckpoint, type VerifyCheckpointOptions } from "./verify-checkpoint.js";
export { verifyNote } from "./verify-note.js";
