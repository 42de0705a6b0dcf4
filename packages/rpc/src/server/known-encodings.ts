/**
 * Answers whose binary encoding was already written, so the unary fast path sends those bytes
 * instead of encoding the message again. An idempotency record stores exactly the bytes the
 * answer is sent as (encodeStoredResponse), and a transfer's answer was encoded once for it and
 * once more for the wire. Held weakly: an answer sent or dropped takes its bytes with it.
 *
 * The message must not change after its bytes are remembered; an answer is not changed after
 * its idempotency record is written, or a replay would differ from the first reply.
 */
const known = new WeakMap<object, Uint8Array>();

export function rememberEncoding(message: object, bytes: Uint8Array): void {
  known.set(message, bytes);
}

/** The bytes remembered for `message`, if any. */
export function knownEncodingOf(message: object): Uint8Array | undefined {
  return known.get(message);
}
