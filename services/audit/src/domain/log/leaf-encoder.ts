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

/** A growing byte buffer with the few protobuf primitives a leaf needs. */
class Writer {
  bytes = new Uint8Array(512);
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
    const { written } = utf8.encodeInto(value, this.bytes.subarray(start + 5));
    // Room for the length was left as 5 bytes; move the text up against its real length.
    const prefix = varintLength(written);
    if (prefix !== 5) this.bytes.copyWithin(start + prefix, start + 5, start + 5 + written);
    this.varint(written);
    this.length = start + prefix + written;
  }

  byteString(field: number, value: Uint8Array): void {
    if (value.length === 0) return;
    this.tag(field, WIRE_LEN);
    this.varint(value.length);
    this.room(value.length);
    this.bytes.set(value, this.length);
    this.length += value.length;
  }

  message(field: number, body: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    this.byteStringAlways(body);
  }

  private byteStringAlways(value: Uint8Array): void {
    this.varint(value.length);
    this.room(value.length);
    this.bytes.set(value, this.length);
    this.length += value.length;
  }

  finish(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

function varintLength(value: number): number {
  let n = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 0x80)) n++;
  return n;
}

function timestamp(t: TimestampFields): Uint8Array {
  const w = new Writer();
  if (t.seconds !== 0n) {
    w.tag(1, WIRE_VARINT);
    w.varint64(t.seconds);
  }
  if (t.nanos !== 0) {
    w.tag(2, WIRE_VARINT);
    w.varint64(BigInt(t.nanos));
  }
  return w.finish();
}

/** The canonical bytes of a leaf. */
export function encodeLeaf(leaf: LeafFields): Uint8Array {
  return withSequence(leaf.sequence, encodeLeafBody(leaf));
}

/**
 * Every field of the leaf but the first, the sequence number: what can be
 * encoded before the sequencer numbers the entry. `withSequence` completes it.
 */
export function encodeLeafBody(leaf: Omit<LeafFields, "sequence">): Uint8Array {
  const w = new Writer();
  w.string(2, leaf.eventId);
  w.string(3, leaf.service);
  w.string(4, leaf.action);
  w.string(5, leaf.objectType);
  w.string(6, leaf.objectId);
  const actor = new Writer();
  actor.string(1, leaf.actor.principalId);
  actor.string(2, leaf.actor.principalRole);
  actor.string(3, leaf.actor.actingDeviceId);
  actor.byteString(4, leaf.actor.ipRef);
  actor.byteString(5, leaf.actor.userAgentRef);
  w.message(7, actor.finish());
  w.string(8, leaf.beforeJson);
  w.string(9, leaf.afterJson);
  w.string(10, leaf.reason);
  w.string(11, leaf.approvalReference);
  w.message(12, timestamp(leaf.occurredAt));
  w.message(13, timestamp(leaf.recordedAt));
  w.string(14, leaf.correlationId);
  return w.finish();
}

/** The leaf of `body` at `sequence`: field 1 in front (left out for 0, as proto3 does). */
export function withSequence(sequence: number, body: Uint8Array): Uint8Array {
  if (sequence === 0) return body;
  const w = new Writer();
  w.tag(1, WIRE_VARINT);
  w.varint(sequence);
  const leaf = new Uint8Array(w.length + body.length);
  leaf.set(w.bytes.subarray(0, w.length));
  leaf.set(body, w.length);
  return leaf;
}
