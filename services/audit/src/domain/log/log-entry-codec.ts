import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { LogEntrySchema, type LogEntry } from "@money/proto/audit/v1/log_entry_pb";

/**
 * The canonical bytes of a leaf: the protobuf binary encoding of the entry as
 * protobuf-es writes a message built with `create` (fields in field-number
 * order, defaults omitted, no unknown fields). They are computed once, when
 * the entry is sequenced, stored as they are, and hashed as they are; nobody
 * re-encodes an entry to check it.
 */
export function encodeLogEntry(entry: LogEntry): Uint8Array {
  return toBinary(LogEntrySchema, entry);
}

/**
 * Reads a leaf. Unknown fields are refused rather than kept: they would be
 * invisible to a reader and yet part of what is hashed.
 *
 * @throws Error if the bytes are not a LogEntry.
 */
export function decodeLogEntry(leaf: Uint8Array): LogEntry {
  const entry = fromBinary(LogEntrySchema, leaf, { readUnknownFields: true });
  if (entry.$unknown !== undefined && entry.$unknown.length > 0) {
    throw new Error(`leaf has ${entry.$unknown.length} unknown fields`);
  }
  return entry;
}

/** What a verifier needs of each leaf, read without decoding it. */
export interface LeafKey {
  /** The leaf's sequence field (0 when absent, as proto3 writes 0). */
  readonly sequence: number;
  /** The event id field, "" when absent; decoded when first read. */
  readonly eventId: string;
}

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;
const SEQUENCE_FIELD = 1;
const EVENT_ID_FIELD = 2;
const utf8 = new TextDecoder("utf-8");

/**
 * The sequence number and event id of a leaf, by walking its top-level
 * protobuf fields: a cheap well-formedness check and key extraction for a
 * million leaves, where a full decode would cost seconds. A repeated field
 * counts with its last value, as protobuf decoders read it.
 *
 * @returns undefined when the bytes are not well-formed protobuf (a truncated
 *   field, a bad wire type, a length past the end, a sequence beyond 2^53).
 */
export function scanLeaf(leaf: Uint8Array): LeafKey | undefined {
  let sequence = 0;
  let idFrom = 0;
  let idTo = 0;
  let at = 0;
  while (at < leaf.length) {
    const tag = readVarint(leaf, at);
    if (tag === undefined) return undefined;
    at = tag.next;
    const field = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    if (field === 0) return undefined;
    switch (wireType) {
      case WIRE_VARINT: {
        const value = readVarint(leaf, at);
        if (value === undefined) return undefined;
        if (field === SEQUENCE_FIELD) sequence = value.value;
        at = value.next;
        break;
      }
      case WIRE_I64:
        at += 8;
        break;
      case WIRE_I32:
        at += 4;
        break;
      case WIRE_LEN: {
        const length = readVarint(leaf, at);
        if (length === undefined) return undefined;
        const end = length.next + length.value;
        if (end > leaf.length) return undefined;
        if (field === EVENT_ID_FIELD) {
          idFrom = length.next;
          idTo = end;
        }
        at = end;
        break;
      }
      default:
        return undefined;
    }
    if (field === SEQUENCE_FIELD && wireType !== WIRE_VARINT) return undefined;
    if (field === EVENT_ID_FIELD && wireType !== WIRE_LEN) return undefined;
  }
  if (at !== leaf.length) return undefined;
  // Only the few leaves a finding names need their event id as text.
  return {
    sequence,
    get eventId() {
      return utf8.decode(leaf.subarray(idFrom, idTo));
    },
  };
}

/** A varint below 2^53; undefined when it runs off the end or is larger. */
function readVarint(bytes: Uint8Array, from: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let at = from; at < bytes.length && at < from + 8; at++) {
    const byte = bytes[at]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return Number.isSafeInteger(value) ? { value, next: at + 1 } : undefined;
    scale *= 128;
  }
  return undefined;
}
