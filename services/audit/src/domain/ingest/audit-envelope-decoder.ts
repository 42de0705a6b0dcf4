// Reads an EventEnvelope holding an events.v1.AuditEvent by walking the protobuf wire format by hand.
// The sequencer reads every message of the audit topic, and protobuf-es's reflective decoding (with
// google.protobuf.Struct turned into JSON) cost it more than everything else it does in Node. The
// result is what fromBinary would give for the fields the log keeps; test/ingest/envelope-decoder.test.ts
// holds it to protobuf-es on random events.

import type { JsonObject, JsonValue } from "@bufbuild/protobuf";

/** The audit event of an envelope, as plain data. */
export interface DecodedAuditEvent {
  readonly eventId: string;
  readonly service: string;
  readonly action: string;
  readonly objectType: string;
  readonly objectId: string;
  readonly actor:
    | {
        readonly principalId: string;
        readonly principalRole: string;
        readonly actingDeviceId: string;
        readonly ip: string;
        readonly userAgent: string;
      }
    | undefined;
  readonly before: JsonObject | undefined;
  readonly after: JsonObject | undefined;
  readonly reason: string;
  readonly approvalReference: string;
  readonly occurredAt: { readonly seconds: bigint; readonly nanos: number } | undefined;
  readonly correlationId: string;
}

/** What the envelope says, and its payload's type. */
export interface DecodedEnvelope {
  readonly eventId: string;
  readonly payloadType: string;
  /** The audit event, when the payload is one. */
  readonly event: DecodedAuditEvent | undefined;
}

const AUDIT_EVENT_TYPE = "events.v1.AuditEvent";
const utf8 = new TextDecoder("utf-8");
const SHORT_STRING_BYTES = 64;

/** A cursor over protobuf wire data. */
class Reader {
  at: number;
  // Made on the first double only: an event opens a reader per sub-message and few hold a number.
  private view: DataView | undefined;

  constructor(
    readonly bytes: Uint8Array,
    from = 0,
    readonly end = bytes.length,
  ) {
    this.at = from;
  }

  done(): boolean {
    return this.at >= this.end;
  }

  /** A varint below 2^53 (tags, lengths, enums, bools). */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.at >= this.end) throw new Error("truncated varint");
      const byte = this.bytes[this.at++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    throw new Error("varint too long");
  }

  /** A varint as a signed 64-bit integer. */
  varint64(): bigint {
    let value = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.at >= this.end) throw new Error("truncated varint");
      const byte = this.bytes[this.at++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asIntN(64, value);
      shift += 7n;
    }
    throw new Error("varint too long");
  }

  /** The bounds of a length-delimited field. */
  span(): { from: number; to: number } {
    const length = this.varint();
    const from = this.at;
    const to = from + length;
    if (to > this.end) throw new Error("length past the end");
    this.at = to;
    return { from, to };
  }

  string(): string {
    const { from, to } = this.span();
    // Most fields are short ASCII (ids, names, amounts): built from the bytes directly, they skip
    // a call into TextDecoder and the subarray it needs.
    if (to - from <= SHORT_STRING_BYTES) {
      let text = "";
      for (let i = from; i < to; i++) {
        const byte = this.bytes[i]!;
        if (byte >= 0x80) return utf8.decode(this.bytes.subarray(from, to));
        text += String.fromCharCode(byte);
      }
      return text;
    }
    return utf8.decode(this.bytes.subarray(from, to));
  }

  double(): number {
    if (this.at + 8 > this.end) throw new Error("truncated double");
    this.view ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const value = this.view.getFloat64(this.at, true);
    this.at += 8;
    return value;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.at += 8;
        break;
      case 2:
        this.span();
        return;
      case 5:
        this.at += 4;
        break;
      default:
        throw new Error(`wire type ${wireType}`);
    }
    if (this.at > this.end) throw new Error("truncated field");
  }

  sub(): Reader {
    const { from, to } = this.span();
    return new Reader(this.bytes, from, to);
  }
}

/**
 * Decodes an envelope and, when its payload is an AuditEvent, the event.
 *
 * @throws Error when the bytes are not well-formed protobuf.
 */
export function decodeAuditEnvelope(bytes: Uint8Array): DecodedEnvelope {
  const r = new Reader(bytes);
  let eventId = "";
  let typeUrl = "";
  let value: { from: number; to: number } | undefined;
  while (!r.done()) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 1 && wire === 2) eventId = r.string();
    else if (field === 7 && wire === 2) {
      const any = r.sub();
      while (!any.done()) {
        const t = any.varint();
        if (t === 10) typeUrl = any.string();
        else if (t === 18) value = any.span();
        else any.skip(t % 8);
      }
    } else r.skip(wire);
  }
  const payloadType = typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
  const event =
    payloadType === AUDIT_EVENT_TYPE
      ? auditEvent(new Reader(bytes, value?.from ?? 0, value?.to ?? 0))
      : undefined;
  return { eventId, payloadType, event };
}

