import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { create, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { StringValueSchema, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { decodeEnvelope, encodeEnvelope, envelopeOf, payloadAs } from "@money/kafka";
import { AuditActorSchema, AuditEventSchema } from "@money/proto/events/v1/audit_pb";
import { decodeAuditEnvelope } from "../../src/domain/ingest/audit-envelope-decoder.js";

const text = fc.string({ unit: "binary", maxLength: 40 });
// JSON as google.protobuf.Struct can carry it: finite numbers, no undefined.
const json: fc.Arbitrary<JsonValue> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    text,
    fc.array(tie("value"), { maxLength: 4 }),
    tie("object"),
  ),
  object: fc.dictionary(text, tie("value"), { maxKeys: 5 }),
})).value as fc.Arbitrary<JsonValue>;
const object = fc.dictionary(text, json, { maxKeys: 6 }) as fc.Arbitrary<JsonObject>;

const event = fc.record({
  eventId: fc.uuid(),
  service: text,
  action: text,
  objectType: text,
  objectId: text,
  actor: fc.option(
    fc.record({ principalId: text, principalRole: text, actingDeviceId: text, ip: text, userAgent: text }),
    { nil: undefined },
  ),
  before: fc.option(object, { nil: undefined }),
  after: fc.option(object, { nil: undefined }),
  reason: text,
  approvalReference: text,
  occurredAt: fc.option(fc.date({ min: new Date(-1e13), max: new Date(1e13), noInvalidDate: true }), {
    nil: undefined,
  }),
  correlationId: text,
});

describe("the hand-written audit envelope decoder", () => {
  it("reads what protobuf-es reads", () => {
    fc.assert(
      fc.property(event, fc.uuid(), ({ actor, occurredAt, before, after, ...fields }, envelopeId) => {
        const payload = create(AuditEventSchema, {
          ...fields,
          ...(actor ? { actor: create(AuditActorSchema, actor) } : {}),
          ...(before ? { before } : {}),
          ...(after ? { after } : {}),
          ...(occurredAt ? { occurredAt: timestampFromDate(occurredAt) } : {}),
        });
        const bytes = encodeEnvelope(
          envelopeOf("test", {
            topic: "t",
            schema: AuditEventSchema,
            payload,
            aggregateType: "x",
            aggregateId: "y",
            occurredAt: new Date(),
            eventId: envelopeId,
          }),
        );
        const reference = payloadAs(decodeEnvelope(bytes), AuditEventSchema)!;
        const mine = decodeAuditEnvelope(bytes);
        expect(mine.eventId).toBe(envelopeId);
        expect(mine.payloadType).toBe("events.v1.AuditEvent");
        const { $typeName: _t, actor: refActor, occurredAt: refAt, ...rest } = reference;
        void _t;
        expect(mine.event).toEqual({
          ...rest,
          before: reference.before,
          after: reference.after,
          actor: refActor
            ? {
                principalId: refActor.principalId,
                principalRole: refActor.principalRole,
                actingDeviceId: refActor.actingDeviceId,
                ip: refActor.ip,
                userAgent: refActor.userAgent,
              }
            : undefined,
          occurredAt: refAt ? { seconds: refAt.seconds, nanos: refAt.nanos } : undefined,
        });
      }),
      { numRuns: 1_000 },
    );
  });

  it("names another payload type and reads no event from it", () => {
    const bytes = encodeEnvelope(
      envelopeOf("test", {
        topic: "t",
        schema: StringValueSchema,
        payload: create(StringValueSchema, { value: "hello" }),
        aggregateType: "x",
        aggregateId: "y",
        occurredAt: new Date(),
      }),
    );
    expect(decodeAuditEnvelope(bytes)).toMatchObject({
      payloadType: "google.protobuf.StringValue",
      event: undefined,
    });
  });

  it("refuses bytes that are not protobuf", () => {
    expect(() => decodeAuditEnvelope(new Uint8Array([0x0a, 0x05, 0x61]))).toThrow();
  });
});
