// The note text of a checkpoint (c2sp.org/tlog-checkpoint): origin, tree size and root hash lines,
// then optional extension lines, each ending in a newline.

import { CheckpointError } from "./checkpoint-error.js";
import { isValidNoteText } from "./signed-note.js";
import { decodeBase64Strict, encodeBase64 } from "./strict-base64.js";

/** Length of the root hash of our RFC 6962 SHA-256 tree, in bytes. */
const ROOT_HASH_BYTES = 32;

// Decimal without leading zeros, "0" for the empty tree.
const TREE_SIZE_TEXT = /^(?:0|[1-9][0-9]*)$/;

/** A log's signed statement of its tree head. */
export interface Checkpoint {
  /** Identity of the log, e.g. "example.com/audit"; the first line. */
  readonly origin: string;
  /** Number of leaves; at most 2^53 − 1, beyond which a JS number is not exact. */
  readonly size: number;
  /** RFC 6962 root of the tree of `size` leaves, 32 bytes. */
  readonly rootHash: Uint8Array;
  /** Opaque lines after the root hash; the spec discourages them, so ours are normally empty. */
  readonly extensionLines: readonly string[];
}

/** A checkpoint to format; extension lines default to none. */
export interface CheckpointInit {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  readonly extensionLines?: readonly string[];
}

/**
 * The note text of a checkpoint: "<origin>\n<size>\n<base64 root hash>\n" plus one line per extension.
 *
 * @throws CheckpointError `MALFORMED_CHECKPOINT` if the origin or an extension line is empty or holds a
 *   newline or control character, the size is not a non-negative safe integer, or the root hash is not
 *   32 bytes.
 */
export function formatCheckpointBody(checkpoint: CheckpointInit): string {
  const { origin, size, rootHash, extensionLines = [] } = checkpoint;
  for (const line of [origin, ...extensionLines]) {
    if (line === "" || line.includes("\n") || !isValidNoteText(line)) {
      throw malformed(`line ${JSON.stringify(line)} must be non-empty text without control characters`);
    }
  }
  if (!Number.isSafeInteger(size) || size < 0) {
    throw malformed(`size ${size} is not a non-negative safe integer`);
  }
  if (rootHash.length !== ROOT_HASH_BYTES) throw malformed(`root hash is ${rootHash.length} bytes, want 32`);
  const lines = [origin, String(size), encodeBase64(rootHash), ...extensionLines];
  return lines.map((line) => `${line}\n`).join("");
}

/**
 * Reads the note text of a checkpoint. Parse only the text of a verified note (`verifyCheckpoint` does
 * both): the spec says unverified text must be ignored.
 *
 * @throws CheckpointError `MALFORMED_CHECKPOINT` if there are fewer than three lines, any line is empty,
 *   the text lacks its final newline, the size has leading zeros or exceeds 2^53 − 1, or the root hash is
 *   not the canonical base64 of 32 bytes.
 */
export function parseCheckpointBody(text: string): Checkpoint {
  if (!text.endsWith("\n")) throw malformed("checkpoint text must end with a newline");
  const [origin, sizeText, rootText, ...extensionLines] = text.slice(0, -1).split("\n");
  if (origin === undefined || sizeText === undefined || rootText === undefined) {
    throw malformed("need origin, size and root hash lines");
  }
  if (origin === "") throw malformed("empty origin");
  if (extensionLines.some((line) => line === "")) throw malformed("empty extension line");

  const size = Number(sizeText);
  if (!TREE_SIZE_TEXT.test(sizeText) || !Number.isSafeInteger(size)) {
    throw malformed(`size ${JSON.stringify(sizeText)} is not a decimal below 2^53 without leading zeros`);
  }
  const rootHash = decodeBase64Strict(rootText);
  if (rootHash === undefined || rootHash.length !== ROOT_HASH_BYTES) {
    throw malformed(`root hash ${JSON.stringify(rootText)} is not base64 of ${ROOT_HASH_BYTES} bytes`);
  }
  return { origin, size, rootHash, extensionLines };
}

function malformed(reason: string): CheckpointError {
  return new CheckpointError("MALFORMED_CHECKPOINT", reason);
}
