/** A message to publish. `key` picks the partition: messages with one key stay in order. */
export interface OutgoingMessage {
  topic: string;
  key: string;
  value: Uint8Array;
  headers?: Record<string, string>;
}

/** A delivered message, with where it sits in its topic. */
export interface IncomingMessage {
  topic: string;
  partition: number;
  /** Decimal string: Kafka offsets are int64. */
  offset: string;
  key: string;
  value: Uint8Array;
  headers: Record<string, string>;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
}

export interface SubscribeOptions {
  /** Consumer group: members of one group share the partitions; each group sees every message. */
  groupId: string;
  topics: readonly string[];
  /** Where a group with no committed offset starts. Default: the beginning. */
  fromBeginning?: boolean;
  /**
   * Called once per message, in order within a partition. The offset is
   * committed only after it resolves; when it throws, the message is
   * delivered again after a pause (at-least-once), so it must be idempotent.
   */
  handle(message: IncomingMessage): Promise<void>;
}

export interface Subscription {
  /** Stops fetching, waits for the message in hand to finish, leaves the group. */
  stop(): Promise<void>;
}

/**
 * What the platform needs from Kafka. Two implementations keep the same
 * semantics: `KafkaBus` (kafkajs, a real broker) and `InProcessBus` (the
 * embedded default): ordered per key, at-least-once, consumer groups.
 */
export interface EventBus {
  ensureTopics(specs: readonly TopicSpec[]): Promise<void>;
  publish(messages: readonly OutgoingMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  close(): Promise<void>;
}
