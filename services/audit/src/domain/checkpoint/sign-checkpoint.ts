import { parseCheckpointBody } from "./checkpoint-body.js";
import type { NoteSigner } from "./note-keys.js";
import { signNote } from "./sign-note.js";

/**
 * Signs a checkpoint body (from `formatCheckpointBody`) and returns the signed note. The body is parsed
 * first so that the log can never sign a text its own verifiers would refuse. The spec recommends a key
 * name equal to the origin; that is the caller's choice.
 *
 * @throws CheckpointError `MALFORMED_CHECKPOINT` if `body` is not a checkpoint body, `MALFORMED_NOTE`,
 *   `INVALID_KEY_NAME`, `UNSUPPORTED_KEY_TYPE` as `signNote`.
 */
export function signCheckpoint(body: string, signer: NoteSigner): string {
  parseCheckpointBody(body);
  return signNote(body, signer);
}
