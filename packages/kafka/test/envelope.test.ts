import { describe, expect, it } from "@jest/globals";
import { create, toBinary } from "@bufbuild/protobuf";
import { AnySchema, anyUnpack, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { EventEnvelopeSchema } from "@money/proto/events/v1/envelope_pb";
import { TransactionStatusChangedSchema } from "@money/proto/ledger/v1/ledger_pb";
import { encodeMessage } from "../src/envelope-encoding.js";
import { encodeEnvelope, envelopeOf } from "../src/envelope.js";

describe("envelopeOf", () => {
  // Built as a literal for speed; it must be the very message create() builds.
  it.each<[string, { eventId: string; correlationId?: string }]>([
    ["with a correlation id", { correlationId: "corr-1", eventId: "6f1c4d2e-0000-4000-8000-000000000001" }],
    ["without one", { eventId: "6f1c4d2e-0000-4000-8000-000000000002" }],
  ])("is the message create() builds, %s", (_, extra) => {
    const payload = create(TransactionStatusChangedSchema, { transactionId: "t-1" });
    const occurredAt = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
    const envelope = envelopeOf("ledger", {
      topic: "ledger.transactions",
      schema: TransactionStatusChangedSchema,
      payload,
      aggregateType: "transaction",
      aggregateId: "t-1",
      occurredAt,
      ...extra,
    });
    const expected = create(EventEnvelopeSchema, {
      eventId: extra.eventId,
      eventType: TransactionStatusChangedSchema.typeName,
      producer: "ledger",
      aggregateType: "transaction",
      aggregateId: "t-1",
      occurredAt: timestampFromDate(occurredAt),
      payload: create(AnySchema, {
        typeUrl: `type.googleapis.com/${TransactionStatusChangedSchema.typeName}`,
        value: encodeMessage(TransactionStatusChangedSchema, payload),
      }),
      correlationId: extra.correlationId ?? "",
    });
    expect(envelope).toStrictEqual(expected);
    expect(encodeEnvelope(envelope)).toEqual(toBinary(EventEnvelopeSchema, expected));
    expect(anyUnpack(envelope.payload!, TransactionStatusChangedSchema)).toEqual(payload);
  });

  it("gives each event a fresh id when it has none", () => {
    const event = {
      topic: "ledger.transactions",
      schema: TransactionStatusChangedSchema,
      payload: create(TransactionStatusChangedSchema, { transactionId: "t-1" }),
      aggregateType: "transaction",
      aggregateId: "t-1",
      occurredAt: new Date(),
    };
    expect(envelopeOf("ledger", event).eventId).not.toBe(envelopeOf("ledger", event).eventId);
  });
});
