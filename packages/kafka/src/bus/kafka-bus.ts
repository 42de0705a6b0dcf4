import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Kafka, logLevel, type Admin, type Consumer, type KafkaMessage, type Producer } from "kafkajs";
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

export interface KafkaBusOptions {
  brokers: readonly string[];
  clientId: string;
}

/** EventBus on a real Kafka cluster. The only place the platform touches kafkajs. */
export class KafkaBus implements EventBus {
  private readonly kafka: Kafka;
  private producer: Producer | undefined;
  private producerReady: Promise<Producer> | undefined;
  private readonly subscriptions = new Set<Subscription>();
  /** Every socket kafkajs opened for this bus and has not closed yet. */
  private readonly sockets = new Set<net.Socket>();

  constructor(options: KafkaBusOptions) {
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: logLevel.ERROR,
      // Retries bounded in time: a broker restart takes a few seconds; a broker that stays gone is an error.
      retry: { initialRetryTime: 100, retries: 12, maxRetryTime: 5_000 },
      // kafkajs's own socket factory, plus bookkeeping for close() below.
      socketFactory: ({ host, port, onConnect }) => {
        const socket = net.connect({ host, port }, onConnect);
        socket.setKeepAlive(true, 60_000);
        this.sockets.add(socket);
        socket.once("close", () => this.sockets.delete(socket));
        return socket;
      },
    });
  }

  /**
   * Creates the topics that are missing. Two processes starting at once on a
   * fresh broker race here: the loser's wait for leaders can ask for a topic
   * the winner created a moment ago and get UNKNOWN_TOPIC_OR_PARTITION, so a
   * failed round lists the topics again and retries.
   */
  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    const admin: Admin = this.kafka.admin();
    await admin.connect();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const existing = new Set(await admin.listTopics());
          const missing = specs.filter((s) => !existing.has(s.topic));
          if (missing.length === 0) return;
          await admin.createTopics({
            waitForLeaders: true,
            topics: missing.map((s) => ({
              topic: s.topic,
              numPartitions: s.partitions,
              replicationFactor: 1,
            })),
          });
          return;
        } catch (error) {
          if (attempt >= 10) throw error;
          await sleep(200 * attempt);
        }
      }
    } finally {
      await admin.disconnect();
    }
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const producer = await this.connectedProducer();
    const byTopic = new Map<string, OutgoingMessage[]>();
    for (const m of messages) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), m]);
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, list]) => ({
        topic,
        messages: list.map((m) => ({ key: m.key, value: Buffer.from(m.value), headers: m.headers ?? {} })),
      })),
    });
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    return this.consumeUntilStopped(async () => {
      const consumer = this.kafka.consumer(consumerConfig(options.groupId));
      await consumer.connect();
      await consumer.subscribe({ topics: [...options.topics], fromBeginning: options.fromBeginning ?? true });
      await consumer.run({
        partitionsConsumedConcurrently: 4,
        eachMessage: async ({ topic, partition, message }) => {
          await options.handle(incomingOf(topic, partition, message));
        },
      });
      return consumer;
    });
  }

  /**
   * Keeps a consumer made by `start` running until the subscription stops.
   *
   * Why: kafkajs restarts a crashed consumer only when it deems the error
   * retriable, and some errors a broker restart causes are not ("Failed to
   * find group coordinator" while rejoining): that consumer then stays down,
   * and the subscription would stop consuming without a word. Such a crash
   * starts a new consumer in the group after a pause, until one runs.
   */
  private async consumeUntilStopped(start: () => Promise<Consumer>): Promise<Subscription> {
    let stopped = false;
    let current: Consumer | undefined;
    const launch = async (): Promise<void> => {
      const consumer = await start();
      current = consumer;
      if (stopped) return void (await consumer.disconnect());
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (payload.restart || stopped) return;
        void (async () => {
          for (let attempt = 1; !stopped; attempt++) {
            await sleep(Math.min(CONSUMER_RELAUNCH_MAX_MS, 200 * attempt));
            if (stopped) return;
            try {
              return await launch();
            } catch {
              // The broker may still be coming back: try again.
            }
          }
        })();
      });
    };
    await launch();
    const subscription: Subscription = {
      stop: async () => {
        stopped = true;
        this.subscriptions.delete(subscription);
        await current?.disconnect();
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async subscribeBatches(options: BatchSubscribeOptions): Promise<Subscription> {
    const maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    // Bigger fetches than the default 1 MB per partition: a batch consumer
    // pays its per-batch costs (a transaction, say) less often.
    // And a fetch the broker holds back a moment to fill: under load a batch
    // then carries the messages of several producers' commits, not one.
    return this.consumeUntilStopped(async () => {
      const consumer = this.kafka.consumer({
        ...consumerConfig(options.groupId),
        maxBytesPerPartition: BATCH_FETCH_BYTES_PER_PARTITION,
        minBytes: BATCH_FETCH_MIN_BYTES,
        maxWaitTimeInMs: BATCH_FETCH_MAX_WAIT_MS,
      });
      // Where the consumer's own records say each assigned partition resumes.
      // Every join (a rebalance) asks again, since another member may have
      // moved a partition on, and seeks there at once: with nothing new after
      // the group's committed offset, no batch would ever come to seek from.
      const resumes = new Map<string, Resume>();
      if (options.storedOffset) {
        const storedOffset = options.storedOffset;
        consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
          resumes.clear();
          for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
            for (const partition of partitions) {
              const resume: Resume = {
                offset: storedOffset(topic, partition).then(
                  (offset) => {
                    if (offset !== undefined) consumer.seek({ topic, partition, offset });
                    return offset;
                  },
                  () => undefined,
                ),
                skipped: false,
              };
              resumes.set(`${topic}/${partition}`, resume);
            }
          }
        });
      }
      await consumer.connect();
      await consumer.subscribe({ topics: [...options.topics], fromBeginning: options.fromBeginning ?? true });
      await consumer.run({
        autoCommit: true,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.partitionsConcurrently ?? 1,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          const { topic, partition } = batch;
          let messages = batch.messages;
          const slot = `${topic}/${partition}`;
          const resume = resumes.get(slot);
          if (resume) {
            const stored = await resume.offset;
            const first = messages[0];
            if (
              stored !== undefined &&
              first !== undefined &&
              BigInt(first.offset) > BigInt(stored) &&
              !resume.skipped
            ) {
              // Fetched before the seek took effect: drop it, the next fetch
              // starts at the stored offset. Once only: if those offsets are
              // gone from the broker, the fetch resumes at the earliest it has.
              resume.skipped = true;
              return;
            }
            resumes.delete(slot);
            if (stored !== undefined) messages = messages.filter((m) => BigInt(m.offset) >= BigInt(stored));
          }
          for (let start = 0; start < messages.length; start += maxBatchSize) {
            if (!isRunning() || isStale()) return;
            const chunk = messages.slice(start, start + maxBatchSize);
            const incoming = {
              topic,
              partition,
              messages: chunk.map((m) => incomingOf(topic, partition, m)),
            };
            // A batch that fails is delivered again here, after a growing
            // pause, rather than by kafkajs: kafkajs gives up on a consumer
            // whose handler keeps throwing, and the subscription would stop
            // without a word.
            for (let attempt = 0; ; attempt++) {
              try {
                await options.handleBatch(incoming);
                break;
              } catch {
                if (!isRunning() || isStale()) return;
                await sleep(Math.min(BATCH_RETRY_MAX_MS, 100 * 2 ** Math.min(attempt, 10)));
                await heartbeat();
              }
            }
            resolveOffset(chunk[chunk.length - 1]!.offset);
            await heartbeat();
          }
          // Skipped messages count as consumed too.
          const last = batch.messages[batch.messages.length - 1];
          if (last !== undefined && messages.length === 0) resolveOffset(last.offset);
        },
      });
      return consumer;
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    if (this.producerReady) await (await this.producerReady.catch(() => undefined))?.disconnect();
    this.producer = undefined;
    this.producerReady = undefined;
    // After a broker restart kafkajs can reconnect a group coordinator it no
    // longer lists, and its disconnect() then leaves that socket open: the
    // process would not exit until the broker drops it (10 minutes idle).
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private connectedProducer(): Promise<Producer> {
    this.producerReady ??= (async () => {
      // Idempotent producer: a retried send after a lost ack is not written twice,
      // and with one request in flight the order per partition is kept.
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      this.producer = producer;
      return producer;
    })().catch((error: unknown) => {
      // Forget the failed attempt, or every later publish would fail with it
      // even after the broker is back.
      this.producerReady = undefined;
      throw error;
    });
    return this.producerReady;
  }
}

