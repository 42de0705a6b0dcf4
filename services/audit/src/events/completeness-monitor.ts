import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { DatabasePool } from "@money/db";
import { subscribeThroughInbox, type EventBus, type Subscription } from "@money/kafka";
import { insertDomainEvent } from "../db/domain-events-table.js";

/**
 * Reads the domain topics (from the beginning, the first time) and records
 * each domain event once, through the inbox, for the completeness check.
 */
export function startCompletenessMonitor(options: {
  readonly bus: EventBus;
  readonly pool: DatabasePool;
  readonly topics: readonly string[];
  readonly consumer: string;
}): Promise<Subscription> {
  return subscribeThroughInbox({
    bus: options.bus,
    pool: options.pool,
    consumer: options.consumer,
    topics: options.topics,
    handle: async (tx, envelope, message) => {
      await insertDomainEvent(tx, {
        eventId: envelope.eventId,
        topic: message.topic,
        eventType: envelope.eventType,
        producer: envelope.producer,
        aggregateType: envelope.aggregateType,
        aggregateId: envelope.aggregateId,
        occurredAt: envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date(0),
      });
    },
  });
}
