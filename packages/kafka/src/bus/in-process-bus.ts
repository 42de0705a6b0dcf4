import { setTimeout as sleep } from "node:timers/promises";
import type { EventBus, IncomingMessage, OutgoingMessage, SubscribeOptions, Subscription, TopicSpec } from "./event-bus.js";
import { partitionFor } from "./partition-for.js";

interface StoredMessage {
  key: string;
  value: Uint8Array;
  headers: Record<string, string>;
}

interface Topic {
  partitions: StoredMessage[][];
}

/** A group's committed position per topic partition, shared by its members. */
type GroupOffsets = Map<string, number>;

const REDELIVERY_PAUSE_MS = 200;

/**
 * EventBus inside one process, for the embedded default (`npm start` with no
 * Kafka). It keeps Kafka's semantics that the services rely on: a topic has
 * partitions, a key always maps to the same partition so its messages stay in
 * order, each consumer group has its own committed offsets, and a message
 * whose handler throws is delivered again (at-least-once). Messages live in
 * memory only.
 */
export class InProcessBus implements EventBus {
  private readonly topics = new Map<string, Topic>();
  private readonly groups = new Map<string, GroupOffsets>();
  private readonly wakers = new Set<() => void>();
  /** Which subscription loop owns a group's partition ("group|topic/partition"). */
  private readonly claims = new Map<string, symbol>();
  private closed = false;

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    for (const spec of specs) {
      if (!this.topics.has(spec.topic)) {
        this.topics.set(spec.topic, { partitions: Array.from({ length: spec.partitions }, () => []) });
      }
    }
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    for (const m of messages) {
      const topic = this.topics.get(m.topic);
      if (!topic) throw new Error(`topic ${m.topic} does not exist`);
      topic.partitions[partitionFor(m.key, topic.partitions.length)]!.push({
        key: m.key,
        value: m.value,
        headers: m.headers ?? {},
      });
    }
    for (const wake of this.wakers) wake();
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    let offsets = this.groups.get(options.groupId);
    if (!offsets) {
      offsets = new Map();
      this.groups.set(options.groupId, offsets);
    }
    const groupOffsets = offsets;
    let running = true;
    let wake: () => void = () => {};
    const waker = () => wake();
    this.wakers.add(waker);
    const claimed = this.claims;
    const owner = Symbol(options.groupId);

    // One loop per subscription walks every partition of its topics; a
    // partition is claimed by at most one member of a group at a time.
    const loop = (async () => {
      while (running && !this.closed) {
        let delivered = 0;
        for (const topicName of options.topics) {
          const topic = this.topics.get(topicName);
          if (!topic) continue;
          for (let p = 0; p < topic.partitions.length && running; p++) {
            const slot = `${topicName}/${p}`;
            const claim = `${options.groupId}|${slot}`;
            if (claimed.has(claim) && claimed.get(claim) !== owner) continue;
            claimed.set(claim, owner);
            const log = topic.partitions[p]!;
            const start = groupOffsets.get(slot) ?? (options.fromBeginning === false ? log.length : 0);
            for (let offset = start; offset < log.length && running; offset++) {
              const stored = log[offset]!;
              const message: IncomingMessage = { topic: topicName, partition: p, offset: String(offset), ...stored };
              try {
                await options.handle(message);
              } catch {
                // At-least-once: leave the offset where it is and try again shortly.
                await sleep(REDELIVERY_PAUSE_MS);
                break;
              }
              groupOffsets.set(slot, offset + 1);
              delivered++;
            }
            if (!groupOffsets.has(slot)) groupOffsets.set(slot, start);
          }
        }
        if (delivered === 0) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 500).unref();
          });
        }
      }
    })();

    return {
      stop: async () => {
        running = false;
        wake();
        await loop;
        this.wakers.delete(waker);
        for (const [claim, claimant] of claimed) if (claimant === owner) claimed.delete(claim);
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.wakers) wake();
  }
}
