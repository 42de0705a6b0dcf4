import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import {
  create,
  fromBinary,
  ScalarType,
  toBinary,
  type DescField,
  type DescFile,
  type DescMessage,
  type Message,
} from "@bufbuild/protobuf";
import { file_google_protobuf_struct } from "@bufbuild/protobuf/wkt";
import { file_audit_v1_events } from "@money/proto/audit/v1/events_pb";
import { file_events_v1_audit } from "@money/proto/events/v1/audit_pb";
import { file_events_v1_envelope } from "@money/proto/events/v1/envelope_pb";
import { file_ledger_v1_ledger } from "@money/proto/ledger/v1/ledger_pb";
import { file_loyalty_v1_events } from "@money/proto/loyalty/v1/events_pb";
import { file_refunds_v1_refunds } from "@money/proto/refunds/v1/refunds_pb";
import { file_refunds_v1_saga } from "@money/proto/refunds/v1/saga_pb";
import { encodeMessage, encodeMessages } from "../src/envelope-encoding.js";

/** Every message type of the files the services publish events from (nested types too). */
function messagesOf(files: readonly DescFile[]): DescMessage[] {
  const all: DescMessage[] = [];
  const visit = (m: DescMessage) => {
    all.push(m);
    m.nestedMessages.forEach(visit);
  };
  for (const file of files) file.messages.forEach(visit);
  return all.filter((m) => !m.fields.some((f) => f.fieldKind === "map" && f.mapKey !== ScalarType.STRING));
}

const text = fc.oneof(
  fc.constant(""),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 300 }),
);

function scalarOf(type: ScalarType, longAsString: boolean): fc.Arbitrary<unknown> {
  const long = (arb: fc.Arbitrary<bigint>) => (longAsString ? arb.map(String) : arb);
  switch (type) {
    case ScalarType.STRING:
      return text;
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 300 });
    case ScalarType.DOUBLE:
      return fc.oneof(fc.constant(0), fc.constant(-0), fc.double());
    case ScalarType.FLOAT:
      return fc.oneof(fc.constant(0), fc.float());
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return fc.oneof(fc.constant(0), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 32 - 1 }));
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return long(fc.oneof(fc.constant(0n), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })));
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return long(fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })));
  }
}

function valueOf(field: DescField, depth: number): fc.Arbitrary<unknown> {
  switch (field.fieldKind) {
    case "scalar":
      return scalarOf(field.scalar, field.longAsString);
    case "enum":
      return fc.constantFrom(...field.enum.values.map((v) => v.number));
    case "message":
      return messageOf(field.message, depth + 1);
    case "list": {
      const item =
        field.listKind === "message"
          ? messageOf(field.message, depth + 1)
          : field.listKind === "enum"
            ? fc.constantFrom(...field.enum.values.map((v) => v.number))
            : scalarOf(field.scalar, field.longAsString);
      return fc.array(item, { maxLength: depth > 2 ? 0 : 3 });
    }
    case "map": {
      const value =
        field.mapKind === "message"
          ? messageOf(field.message, depth + 1)
          : field.mapKind === "enum"
            ? fc.constantFrom(...field.enum.values.map((v) => v.number))
            : scalarOf(field.scalar, false);
      return fc.dictionary(
        text.filter((k) => k !== "__proto__"),
        value,
        { maxKeys: depth > 2 ? 0 : 3 },
      );
    }
  }
}

/** A message of `desc` with any subset of its fields set (nesting bounded, so Struct ends). */
function messageOf(desc: DescMessage, depth = 0): fc.Arbitrary<Message> {
  const singles = desc.fields.filter((f) => !f.oneof && !(f.fieldKind === "message" && depth > 3));
  const init: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of singles) init[f.localName] = valueOf(f, depth);
  for (const oneof of desc.oneofs) {
    const members = oneof.fields.filter((f) => !(f.fieldKind === "message" && depth > 3));
    init[oneof.localName] = fc.oneof(
      fc.constant({ case: undefined }),
      ...members.map((f) => valueOf(f, depth).map((value) => ({ case: f.localName, value }))),
    );
  }
  return fc.record(init, { requiredKeys: [] }).map((fields) => create(desc, fields as never) as Message);
}

const schemas = messagesOf([
  file_events_v1_envelope,
  file_events_v1_audit,
  file_google_protobuf_struct,
  file_ledger_v1_ledger,
  file_loyalty_v1_events,
  file_refunds_v1_refunds,
  file_refunds_v1_saga,
  file_audit_v1_events,
]);

describe("encodeMessage", () => {
  it("covers the event files' message types", () => {
    expect(schemas.map((s) => s.typeName)).toEqual(
      expect.arrayContaining([
        "events.v1.EventEnvelope",
        "events.v1.AuditEvent",
        "google.protobuf.Struct",
        "ledger.v1.TransactionPosted",
      ]),
    );
  });

  it.each(schemas.map((s) => [s.typeName, s] as const))(
    "writes %s byte for byte as toBinary",
    (_, schema) => {
      fc.assert(
        fc.property(messageOf(schema), (message) => {
          const fast = encodeMessage(schema, message);
          expect(Buffer.from(fast).equals(Buffer.from(toBinary(schema, message)))).toBe(true);
        }),
        { numRuns: 60 },
      );
    },
  );

  it("writes a Struct field held as JSON (an audit event's before and after) as toBinary", () => {
    const schema = file_events_v1_audit.messages.find((m) => m.typeName === "events.v1.AuditEvent")!;
    // No "__proto__" key at any depth: protobuf-es's create() assigns Struct keys to a plain
    // object, where that key sets the prototype and is lost, while encodeMessage keeps it; the
    // bytes then differ for a reason that is toBinary's, not ours.
    const json = fc.dictionary(
      text.filter((k) => k !== "__proto__"),
      fc.jsonValue({ maxDepth: 3 }).filter((value) => !JSON.stringify(value).includes('"__proto__"')),
      { maxKeys: 6 },
    );
    fc.assert(
      fc.property(json, json, text, (before, after, action) => {
        const event = create(schema, { before, after, action } as never) as Message;
        expect(Buffer.from(encodeMessage(schema, event)).equals(Buffer.from(toBinary(schema, event)))).toBe(
          true,
        );
      }),
      { numRuns: 300 },
    );
  });

  it("hands a message with unknown fields to toBinary, keeping them", () => {
    const envelope = fromBinary(file_events_v1_envelope.messages[0]!, Uint8Array.from([0xf8, 0x07, 0x2a]));
    const fast = encodeMessage(file_events_v1_envelope.messages[0]!, envelope);
    expect([...fast]).toEqual([0xf8, 0x07, 0x2a]);
  });
});

describe("encodeMessages", () => {
  const envelope = file_events_v1_envelope.messages.find((m) => m.name === "EventEnvelope")!;

  it("writes each message as toBinary, back to back, and where each ends", () => {
    fc.assert(
      // Any number of envelopes, of any shape.
      fc.property(fc.array(messageOf(envelope), { maxLength: 60 }), (messages) => {
        const { bytes, ends } = encodeMessages(envelope, messages);
        const each = messages.map((m) => Buffer.from(toBinary(envelope, m)));
        expect(Buffer.from(bytes).equals(Buffer.concat(each))).toBe(true);
        let end = 0;
        expect(ends).toEqual(each.map((b) => (end += b.length)));
      }),
      { numRuns: 40 },
    );
  });
});
