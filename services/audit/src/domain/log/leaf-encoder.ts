// The canonical bytes of a leaf, written by hand: the same bytes as protobuf-es's toBinary of the
// LogEntry (proto/audit/v1/log_entry.proto) — fields in number order, proto3 defaults left out,
// sub-messages always written — at a fraction of the cost of reflection, since the sequencer encodes
// every entry. test/log/leaf-encoder.test.ts holds it to toBinary on random entries.

/** A Timestamp's fields. */
export interface TimestampFields {
  readonly seconds: bigint;
  readonly nanos: number;
}

/** The fields of a LogEntry, as plain data. */
export interface LeafFields {
  readonly sequence: number;
  readonly eventId: string;
  readonly service: string;
  readonly action: string;
  readonly objectType: string;
  readonly objectId: string;
  readonly actor: {
    readonly principalId: string;
    readonly principalRole: string;
    readonly actingDeviceId: string;
    readonly ipRef: Uint8Array;
    readonly userAgentRef: Uint8Array;
  };
  readonly beforeJson: string;
  readonly afterJson: string;
  readonly reason: string;
  readonly approvalReference: string;
  readonly occurredAt: TimestampFields;
  readonly recordedAt: TimestampFields;
  readonly correlationId: string;
}

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const utf8 = new TextEncoder();

/**
 * A growing byte buffer with the few protobuf primitives a leaf needs.
 * Sub-messages are written in place behind a length reserved in front, so a
 * leaf costs one buffer, reused from leaf to leaf, and one copy out.
 */
class Writer {
  bytes = new Uint8Array(4096);
  length = 0;

  private room(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  varint(value: number): void {
    this.room(10);
    let v = value;
    while (v >= 0x80) {
      this.bytes[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.bytes[this.length++] = v;
  }

  /** A signed 64-bit varint: negative values as their two's complement, 10 bytes. */
  varint64(value: bigint): void {
    this.room(10);
    let v = BigInt.asUintN(64, value);
    while (v >= 0x80n) {
      this.bytes[this.length++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.bytes[this.length++] = Number(v);
  }

  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  string(field: number, value: string): void {
    if (value === "") return;
    this.tag(field, WIRE_LEN);
    // At most three bytes per UTF-16 code unit.
    this.room(10 + value.length * 3);
    const start = this.length;
    // Leaf fields are mostly short ASCII (ids, names, JSON of amounts):
    // copying the code units beats a call into TextEncoder for those.
    let written = value.length < 128 ? asciiInto(value, this.bytes, start + 1) : -1;
    if (written >= 0) {
      this.bytes[start] = written;
      this.length = start + 1 + written;
      return;
    }
    written = utf8.encodeInto(value, this.bytes.subarray(start + 5)).written;
    this.placeLength(start, written);
  }

  byteString(field: number, value: Uint8Array): void {
    if (value.length === 0) return;
    this.tag(field, WIRE_LEN);
    this.varint(value.length);
    this.room(value.length);
    this.bytes.set(value, this.length);
    this.length += value.length;
  }

  /** A sub-message (always written, even when empty) whose fields `write` adds. */
  message(field: number, write: (w: Writer) => void): void {
    this.tag(field, WIRE_LEN);
    this.room(5);
    const start = this.length;
    this.length += 5;
    write(this);
    this.placeLength(start, this.length - start - 5);
  }

  /**
   * `written` bytes were put at `start + 5`, room left for their length:
   * writes the length, as short as it can be, and moves them up against it.
   */
  private placeLength(start: number, written: number): void {
    const prefix = varintLength(written);
    if (prefix !== 5) this.bytes.copyWithin(start + prefix, start + 5, start + 5 + written);
    this.length = start;
    this.varint(written);
    this.length = start + prefix + written;
  }

  /** A copy of what was written, and the writer emptied for the next leaf. */
  take(): Uint8Array {
    const bytes = this.bytes.slice(0, this.length);
    this.length = 0;
    return bytes;
  }
}

/**
 * Copies `value` to `bytes` from `at` when it is all ASCII, which is then
 * its UTF-8 encoding, and returns its length; -1 when it is not.
 */
function asciiInto(value: string, bytes: Uint8Array, at: number): number {
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0x80) return -1;
    bytes[at + i] = unit;
  }
  return value.length;
}

function varintLength(value: number): number {
  let n = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 0x80)) n++;
  return n;
}

function timestamp(w: Writer, t: TimestampFields): void {
  if (t.seconds !== 0n) {
    w.tag(1, WIRE_VARINT);
    w.varint64(t.seconds);
  }
  if (t.nanos !== 0) {
    w.tag(2, WIRE_VARINT);
    w.varint64(BigInt(t.nanos));
  }
}

// One writer for every leaf: the encoder is synchronous, so leaves never interleave.
const writer = new Writer();

/** The canonical bytes of a leaf. */
export function encodeLeaf(leaf: LeafFields): Uint8Array {
  return withSequence(leaf.sequence, encodeLeafBody(leaf));
}

/**
 * Every field of the leaf but the first, the sequence number: what can be
 * encoded before the sequencer numbers the entry. `withSequence` completes it.
 */
export function encodeLeafBody(leaf: Omit<LeafFields, "sequence">): Uint8Array {
  const w = writer;
  w.length = 0;
  w.string(2, leaf.eventId);
  w.string(3, leaf.service);
  w.string(4, leaf.action);
  w.string(5, leaf.objectType);
  w.string(6, leaf.objectId);
  const { actor } = leaf;
  w.message(7, () => {
    w.string(1, actor.principalId);
    w.string(2, actor.principalRole);
    w.string(3, actor.actingDeviceId);
    w.byteString(4, actor.ipRef);
    w.byteString(5, actor.userAgentRef);
  });
  w.string(8, leaf.beforeJson);
  w.string(9, leaf.afterJson);
  w.string(10, leaf.reason);
  w.string(11, leaf.approvalReference);
  w.message(12, () => timestamp(w, leaf.occurredAt));
  w.message(13, () => timestamp(w, leaf.recordedAt));
  w.string(14, leaf.correlationId);
  return w.take();
}

/** The leaf of `body` at `sequence`: field 1 in front (left out for 0, as proto3 does). */
export function withSequence(sequence: number, body: Uint8Array): Uint8Array {
  if (sequence === 0) return body;
  const prefix = 1 + varintLength(sequence);
  const leaf = new Uint8Array(prefix + body.length);
  leaf[0] = 1 * 8 + WIRE_VARINT;
  let at = 1;
  let v = sequence;
  while (v >= 0x80) {
    leaf[at++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  leaf[at] = v;
  leaf.set(body, prefix);
  return leaf;
}
