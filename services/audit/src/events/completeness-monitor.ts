import { timestampDate } from "@bufbuild/protobuf/wkt";
import { inTransaction, type DatabasePool } from "@money/db";
import { decodeEnvelope, subscribeBatches, type EventBus, type Subscription } from "@money/kafka";
import type { Logger } from "@money/rpc";
import { insertDomainEvents, type DomainEventRow } from "../db/domain-events-table.js";
import { saveOffset, storedOffset } from "../db/offsets-table.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Reads the domain topics (from the beginning, the first time) and records
 * each domain event once, in batches, for the completeness check. Like the
 * ingester, it keeps its offsets in the transaction of what it recorded; the
 * event id makes a replay harmless.
 */
export function startCompletenessMonitor(options: {
  readonly bus: EventBus;
  readonly pool: DatabasePool;
  readonly log: Logger;
  readonly topics: readonly string[];
  readonly consumer: string;
}): Promise<Subscription> {
  const { pool, consumer, log } = options;
  return subscribeBatches(options.bus, {
    groupId: consumer,
    topics: options.topics,
    fromBeginning: true,
    storedOffset: async (topic, partition) =>
      (await storedOffset(pool, consumer, topic, partition)) ?? undefined,
    handleBatch: async (batch) => {
      const rows: DomainEventRow[] = [];
      for (const message of batch.messages) {
        try {
          const envelope = decodeEnvelope(message.value);
          if (!UUID.test(envelope.eventId)) throw new Error(`event id ${JSON.stringify(envelope.eventId)}`);
          rows.push({
            eventId: envelope.eventId,
            topic: message.topic,
            eventType: envelope.eventType,
            producer: envelope.producer,
            aggregateType: envelope.aggregateType,
            aggregateId: envelope.aggregateId,
            occurredAt: envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date(0),
          });
        } catch (error) {
          // Not an envelope: nothing the trail could answer for; noted, skipped.
          log.warn(
            { err: error, topic: message.topic, offset: message.offset },
            "domain topic message is not an envelope with an event id",
          );
        }
      }
      const last = batch.messages[batch.messages.length - 1]!;
      await inTransaction(
        pool,
        async (tx) => {
          await insertDomainEvents(tx, rows);
          await saveOffset(tx, consumer, batch.topic, batch.partition, String(BigInt(last.offset) + 1n));
        },
        { isolation: "read committed" },
      );
    },
  });
}
