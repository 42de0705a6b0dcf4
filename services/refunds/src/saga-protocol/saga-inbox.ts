import { inTransaction, sql, type DatabasePool, type DatabaseTransactionConnection } from "@money/db";
import { decodeEnvelope, subscribeBatches, type EventBus, type Subscription } from "@money/kafka";
import type { EventEnvelope } from "@money/proto/events/v1/envelope_pb";

export interface SagaInboxOptions {
  bus: EventBus;
  pool: DatabasePool;
  /** Names both the consumer group and the inbox rows. */
  consumer: string;
  topic: string;
  /** Where a new group starts (see sagaStartsFromBeginning). */
  fromBeginning: boolean;
  /** The event type this consumer handles (the message's event-type header); others are skipped undecoded. */
  eventType: string;
  /** Whether an envelope of that type is this consumer's; the others are acknowledged without a transaction. */
  keep(envelope: EventEnvelope): boolean;
  /**
   * Applies the batch's envelopes not handled before, in order, inside the
   * batch's transaction, which also records them in the inbox. Throwing
   * rolls the whole batch back and the bus delivers it again.
   */
  handle(tx: DatabaseTransactionConnection, envelopes: readonly EventEnvelope[]): Promise<void>;
}

/**
 * The saga's consumers' inbox, a batch at a time: each run of messages the
 * bus hands over costs one database transaction and one inbox statement,
 * however many of them are this consumer's, rather than a transaction per
 * message (each commit is a WAL flush). Exactly-once effect as with the
 * platform's inbox: an event id is handled once per consumer, however often
 * it is delivered. Messages of a partition are handled in order; partitions
 * are handled side by side.
 */
export function subscribeSagaInbox(options: SagaInboxOptions): Promise<Subscription> {
  return subscribeBatches(options.bus, {
    groupId: options.consumer,
    topics: [options.topic],
    fromBeginning: options.fromBeginning,
    partitionsConcurrently: PARTITIONS_IN_FLIGHT,
    handleBatch: async (batch) => {
      const mine: EventEnvelope[] = [];
      for (const message of batch.messages) {
        if (message.headers["event-type"] !== options.eventType) continue;
        const envelope = decodeEnvelope(message.value);
        if (options.keep(envelope)) mine.push(envelope);
      }
      if (mine.length === 0) return;
      await inTransaction(
        options.pool,
        async (tx) => {
          const fresh = new Set(
            (
              (await tx.anyFirst(sql.unsafe`
              INSERT INTO inbox (consumer, event_id, event_type)
              SELECT ${options.consumer}, event_id, event_type
              FROM ${sql.unnest(
                mine.map((e) => [e.eventId, e.eventType]),
                ["uuid", "text"],
              )} AS m(event_id, event_type)
              ON CONFLICT DO NOTHING RETURNING event_id
            `)) as string[]
            ).map(uuidDigits),
          );
          // A copy within one batch counts once too. Postgres answers with its own
          // spelling of each uuid, which need not be the sender's: compare digits.
          const firsts = mine.filter((envelope) => fresh.delete(uuidDigits(envelope.eventId)));
          if (firsts.length > 0) await options.handle(tx, firsts);
        },
        { isolation: "read committed" },
      );
    },
  });
}

/**
 * Partitions of one topic whose batches are in flight at once (of 6): one
 * partition's transaction overlaps another's, while each partition keeps
 * its order.
 */
const PARTITIONS_IN_FLIGHT = 3;

/** A uuid's 32 hex digits, lower case: the same for every spelling Postgres accepts. */
function uuidDigits(id: string): string {
  return id.toLowerCase().replace(/[^0-9a-f]/g, "");
}
