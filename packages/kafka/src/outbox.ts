import type { DescMessage } from "@bufbuild/protobuf";
import { sql, type DatabaseTransactionConnection } from "@money/db";
import type { EventEnvelope } from "@money/proto/events/v1/envelope_pb";
import { encodeEnvelope, envelopeOf, type NewEvent } from "./envelope.js";

/**
 * Writes events to the service's outbox inside the caller's transaction, so
 * they exist if and only if the state change commits. The relay publishes
 * them afterwards.
 */
export class OutboxWriter {
  constructor(private readonly producer: string) {}

  async write<Desc extends DescMessage>(
    tx: DatabaseTransactionConnection,
    event: NewEvent<Desc>,
  ): Promise<EventEnvelope> {
    const envelope = envelopeOf(this.producer, event);
    await tx.query(sql.unsafe`
      INSERT INTO outbox (event_id, topic, message_key, event_type, payload)
      VALUES (${envelope.eventId}, ${event.topic}, ${event.aggregateId}, ${envelope.eventType},
              ${sql.binary(Buffer.from(encodeEnvelope(envelope)))})
    `);
    return envelope;
  }
}
