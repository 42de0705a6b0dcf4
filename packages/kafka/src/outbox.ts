import type { DescMessage } from "@bufbuild/protobuf";
import {
  afterCommit,
  sql,
  unnestArrays,
  type CommitScope,
  type DatabaseTransactionConnection,
} from "@money/db";
import { EventEnvelopeSchema, type EventEnvelope } from "@money/proto/events/v1/envelope_pb";
import { encodeMessages } from "./envelope-encoding.js";
import { encodeEnvelope, envelopeOf, type NewEvent } from "./envelope.js";

/** An event of a committed transaction: its id and its payload column (the encoded envelope). */
export interface CommittedEvent {
  eventId: string;
  payload: Uint8Array;
}

/**
 * Events as an `INSERT INTO outbox …` for the caller to run inside one of its
 * own statements, as a data-modifying CTE: `WITH events AS (${insert.sql}) …`.
 */
export interface OutboxInsert {
  /** The INSERT, without RETURNING; it inserts nothing when there are no events. */
  readonly sql: ReturnType<typeof sql.fragment>;
  readonly envelopes: readonly EventEnvelope[];
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

  private notifyAfterCommit(tx: CommitScope, events: readonly CommittedEvent[]): void {
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
    const rows = events.map((event) => rowOf(event, envelopeOf(this.producer, event)));
    await tx.query(sql.unsafe`${this.insertOf(tx, rows).sql}`);
    return rows.map((row) => row.envelope);
  }

  /**
   * The INSERT of `events`, in order, for the caller to fold into a statement
   * of its own in `tx` (one round trip fewer than writeMany). The caller must
   * run it in `tx`; the relay is woken when `tx` commits.
   */
  insertFragment(tx: CommitScope, events: readonly NewEvent<DescMessage>[]): OutboxInsert {
    return this.insertOf(
      tx,
      events.map((event) => rowOf(event, envelopeOf(this.producer, event))),
    );
  }

  private insertOf(tx: CommitScope, rows: readonly OutboxRow[]): OutboxInsert {
    const envelopes = rows.map((row) => row.envelope);
    // The payloads travel as one binary parameter, cut apart by offset in SQL: a bytea[]
    // parameter would go as text, twice the size in hex, escaped and unescaped.
    const { bytes, ends } = encodeMessages(EventEnvelopeSchema, envelopes);
    const starts = ends.map((_, i) => (i === 0 ? 0 : ends[i - 1]!));
    const payloads = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Handed to the relay only after commit; it publishes a payload only for a row it finds
    // unpublished in the table, so a fragment the caller never ran publishes nothing.
    if (rows.length > 0) {
      this.notifyAfterCommit(
        tx,
        envelopes.map((envelope, i) => ({
          eventId: envelope.eventId,
          payload: bytes.subarray(starts[i], ends[i]),
        })),
      );
    }
    return {
      sql: sql.fragment`
        INSERT INTO outbox (event_id, topic, message_key, event_type, payload)
        SELECT e.event_id, e.topic, e.message_key, e.event_type, substring(${sql.binary(payloads)}::bytea FROM e.start FOR e.length)
        FROM ${unnestArrays(
          envelopes.map((envelope, i) => [
            envelope.eventId,
            rows[i]!.topic,
            rows[i]!.messageKey,
            envelope.eventType,
            String(starts[i]! + 1),
            String(ends[i]! - starts[i]!),
          ]),
          ["uuid", "text", "text", "text", "int4", "int4"],
        )} WITH ORDINALITY AS e(event_id, topic, message_key, event_type, start, length, n) ORDER BY n
      `,
      envelopes,
    };
  }
}

/** An event as the outbox stores it. */
interface OutboxRow {
  envelope: EventEnvelope;
  topic: string;
  messageKey: string;
}

const rowOf = (event: NewEvent<DescMessage>, envelope: EventEnvelope): OutboxRow => ({
  envelope,
  topic: event.topic,
  messageKey: event.aggregateId,
});
