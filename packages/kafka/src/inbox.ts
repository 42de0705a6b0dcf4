import {
  inTransaction,
  sql,
  type DatabasePool,
  type DatabaseTransactionConnection,
  type Isolation,
} from "@money/db";
import type { EventEnvelope } from "@money/proto/events/v1/envelope_pb";
import type { EventBus, IncomingMessage, Subscription } from "./bus/event-bus.js";
import { decodeEnvelope } from "./envelope.js";

export interface InboxSubscription {
  bus: EventBus;
  pool: DatabasePool;
  /** Names both the consumer group and the inbox rows. */
  consumer: string;
  topics: readonly string[];
  isolation?: Isolation;
  /**
   * Applies one event inside a transaction that also records it in the
   * inbox. Throwing rolls both back and the bus delivers the event again.
   */
  handle(tx: DatabaseTransactionConnection, envelope: EventEnvelope, message: IncomingMessage): Promise<void>;
}

/**
 * Subscribes with exactly-once effect: each event id is handled once per
 * consumer, however many times the bus delivers it.
 */
export function subscribeThroughInbox(options: InboxSubscription): Promise<Subscription> {
  return options.bus.subscribe({
    groupId: options.consumer,
    topics: options.topics,
    handle: async (message) => {
      const envelope = decodeEnvelope(message.value);
      await inTransaction(
        options.pool,
        async (tx) => {
          const fresh = await tx.maybeOneFirst(sql.unsafe`
            INSERT INTO inbox (consumer, event_id, event_type)
            VALUES (${options.consumer}, ${envelope.eventId}, ${envelope.eventType})
            ON CONFLICT DO NOTHING RETURNING 1
          `);
          if (fresh === null) return;
          await options.handle(tx, envelope, message);
        },
        { isolation: options.isolation ?? "read committed" },
      );
    },
  });
}
