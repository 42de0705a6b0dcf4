import type { DescMessage } from "@bufbuild/protobuf";
import { afterCommit, sql, unnestArrays, type DatabaseTransactionConnection } from "@money/db";
import { EventEnvelopeSchema, type EventEnvelope } from "@money/proto/events/v1/envelope_pb";
import { encodeMessages } from "./envelope-encoding.js";
import { encodeEnvelope, envelopeOf, type NewEvent } from "./envelope.js";

/** An event of a committed transaction: its id and its payload column (the encoded envelope). */
export interface CommittedEvent {
  eventId: string;
  payload: Uint8Array;
}

/**
 * Writes events to the service's outbox inside the caller's transaction, so
 * they exist if and only if the state change commits. The relay publishes
 * them afterwards.
 */
export class OutboxWriter {
  private readonly committedListeners = new Set<(events: readonly CommittedEvent[]) => void>();

  constructor(private readonly producer: string) {}

  /**
   * Calls `listener` each time a transaction that wrote events has committed, with those
   * events' encoded envelopes: the relay's wake-up, and what spares it reading them back.
   */
  onCommitted(listener: (events: readonly CommittedEvent[]) => void): void {
    this.committedListeners.add(listener);
  }

  private notifyAfterCommit(tx: DatabaseTransactionConnection, events: readonly CommittedEvent[]): void {
    for (const listener of this.committedListeners) afterCommit(tx, () => listener(events));
  }

  async write<Desc extends DescMessage>(
    tx: DatabaseTransactionConnection,
    event: NewEvent<Desc>,
  ): Promise<EventEnvelope> {
    const envelope = envelopeOf(this.producer, event);
    const payload = Buffer.from(encodeEnvelope(envelope));
    await tx.query(sql.unsafe`
      INSERT INTO outbox (event_id, topic, message_key, event_type, payload)
      VALUES (${envelope.eventId}, ${event.topic}, ${event.aggregateId}, ${envelope.eventType},
              ${sql.binary(payload)})
    `);
    this.notifyAfterCommit(tx, [{ eventId: envelope.eventId, payload }]);
    return envelope;
  }

  /**
   * Writes several events in one statement, in order: a batch of a thousand
   * postings costs one round trip, not a thousand.
   */
  async writeMany(
    tx: DatabaseTransactionConnection,
    events: readonly NewEvent<DescMessage>[],
  ): Promise<EventEnvelope[]> {
    if (events.length === 0) return [];
    const envelopes = events.map((event) => envelopeOf(this.producer, event));
    // The payloads travel as one binary parameter, cut apart by offset in SQL: a bytea[]
    // parameter would go as text, twice the size in hex, escaped and unescaped.
    const { bytes, ends } = encodeMessages(EventEnvelopeSchema, envelopes);
    const starts = ends.map((_, i) => (i === 0 ? 0 : ends[i - 1]!));
    await tx.query(sql.unsafe`
      INSERT INTO outbox (event_id, topic, message_key, event_type, payload)
      SELECT e.event_id, e.topic, e.message_key, e.event_type, substring(${sql.binary(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))}::bytea FROM e.start FOR e.length)
      FROM ${unnestArrays(
        envelopes.map((envelope, i) => [
          envelope.eventId,
          events[i]!.topic,
          events[i]!.aggregateId,
          envelope.eventType,
          String(starts[i]! + 1),
          String(ends[i]! - starts[i]!),
        ]),
        ["uuid", "text", "text", "text", "int4", "int4"],
      )} WITH ORDINALITY AS e(event_id, topic, message_key, event_type, start, length, n) ORDER BY n
    `);
    this.notifyAfterCommit(
      tx,
      envelopes.map((envelope, i) => ({
        eventId: envelope.eventId,
        payload: bytes.subarray(starts[i], ends[i]),
      })),
    );
    return envelopes;
  }
}
