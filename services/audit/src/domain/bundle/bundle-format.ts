// The audit bundle file (documented in proto/audit/v1/bundle.proto): a magic line, then framed records,
// each kind (1 byte), body length (4 bytes big-endian) and body. Writing and reading live together so
// that they cannot drift apart.

/** The first bytes of every bundle file. */
export const BUNDLE_MAGIC = new TextEncoder().encode("money-audit-bundle v1\n");

/** Record kinds, in the order they appear in a file. */
export const RecordKind = {
  header: 0x01,
  entry: 0x02,
  checkpoint: 0x03,
  consistency: 0x04,
  inclusion: 0x05,
  disclosure: 0x06,
  end: 0x7f,
} as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

/** Bytes before each record body: kind and length. */
export const RECORD_PREFIX_BYTES = 5;

/** Largest record body accepted: far above any real leaf, low enough to refuse garbage early. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** One framed record. */
export function frameRecord(kind: RecordKind, body: Uint8Array): Uint8Array {
  if (body.length > MAX_RECORD_BYTES) throw new Error(`record of ${body.length} bytes is too large`);
  const framed = new Uint8Array(RECORD_PREFIX_BYTES + body.length);
  framed[0] = kind;
  new DataView(framed.buffer).setUint32(1, body.length);
  framed.set(body, RECORD_PREFIX_BYTES);
  return framed;
}

/** The body of an entry record: the leaf hash the log stored, then the leaf. */
export function entryRecordBody(storedLeafHash: Uint8Array, leaf: Uint8Array): Uint8Array {
  const body = new Uint8Array(storedLeafHash.length + leaf.length);
  body.set(storedLeafHash);
  body.set(leaf, storedLeafHash.length);
  return body;
}

/** The body of the end record: how many records precede it. */
export function endRecordBody(recordsBefore: number): Uint8Array {
  const body = new Uint8Array(4);
  new DataView(body.buffer).setUint32(0, recordsBefore);
  return body;
}
