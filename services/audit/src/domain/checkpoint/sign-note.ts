import { Buffer } from "node:buffer";
import { sign } from "node:crypto";

import { CheckpointError } from "./checkpoint-error.js";
import { assertEd25519 } from "./ed25519-key-encoding.js";
import { assertValidKeyName } from "./key-name.js";
import { ed25519KeyHash, type NoteSigner } from "./note-keys.js";
import { formatSignatureLine, isValidNoteText } from "./signed-note.js";

/**
 * Signs `text` with an Ed25519 key and returns the signed note: the text, a blank line and one
 * signature line. Ed25519 is deterministic, so the same text and key always give the same note.
 *
 * @param text the note text, ending in a newline; it may contain blank lines.
 * @throws CheckpointError `MALFORMED_NOTE` if the text is empty, lacks its final newline or holds control
 *   characters or unpaired surrogates, `INVALID_KEY_NAME`, `UNSUPPORTED_KEY_TYPE` if the key is not an
 *   Ed25519 private key.
 */
export function signNote(text: string, signer: NoteSigner): string {
  if (!text.endsWith("\n")) throw new CheckpointError("MALFORMED_NOTE", "note text must end with a newline");
  if (!isValidNoteText(text)) {
    throw new CheckpointError(
      "MALFORMED_NOTE",
      "note text holds a control character or an unpaired surrogate",
    );
  }
  assertValidKeyName(signer.name);
  assertEd25519(signer.privateKey);
  if (signer.privateKey.type !== "private") {
    throw new CheckpointError("UNSUPPORTED_KEY_TYPE", "not a private key");
  }

  const signature = sign(null, Buffer.from(text, "utf8"), signer.privateKey);
  const keyHash = ed25519KeyHash(signer.name, signer.privateKey);
  return `${text}\n${formatSignatureLine({ name: signer.name, keyHash, signature })}`;
}
