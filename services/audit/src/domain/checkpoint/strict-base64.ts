import { Buffer } from "node:buffer";

/**
 * Decodes standard padded base64 (RFC 4648 §4), refusing anything that is not the canonical encoding of
 * its bytes: Node's decoder skips invalid characters and ignores non-zero padding bits, which would let
 * different texts (and so different signed bytes) stand for the same key, signature or root hash.
 *
 * @returns the bytes, or undefined if `text` is not canonical base64.
 */
export function decodeBase64Strict(text: string): Uint8Array | undefined {
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text ? new Uint8Array(bytes) : undefined;
}

/** Standard padded base64 of `bytes`. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
