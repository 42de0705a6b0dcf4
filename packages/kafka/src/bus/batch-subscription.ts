import type { BatchSubscribeOptions, EventBus, Subscription } from "./event-bus.js";

/** Default `maxBatchSize` of `BatchSubscribeOptions`. */
export const DEFAULT_MAX_BATCH_SIZE = 1_000;

/**
 * Subscribes with `bus.subscribeBatches` when the bus has it. A bus without
 * it (a test double wrapping another bus, say) gets the same contract from
 * `subscribe`, a batch of one message at a time: messages before the stored
 * offset of their partition are skipped, asked once per partition. Such a
 * bus cannot seek, so a stored offset ahead of the group's committed one is
 * only honoured by skipping up to it.
 */
export function subscribeBatches(bus: EventBus, options: BatchSubscribeOptions): Promise<Subscription> {
  if (bus.subscribeBatches) return bus.subscribeBatches(options);
  const resumeAt = new Map<string, bigint | null>();
  return bus.subscribe({
    groupId: options.groupId,
    topics: options.topics,
    ...(options.fromBeginning === undefined ? {} : { fromBeginning: options.fromBeginning }),
    handle: async (message) => {
      const key = `${message.topic}/${message.partition}`;
      if (options.storedOffset && !resumeAt.has(key)) {
        const stored = await options.storedOffset(message.topic, message.partition);
        resumeAt.set(key, stored === undefined ? null : BigInt(stored));
      }
      const from = resumeAt.get(key);
      if (from !== undefined && from !== null && BigInt(message.offset) < from) return;
      await options.handleBatch({ topic: message.topic, partition: message.partition, messages: [message] });
    },
  });
}
