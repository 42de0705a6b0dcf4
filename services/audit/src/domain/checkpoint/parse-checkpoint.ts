import { parseCheckpointBody, type Checkpoint } from "./checkpoint-body.js";
import { parseSignedNote, type NoteSignature } from "./signed-note.js";

/** A checkpoint read from a signed note, with the note text and all its signature lines. */
export interface SignedCheckpoint extends Checkpoint {
  /** The signed note text, i.e. the checkpoint body exactly as signed. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/**
 * Reads a checkpoint note WITHOUT verifying any signature: for display, debugging or picking the key to
 * verify with. Anything that acts on a checkpoint must use `verifyCheckpoint` instead.
 *
 * @throws CheckpointError `MALFORMED_NOTE`, `MALFORMED_CHECKPOINT`.
 */
export function parseCheckpoint(note: string): SignedCheckpoint {
  const { text, signatures } = parseSignedNote(note);
  return { ...parseCheckpointBody(text), text, signatures };
}
