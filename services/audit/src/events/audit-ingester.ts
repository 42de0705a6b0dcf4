import { subscribeBatches, type EventBus, type Subscription } from "@money/kafka";
import type { DatabasePool } from "@money/db";
import type { Logger } from "@money/rpc";
import { storedOffset } from "../db/offsets-table.js";
import { appendBatch } from "../domain/ingest/append-batch.js";
import { PersonalRefCache } from "../domain/personal-data/personal-ref-cache.js";

export interface IngesterOptions {
  readonly bus: EventBus;
  readonly pool: DatabasePool;
  readonly log: Logger;
  readonly topic: string;
  /** Consumer group, and the name the stored offsets go by. */
  readonly consumer: string;
  readonly maxBatchSize: number;
}

/**
 * Consumes the audit topic in batches into the log. The position in each
 * partition is the one stored with the entries (consumer_offsets): the bus
 * resumes there on every assignment, and the sequencer skips what it says
 * was applied, so a replayed topic or a rewound group adds nothing.
 */
export function startIngester(options: IngesterOptions): Promise<Subscription> {
  const { pool, log, consumer } = options;
  const cache = new PersonalRefCache();
  return subscribeBatches(options.bus, {
    groupId: consumer,
    topics: [options.topic],
    fromBeginning: true,
    maxBatchSize: options.maxBatchSize,
    // While one batch holds the sequencer lock, the next one decodes.
    partitionsConcurrently: 2,
    storedOffset: async (topic, partition) =>
      (await storedOffset(pool, consumer, topic, partition)) ?? undefined,
    handleBatch: async (batch) => {
      try {
        const outcome = await appendBatch(pool, consumer, batch, new Date(), cache);
        log.debug({ partition: batch.partition, ...outcome }, "audit batch sequenced");
        if (outcome.rejected > 0) {
          log.warn(
            { partition: batch.partition, rejected: outcome.rejected },
            "audit topic held messages that are not audit events",
          );
        }
      } catch (error) {
        log.warn(
          { err: error, partition: batch.partition },
          "sequencing a batch failed; it will be delivered again",
        );
        throw error;
      }
    },
  });
}
