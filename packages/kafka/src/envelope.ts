import { randomUUID } from "node:crypto";
import { fromBinary, protoInt64, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import {
  AnySchema,
  anyIs,
  anyUnpack,
  TimestampSchema,
  type Any,
  type Timestamp,
} from "@bufbuild/protobuf/wkt";
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

/**
 * Wraps a payload in the versioned envelope every topic carries.
 *
 * Built as the literal message `create` would return (every field set, zero
 * values included): `create` walks the schema reflectively for each of the
 * envelope, its Any and its Timestamp, and a batch of a thousand postings
 * builds two thousand envelopes.
 */
export function envelopeOf<Desc extends DescMessage>(producer: string, event: NewEvent<Desc>): EventEnvelope {
  return {
    $typeName: EVENT_ENVELOPE,
    eventId: event.eventId ?? randomUUID(),
    eventType: event.schema.typeName,
    producer,
    aggregateType: event.aggregateType,
    aggregateId: event.aggregateId,
    occurredAt: timestampOf(event.occurredAt),
    // anyPack's Any, encoded by encodeMessage rather than toBinary (same bytes, less time).
    payload: {
      $typeName: ANY,
      typeUrl: `type.googleapis.com/${event.schema.typeName}`,
      value: encodeMessage(event.schema, event.payload),
    },
    correlationId: event.correlationId ?? "",
  };
}

const EVENT_ENVELOPE = EventEnvelopeSchema.typeName as EventEnvelope["$typeName"];
const ANY = AnySchema.typeName as Any["$typeName"];
const TIMESTAMP = TimestampSchema.typeName as Timestamp["$typeName"];

/** timestampFromDate's message, without its `create`. */
export function timestampOf(date: Date): Timestamp {
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  return {
    $typeName: TIMESTAMP,
    seconds: protoInt64.parse(seconds),
    nanos: (ms - seconds * 1000) * 1_000_000,
  };
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
