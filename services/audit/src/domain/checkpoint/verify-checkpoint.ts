import { CheckpointError } from "./checkpoint-error.js";
import { parseCheckpointBody } from "./checkpoint-body.js";
import type { NoteVerifier } from "./note-keys.js";
import type { SignedCheckpoint } from "./parse-checkpoint.js";
import { verifyNote } from "./verify-note.js";

/** Options of `verifyCheckpoint`. */
export interface VerifyCheckpointOptions {
  /**
   * The origin the checkpoint must carry. Give it whenever the log is known: a key may sign for several
   * logs, and a valid checkpoint of another log would otherwise be accepted.
   */
  readonly origin?: string;
}

/**
 * Verifies a checkpoint note signed by `verifier` and reads it. The signature is checked before the
 * text is interpreted, as the spec requires; signatures by other keys (such as witness cosignatures)
 * are ignored but returned.
 *
 * @throws CheckpointError `MALFORMED_NOTE`, `INVALID_KEY_NAME`, `UNSUPPORTED_KEY_TYPE`,
 *   `NO_SIGNATURE_FROM_KEY`, `INVALID_SIGNATURE` (see `verifyNote`), `MALFORMED_CHECKPOINT` if the signed
 *   text is not a checkpoint, `ORIGIN_MISMATCH` if `options.origin` is given and differs.
 */
export function verifyCheckpoint(
  note: string,
  verifier: NoteVerifier,
  options: VerifyCheckpointOptions = {},
): SignedCheckpoint {
  const { text, signatures } = verifyNote(note, verifier);
  const checkpoint = parseCheckpointBody(text);
  if (options.origin !== undefined && checkpoint.origin !== options.origin) {
    throw new CheckpointError(
      "ORIGIN_MISMATCH",
      `checkpoint origin ${JSON.stringify(checkpoint.origin)}, want ${JSON.stringify(options.origin)}`,
    );
  }
  return { ...checkpoint, text, signatures };
}
