// The signed note format of c2sp.org/signed-note: a text ending in a newline, a blank line, then one
// signature line per key, "— <key name> <base64(4-byte key hash ‖ signature)>\n".

import { Buffer } from "node:buffer";

import { CheckpointError } from "./checkpoint-error.js";
import { isValidKeyName } from "./key-name.js";
import { decodeBase64Strict, encodeBase64 } from "./strict-base64.js";

/**
 * Most signature lines a note may carry. The spec requires accepting at least 16 and asks for a bound;
 * 100 is the reference implementation's, ample for a log signature plus witness cosignatures.
 */
export const MAX_NOTE_SIGNATURES = 100;

/** Em dash (U+2014) and a space: how every signature line starts. */
export const SIGNATURE_LINE_PREFIX = "\u2014 ";

const KEY_HASH_BYTES = 4;

/** One signature line of a note; nothing about it is verified by parsing. */
export interface NoteSignature {
  readonly name: string;
  /** Key hash from the first 4 bytes of the signature, as an unsigned 32-bit integer. */
  readonly keyHash: number;
  /** The signature proper, after the key hash (64 bytes for Ed25519). */
  readonly signature: Uint8Array;
}

/** A note split into its text (the signed bytes, final newline included) and its signature lines. */
export interface SignedNote {
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/**
 * Splits a signed note into its text and signature lines, checking the format only: no signature is
 * verified, so nothing in the result may be trusted yet (use `verifyNote`).
 *
 * The text is everything up to the last blank line, as the spec prescribes; it may hold blank lines.
 *
 * @throws CheckpointError `MALFORMED_NOTE` if the note breaks the format in any way.
 */
export function parseSignedNote(note: string): SignedNote {
  if (!isValidNoteText(note)) throw malformed("control character or unpaired surrogate");
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw malformed("no blank line before the signatures");
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block === "" || !block.endsWith("\n")) throw malformed("signature block must end with a newline");

  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_NOTE_SIGNATURES) throw malformed(`more than ${MAX_NOTE_SIGNATURES} signatures`);
  return { text, signatures: lines.map(parseSignatureLine) };
}

/** The signature line for `signature`, newline included. */
export function formatSignatureLine(signature: NoteSignature): string {
  const bytes = new Uint8Array(KEY_HASH_BYTES + signature.signature.length);
  Buffer.from(bytes.buffer).writeUInt32BE(signature.keyHash, 0);
  bytes.set(signature.signature, KEY_HASH_BYTES);
  return `${SIGNATURE_LINE_PREFIX}${signature.name} ${encodeBase64(bytes)}\n`;
}

/**
 * Whether `text` may appear in a note: no control characters but newline, and valid UTF-8 once encoded
 * (no unpaired surrogates, which Node would silently replace and so change the signed bytes).
 */
export function isValidNoteText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x20 && unit !== 0x0a) return false;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return false;
    }
  }
  return true;
}

function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(SIGNATURE_LINE_PREFIX)) throw malformed("signature line must start with an em dash");
  const rest = line.slice(SIGNATURE_LINE_PREFIX.length);
  const space = rest.indexOf(" ");
  const name = space < 0 ? rest : rest.slice(0, space);
  const encoded = space < 0 ? "" : rest.slice(space + 1);
  if (!isValidKeyName(name)) throw malformed(`invalid key name ${JSON.stringify(name)}`);
  const bytes = decodeBase64Strict(encoded);
  if (encoded === "" || bytes === undefined || bytes.length <= KEY_HASH_BYTES) {
    throw malformed(`signature of ${name} is not base64 of a key hash and a signature`);
  }
  return {
    name,
    keyHash: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUInt32BE(0),
    signature: bytes.subarray(KEY_HASH_BYTES),
  };
}

function malformed(reason: string): CheckpointError {
  return new CheckpointError("MALFORMED_NOTE", reason);
}
