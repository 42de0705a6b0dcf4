import { setTimeout as sleep } from "node:timers/promises";
import { DEFAULT_MAX_BATCH_SIZE } from "./batch-subscription.js";
import type {
  BatchSubscribeOptions,
  EventBus,
  IncomingMessage,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from "./event-bus.js";
import { partitionFor } from "./partition-for.js";

interface StoredMessage {
  key: string;
  value: Uint8Array;
  headers: Record<string, string>;
}

/** A partition's retained messages: `messages[0]` has offset `base`; offsets never change. */
interface PartitionLog {
  base: number;
  messages: StoredMessage[];
}

interface Topic {
  partitions: PartitionLog[];
}

export interface InProcessBusOptions {
  /**
   * Messages kept per partition; older ones are dropped, as Kafka's retention
   * drops old segments. A group positioned before the oldest kept message
   * resumes at it (Kafka's auto.offset.reset=earliest). Default 100,000.
   */
  retainPerPartition?: number;
}

const DEFAULT_RETAIN_PER_PARTITION = 100_000;

/** A group's committed position per topic partition, shared by its members. */
type GroupOffsets = Map<string, number>;

/** What a subscription loop needs, for one message at a time or for batches. */
interface Consumption {
  groupId: string;
  topics: readonly string[];
  fromBeginning: boolean | undefined;
  maxBatchSize: number;
  storedOffset: ((topic: string, partition: number) => Promise<string | undefined>) | undefined;
  deliver(topic: string, partition: number, messages: IncomingMessage[]): Promise<void>;
}

const REDELIVERY_PAUSE_MS = 200;

/**
 * EventBus inside one process, for the embedded default (`npm start` with no
 * Kafka). It keeps Kafka's semantics that the services rely on: a topic has
 * partitions, a key always maps to the same partition so its messages stay in
 * order, each consumer group has its own committed offsets, and a message
 * whose handler throws is delivered again (at-least-once). Messages live in
 * memory only, and only the newest of each partition are kept (a long-running
 * embedded platform would otherwise hold every event it ever published).
 */
export class InProcessBus implements EventBus {
  private readonly retainPerPartition: number;
  private readonly topics = new Map<string, Topic>();
  private readonly groups = new Map<string, GroupOffsets>();
  private readonly wakers = new Set<() => void>();
  /** Which subscription loop owns a group's partition ("group|topic/partition"). */
  private readonly claims = new Map<string, symbol>();
  /**
   * Live members of each group in join order. Partition p of a topic goes to
   * member p % count among the members subscribed to that topic.
   */
  private readonly members = new Map<string, { owner: symbol; topics: readonly string[] }[]>();
  private closed = false;

  constructor(options: InProcessBusOptions = {}) {
    this.retainPerPartition = options.retainPerPartition ?? DEFAULT_RETAIN_PER_PARTITION;
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    for (const spec of specs) {
      if (!this.topics.has(spec.topic)) {
        this.topics.set(spec.topic, {
          partitions: Array.from({ length: spec.partitions }, () => ({ base: 0, messages: [] })),
        });
      }
    }
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    for (const m of messages) {
      const topic = this.topics.get(m.topic);
      if (!topic) throw new Error(`topic ${m.topic} does not exist`);
      const log = topic.partitions[partitionFor(m.key, topic.partitions.length)]!;
      log.messages.push({ key: m.key, value: m.value, headers: m.headers ?? {} });
      // Dropped a tenth at a time, so that the copy is paid once per many messages.
      if (log.messages.length > this.retainPerPartition) {
        const drop = log.messages.length - this.retainPerPartition + Math.floor(this.retainPerPartition / 10);
        log.messages.splice(0, drop);
        log.base += drop;
      }
    }
    this.wakeAll();
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    return this.consume({
      groupId: options.groupId,
      topics: options.topics,
      fromBeginning: options.fromBeginning,
      maxBatchSize: 1,
      storedOffset: undefined,
      deliver: (_topic, _partition, messages) => options.handle(messages[0]!),
    });
  }

  async subscribeBatches(options: BatchSubscribeOptions): Promise<Subscription> {
    return this.consume({
      groupId: options.groupId,
      topics: options.topics,
      fromBeginning: options.fromBeginning,
      maxBatchSize: options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE,
      storedOffset: options.storedOffset,
      deliver: (topic, partition, messages) => options.handleBatch({ topic, partition, messages }),
    });
  }

  private async consume(options: Consumption): Promise<Subscription> {
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
    let members = this.members.get(options.groupId);
    if (!members) {
      members = [];
      this.members.set(options.groupId, members);
    }
    const groupMembers = members;
    groupMembers.push({ owner, topics: options.topics });
    // A join is a rebalance: the members already running give up what is no longer theirs.
    this.wakeAll();

    // One loop per subscription walks every partition of its topics. The
    // partitions are split between the group's members as Kafka's assignor
    // would; a member takes a partition only once its previous owner has let
    // go of it (after the message in hand), so no message of a group is ever
    // handled by two members at once.
    const loop = (async () => {
      while (running && !this.closed) {
        let delivered = 0;
        for (const topicName of options.topics) {
          const topic = this.topics.get(topicName);
          if (!topic) continue;
          const assignees = groupMembers.filter((m) => m.topics.includes(topicName));
          for (let p = 0; p < topic.partitions.length && running; p++) {
            const slot = `${topicName}/${p}`;
            const claim = `${options.groupId}|${slot}`;
            const holder = claimed.get(claim);
            if (assignees[p % assignees.length]?.owner !== owner) {
              if (holder === owner) {
                claimed.delete(claim);
                this.wakeAll();
              }
              continue;
            }
            if (holder !== undefined && holder !== owner) continue;
            claimed.set(claim, owner);
            const log = topic.partitions[p]!;
            if (holder !== owner && options.storedOffset) {
              // Newly assigned: resume where the consumer's own records say.
              const stored = await options.storedOffset(topicName, p);
              if (stored !== undefined) groupOffsets.set(slot, Math.min(Number(stored), endOf(log)));
            }
            const position = groupOffsets.get(slot) ?? (options.fromBeginning === false ? endOf(log) : 0);
            const start = Math.max(position, log.base);
            // A position whose messages retention dropped (before this loop or while a batch
            // was being handled) resumes at the oldest kept one.
            for (let offset = start; (offset = Math.max(offset, log.base)) < endOf(log) && running;) {
              const end = Math.min(endOf(log), offset + options.maxBatchSize);
              const messages: IncomingMessage[] = [];
              for (let o = offset; o < end; o++) {
                messages.push({
                  topic: topicName,
                  partition: p,
                  offset: String(o),
                  ...log.messages[o - log.base]!,
                });
              }
              try {
                await options.deliver(topicName, p, messages);
              } catch {
                // At-least-once: leave the offset where it is and try again shortly.
                await sleep(REDELIVERY_PAUSE_MS);
                break;
              }
              groupOffsets.set(slot, end);
              delivered += end - offset;
              offset = end;
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
        groupMembers.splice(
          groupMembers.findIndex((m) => m.owner === owner),
          1,
        );
        for (const [claim, claimant] of claimed) if (claimant === owner) claimed.delete(claim);
        // The members that stay take over this one's partitions now, not at their next poll.
        this.wakeAll();
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeAll();
  }

  private wakeAll(): void {
    for (const wake of this.wakers) wake();
  }
}

/** The offset the partition's next message will have. */
const endOf = (log: PartitionLog): number => log.base + log.messages.length;