function auditEvent(r: Reader): DecodedAuditEvent {
  const e = {
    eventId: "",
    service: "",
    action: "",
    objectType: "",
    objectId: "",
    actor: undefined as DecodedAuditEvent["actor"],
    before: undefined as JsonObject | undefined,
    after: undefined as JsonObject | undefined,
    reason: "",
    approvalReference: "",
    occurredAt: undefined as DecodedAuditEvent["occurredAt"],
    correlationId: "",
  };
  while (!r.done()) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire !== 2 || field < 1 || field > 12) {
      r.skip(wire);
      continue;
    }
    switch (field) {
      case 1:
        e.eventId = r.string();
        break;
      case 2:
        e.service = r.string();
        break;
      case 3:
        e.action = r.string();
        break;
      case 4:
        e.objectType = r.string();
        break;
      case 5:
        e.objectId = r.string();
        break;
      case 6:
        e.actor = actor(r.sub(), e.actor);
        break;
      case 7:
        e.before = struct(r.sub(), e.before);
        break;
      case 8:
        e.after = struct(r.sub(), e.after);
        break;
      case 9:
        e.reason = r.string();
        break;
      case 10:
        e.approvalReference = r.string();
        break;
      case 11:
        e.occurredAt = timestamp(r.sub(), e.occurredAt);
        break;
      case 12:
        e.correlationId = r.string();
        break;
    }
  }
  return e;
}

// A message field seen twice is merged, as protobuf decoders do: later fields overwrite earlier ones.
function actor(r: Reader, previous: DecodedAuditEvent["actor"]): NonNullable<DecodedAuditEvent["actor"]> {
  const a = { principalId: "", principalRole: "", actingDeviceId: "", ip: "", userAgent: "", ...previous };
  while (!r.done()) {
    const tag = r.varint();
    const wire = tag % 8;
    const field = Math.floor(tag / 8);
    if (wire !== 2) r.skip(wire);
    else if (field === 1) a.principalId = r.string();
    else if (field === 2) a.principalRole = r.string();
    else if (field === 3) a.actingDeviceId = r.string();
    else if (field === 4) a.ip = r.string();
    else if (field === 5) a.userAgent = r.string();
    else r.skip(wire);
  }
  return a;
}

function timestamp(
  r: Reader,
  previous: DecodedAuditEvent["occurredAt"],
): NonNullable<DecodedAuditEvent["occurredAt"]> {
  let seconds = previous?.seconds ?? 0n;
  let nanos = previous?.nanos ?? 0;
  while (!r.done()) {
    const tag = r.varint();
    if (tag === 8) seconds = r.varint64();
    else if (tag === 16) nanos = Number(BigInt.asIntN(32, r.varint64()));
    else r.skip(tag % 8);
  }
  return { seconds, nanos };
}

/** google.protobuf.Struct as a JSON object: field 1 is a map<string, Value>. */
function struct(r: Reader, previous?: JsonObject): JsonObject {
  const object: JsonObject = previous ? { ...previous } : {};
  while (!r.done()) {
    const tag = r.varint();
    if (tag !== 10) {
      r.skip(tag % 8);
      continue;
    }
    const entry = r.sub();
    let key = "";
    let value: JsonValue = null;
    while (!entry.done()) {
      const t = entry.varint();
      if (t === 10) key = entry.string();
      else if (t === 18) value = jsonValue(entry.sub());
      else entry.skip(t % 8);
    }
    object[key] = value;
  }
  return object;
}

/** google.protobuf.Value as JSON; a Value with no kind set reads as null. */
function jsonValue(r: Reader): JsonValue {
  let value: JsonValue = null;
  while (!r.done()) {
    const tag = r.varint();
    switch (tag) {
      case 8:
        r.varint();
        value = null;
        break;
      case 17:
        value = r.double();
        break;
      case 26:
        value = r.string();
        break;
      case 32:
        value = r.varint() !== 0;
        break;
      case 42:
        value = struct(
          r.sub(),
          typeof value === "object" && value !== null && !Array.isArray(value) ? value : undefined,
        );
        break;
      case 50: {
        const list = r.sub();
        const items: JsonValue[] = Array.isArray(value) ? [...value] : [];
        while (!list.done()) {
          const t = list.varint();
          if (t === 10) items.push(jsonValue(list.sub()));
          else list.skip(t % 8);
        }
        value = items;
        break;
      }
      default:
        r.skip(tag % 8);
    }
  }
  return value;
}
