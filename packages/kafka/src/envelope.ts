import { randomUUID } from "node:crypto";
import { create, fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { AnySchema, anyIs, anyUnpack, timestampFromDate, type Any } from "@bufbuild/protobuf/wkt";
import { EventEnvelopeSchema, type EventEnvelope } from "@money/proto/events/v1/envelope_pb";
import { encodeMessage } from "./envelope-encoding.js";

export interface NewEvent<Desc extends DescMessage> {
  topic: string;
  /** Past-tense fact, e.g. ledger.v1.TransactionPosted. */
  schema: Desc;
  payload: MessageShape<Desc>;
  aggregateType: string;
  /** Partition key: events of one aggregate stay in order. */
  aggregateId: string;
  occurredAt: Date;
  correlationId?: string;
  eventId?: string;
}

/** Wraps a payload in the versioned envelope every topic carries. */
export function envelopeOf<Desc extends DescMessage>(producer: string, event: NewEvent<Desc>): EventEnvelope {
  return create(EventEnvelopeSchema, {
    eventId: event.eventId ?? randomUUID(),
    eventType: event.schema.typeName,
    producer,
    aggregateType: event.aggregateType,
    aggregateId: event.aggregateId,
    occurredAt: timestampFromDate(event.occurredAt),
    // anyPack's Any, encoded by encodeMessage rather than toBinary (same bytes, less time).
    payload: create(AnySchema, {
      typeUrl: `type.googleapis.com/${event.schema.typeName}`,
      value: encodeMessage(event.schema, event.payload),
    }),
    correlationId: event.correlationId ?? "",
  });
}

export function encodeEnvelope(envelope: EventEnvelope): Uint8Array {
  return encodeMessage(EventEnvelopeSchema, envelope);
}

export function decodeEnvelope(bytes: Uint8Array): EventEnvelope {
  return fromBinary(EventEnvelopeSchema, bytes);
}

/** The envelope's payload as `schema`, or undefined when it holds another type. */
export function payloadAs<Desc extends DescMessage>(
  envelope: EventEnvelope,
  schema: Desc,
): MessageShape<Desc> | undefined {
  const payload: Any | undefined = envelope.payload;
  if (!payload || !anyIs(payload, schema)) return undefined;
  return anyUnpack(payload, schema);
}
