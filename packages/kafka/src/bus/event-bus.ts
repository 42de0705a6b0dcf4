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

/** A run of consecutive messages of one topic partition, in offset order. */
export interface IncomingBatch {
  topic: string;
  partition: number;
  /** At least one message. */
  messages: readonly IncomingMessage[];
}

export interface BatchSubscribeOptions {
  /** Consumer group: members of one group share the partitions; each group sees every message. */
  groupId: string;
  topics: readonly string[];
  /** Where a partition with no stored and no committed offset starts. Default: the beginning. */
  fromBeginning?: boolean;
  /** Most messages handed over in one batch. Default 1,000. */
  maxBatchSize?: number;
  /**
   * Batches of different partitions handled at once, so that one batch's
   * decoding overlaps another's database work. Default 1. Batches of one
   * partition stay in order, one at a time. The in-process bus handles one
   * batch at a time whatever this says.
   */
  partitionsConcurrently?: number;
  /**
   * Where the consumer's own records (say a table written in the same
   * database transaction as its effects) say it stopped in a partition: the
   * offset of the next message to handle, as a decimal string, or undefined
   * when it has none. Asked each time the partition is assigned to this
   * member, before its first batch; the bus then resumes there rather than
   * at the group's committed offset, skipping what lies before and seeking
   * back to what lies after. The group's committed offset is still kept, a
   * step behind the consumer's own, for tools that read it.
   */
  storedOffset?(topic: string, partition: number): Promise<string | undefined>;
  /**
   * Called with each batch; the batches of one partition arrive in order,
   * one at a time. The batch counts as consumed only after it resolves;
   * when it throws, the batch is delivered again after a pause
   * (at-least-once), so it must be idempotent.
   */
  handleBatch(batch: IncomingBatch): Promise<void>;
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
  /**
   * Batch consumption with positions the consumer stores itself. Optional so
   * that wrappers of the interface keep compiling: call it through
   * `subscribeBatches(bus, options)`, which falls back to `subscribe`.
   */
  subscribeBatches?(options: BatchSubscribeOptions): Promise<Subscription>;
  close(): Promise<void>;
}
