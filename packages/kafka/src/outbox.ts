import type { DescMessage } from "@bufbuild/protobuf";
import {
  afterCommit,
  arrayParameter,
  sql,
  type CommitScope,
  type DatabaseTransactionConnection,
} from "@money/db";
import { EventEnvelopeSchema, type EventEnvelope } from "@money/proto/events/v1/envelope_pb";
import { cutApart, encodeMessages } from "./envelope-encoding.js";
import { envelopeOf, type NewEvent } from "./envelope.js";

/**
 * The events of one outbox row of a committed transaction, in order: what the
 * row's arrays hold, and the encoded envelopes (its payload, cut apart).
 */
export interface CommittedWrite {
  eventIds: readonly string[];
  topics: readonly string[];
  keys: readonly string[];
  eventTypes: readonly string[];
  payloads: readonly Uint8Array[];
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
 *
 * Each write is one outbox row holding all its events in order (migration
 * 0004): a batch of a thousand postings is one row, not two thousand.
 */
export class OutboxWriter {
  private readonly committedListeners = new Set<(write: CommittedWrite) => void>();

  constructor(private readonly producer: string) {}

  /**
   * Calls `listener` each time a transaction that wrote events has committed, once per
   * outbox row, with its events' encoded envelopes: the relay's wake-up, and what spares it
   * reading them back.
   */
  onCommitted(listener: (write: CommittedWrite) => void): void {
    this.committedListeners.add(listener);
  }

  async write<Desc extends DescMessage>(
    tx: DatabaseTransactionConnection,
    event: NewEvent<Desc>,
  ): Promise<EventEnvelope> {
    return (await this.writeMany(tx, [event]))[0]!;
  }

  /**
   * Writes several events in one statement, in order: a batch of a thousand
   * postings costs one round trip and one row, not a thousand.
   */
  async writeMany(
    tx: DatabaseTransactionConnection,
    events: readonly NewEvent<DescMessage>[],
  ): Promise<EventEnvelope[]> {
    if (events.length === 0) return [];
    const insert = this.insertFragment(tx, events);
    await tx.query(sql.unsafe`${insert.sql}`);
    return [...insert.envelopes];
  }

  /**
   * The INSERT of `events`, in order, for the caller to fold into a statement
   * of its own in `tx` (one round trip fewer than writeMany). The caller must
   * run it in `tx`; the relay is woken when `tx` commits. Its text is the
   * same whatever the events, so the statement it is part of can be prepared.
   */
  insertFragment(tx: CommitScope, events: readonly NewEvent<DescMessage>[]): OutboxInsert {
    const envelopes = events.map((event) => envelopeOf(this.producer, event));
    // The payloads travel as one binary parameter and are stored so, end to end: a bytea[]
    // parameter would go as text, twice the size in hex, escaped and unescaped.
    const { bytes, ends } = encodeMessages(EventEnvelopeSchema, envelopes);
    const eventIds = envelopes.map((envelope) => envelope.eventId);
    const topics = events.map((event) => event.topic);
    const keys = events.map((event) => event.aggregateId);
    const eventTypes = envelopes.map((envelope) => envelope.eventType);
    // Handed to the relay only after commit; it publishes a payload only for a row it finds
    // unpublished in the table, so a fragment the caller never ran publishes nothing.
    if (events.length > 0) {
      const write: CommittedWrite = { eventIds, topics, keys, eventTypes, payloads: cutApart(bytes, ends) };
      for (const listener of this.committedListeners) afterCommit(tx, () => listener(write));
    }
    return {
      sql: sql.fragment`
        INSERT INTO outbox (event_ids, topics, message_keys, event_types, payload, payload_ends)
        SELECT ${arrayParameter(eventIds, "uuid")}, ${arrayParameter(topics, "text")}, ${arrayParameter(
          keys,
          "text",
        )}, ${arrayParameter(eventTypes, "text")}, ${sql.binary(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))}, ${arrayParameter(
          ends.map(String),
          "int4",
        )}
        WHERE ${events.length > 0}
      `,
      envelopes,
    };
  }
}
