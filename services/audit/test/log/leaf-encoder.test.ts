import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { create, toBinary } from "@bufbuild/protobuf";
import { LogActorSchema, LogEntrySchema } from "@money/proto/audit/v1/log_entry_pb";
import { encodeLeaf, type LeafFields } from "../../src/domain/log/leaf-encoder.js";
import { decodeLogEntry, scanLeaf } from "../../src/domain/log/log-entry-codec.js";

const text = fc.oneof(
  fc.constant(""),
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.string({ maxLength: 20 }),
);
const timestamp = fc.record({
  seconds: fc.oneof(fc.constant(0n), fc.bigInt({ min: -62_135_596_800n, max: 253_402_300_799n })),
  nanos: fc.oneof(fc.constant(0), fc.integer({ min: -999_999_999, max: 999_999_999 })),
});
const leaf: fc.Arbitrary<LeafFields> = fc.record({
  sequence: fc.oneof(fc.constant(0), fc.nat(), fc.maxSafeNat()),
  eventId: fc.oneof(fc.uuid(), text),
  service: text,
  action: text,
  objectType: text,
  objectId: text,
  actor: fc.record({
    principalId: text,
    principalRole: text,
    actingDeviceId: text,
    ipRef: fc.uint8Array({ maxLength: 40 }),
    userAgentRef: fc.uint8Array({ maxLength: 40 }),
  }),
  beforeJson: text,
  afterJson: text,
  reason: text,
  approvalReference: text,
  occurredAt: timestamp,
  recordedAt: timestamp,
  correlationId: text,
});

function reference(fields: LeafFields): Uint8Array {
  return toBinary(
    LogEntrySchema,
    create(LogEntrySchema, {
      ...fields,
      sequence: BigInt(fields.sequence),
      actor: create(LogActorSchema, fields.actor),
      occurredAt: fields.occurredAt,
      recordedAt: fields.recordedAt,
    }),
  );
}

describe("the hand-written leaf encoder", () => {
  it("writes exactly what protobuf-es's toBinary writes", () => {
    fc.assert(
      fc.property(leaf, (fields) => {
        expect(Buffer.from(encodeLeaf(fields))).toEqual(Buffer.from(reference(fields)));
      }),
      { numRuns: 2_000 },
    );
  });

  it("writes leaves that decode back, and whose key the scanner reads", () => {
    fc.assert(
      fc.property(leaf, (fields) => {
        const bytes = encodeLeaf(fields);
        const decoded = decodeLogEntry(bytes);
        expect(decoded.sequence).toBe(BigInt(fields.sequence));
        expect(decoded.afterJson).toBe(Buffer.from(fields.afterJson, "utf8").toString("utf8"));
        expect(scanLeaf(bytes)).toEqual({
          sequence: fields.sequence,
          eventId: Buffer.from(fields.eventId, "utf8").toString("utf8"),
        });
      }),
      { numRuns: 500 },
    );
  });
});