function incomingOf(topic: string, partition: number, message: KafkaMessage): IncomingMessage {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key?.toString("utf8") ?? "",
    value: message.value ?? new Uint8Array(),
    headers: Object.fromEntries(
      Object.entries(message.headers ?? {}).map(([k, v]) => [
        k,
        Buffer.isBuffer(v) ? v.toString("utf8") : String(v ?? ""),
      ]),
    ),
  };
}

/** A partition's stored offset, being applied after an assignment. */
interface Resume {
  readonly offset: Promise<string | undefined>;
  /** A batch from before the seek was dropped already. */
  skipped: boolean;
}

/** Longest pause between two deliveries of a batch whose handler keeps failing. */
/** The longest pause before a consumer that kafkajs gave up on is started again. */
const CONSUMER_RELAUNCH_MAX_MS = 5_000;
const BATCH_RETRY_MAX_MS = 5_000;
const BATCH_FETCH_BYTES_PER_PARTITION = 4 * 1024 * 1024;
/**
 * A batch fetch is answered once this much is waiting, or after
 * BATCH_FETCH_MAX_WAIT_MS: the longest a message waits for company, and
 * (idle) how often the consumer polls. The refund bench measured 10 ms as
 * the better trade (it halved the broker's CPU per refund; 25 ms saved a
 * little more CPU but lost more in latency). KAFKA_BATCH_MIN_BYTES and
 * KAFKA_BATCH_MAX_WAIT_MS override them for such measurements.
 */
const BATCH_FETCH_MIN_BYTES = Number(process.env["KAFKA_BATCH_MIN_BYTES"] ?? 64 * 1024);
const BATCH_FETCH_MAX_WAIT_MS = Number(process.env["KAFKA_BATCH_MAX_WAIT_MS"] ?? 10);

function consumerConfig(groupId: string) {
  return {
    groupId,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    // The broker answers a fetch as soon as a message arrives; the wait only
    // bounds an idle poll, and with it how long a stop waits for the poll to end.
    maxWaitTimeInMs: 1_000,
    retry: { initialRetryTime: 100, retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 2_000 },
  };
}
