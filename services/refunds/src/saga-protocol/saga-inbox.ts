import { inTransaction, sql, type DatabasePool, type DatabaseTransactionConnection } from "@money/db";
import { decodeEnvelope, subscribeBatches, type EventBus, type Subscription } from "@money/kafka";
import type { EventEnvelope } from "@money/proto/events/v1/envelope_pb";

export interface SagaInboxOptions {
  bus: EventBus;
  pool: DatabasePool;
  /** Names both the consumer group and the inbox rows. */
  consumer: string;
  topic: string;
  /** Where a new group starts (see sagaStartsFromBeginning). */
  fromBeginning: boolean;
  /** The event type this consumer handles (the message's event-type header); others are skipped undecoded. */
  eventType: string;
  /** Whether an envelope of that type is this consumer's; the others are acknowledged without a transaction. */
  keep(envelope: EventEnvelope): boolean;
  /**
   * Applies the batch's envelopes not handled before, in order, inside the
   * batch's transaction, which also records them in the inbox. Throwing
   * rolls the whole batch back and the bus delivers it again.
   */
  handle(tx: DatabaseTransactionConnection, envelopes: readonly EventEnvelope[]): Promise<void>;
}

/**
 * The saga's consumers' inbox, a batch at a time: the runs of messages the
 * bus hands over for its partitions at about the same time share one
 * database transaction and one inbox statement, however many of them are
 * this consumer's, rather than a transaction per message or per partition
 * (each commit is a WAL flush, and each transaction a dozen round trips).
 * Exactly-once effect as with the platform's inbox: an event id is handled
 * once per consumer, however often it is delivered. Messages of a partition
 * are handled in order; partitions are handled side by side.
 */
export function subscribeSagaInbox(options: SagaInboxOptions): Promise<Subscription> {
  const commits = new GroupCommit((envelopes) => applyInTransaction(options, envelopes));
  return subscribeBatches(options.bus, {
    groupId: options.consumer,
    topics: [options.topic],
    fromBeginning: options.fromBeginning,
    partitionsConcurrently: PARTITIONS_IN_FLIGHT,
    handleBatch: async (batch) => {
      const mine: EventEnvelope[] = [];
      for (const message of batch.messages) {
        if (message.headers["event-type"] !== options.eventType) continue;
        const envelope = decodeEnvelope(message.value);
        if (options.keep(envelope)) mine.push(envelope);
      }
      if (mine.length > 0) await commits.apply(mine);
    },
  });
}

/** Records the envelopes in the inbox and handles those not handled before, in one transaction. */
function applyInTransaction(options: SagaInboxOptions, envelopes: readonly EventEnvelope[]): Promise<void> {
  return inTransaction(
    options.pool,
    async (tx) => {
      const fresh = new Set(
        (
          (await tx.anyFirst(sql.unsafe`
          INSERT INTO inbox (consumer, event_id, event_type)
          SELECT ${options.consumer}, event_id, event_type
          FROM ${sql.unnest(
            envelopes.map((e) => [e.eventId, e.eventType]),
            ["uuid", "text"],
          )} AS m(event_id, event_type)
          ON CONFLICT DO NOTHING RETURNING event_id
        `)) as string[]
        ).map(uuidDigits),
      );
      // A copy within one batch counts once too. Postgres answers with its own
      // spelling of each uuid, which need not be the sender's: compare digits.
      const firsts = envelopes.filter((envelope) => fresh.delete(uuidDigits(envelope.eventId)));
      if (firsts.length > 0) await options.handle(tx, firsts);
    },
    { isolation: "read committed" },
  );
}

/**
 * Group commit of the partitions' batches: a batch that arrives while a
 * transaction is being scheduled or is running waits for the next one, which
 * takes every batch waiting by then, in arrival order (so each partition's
 * messages keep their order). One transaction runs at a time. A shared
 * transaction that fails is tried again batch by batch, so one batch that
 * cannot be applied holds up only its own partition.
 */
class GroupCommit {
  private waiting: { envelopes: readonly EventEnvelope[]; done: (error?: unknown) => void }[] = [];
  private running = false;

  constructor(private readonly commit: (envelopes: readonly EventEnvelope[]) => Promise<void>) {}

  apply(envelopes: readonly EventEnvelope[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ envelopes, done: (error) => (error === undefined ? resolve() : reject(error)) });
      // The next turn of the event loop, not now: the bus starts the other
      // partitions' batches of one fetch right after this one.
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const group = this.waiting;
      this.waiting = [];
      try {
        await this.commit(group.flatMap((batch) => batch.envelopes));
        for (const batch of group) batch.done();
      } catch (error) {
        if (group.length === 1) group[0]!.done(error);
        else await this.commitOneByOne(group);
      }
    }
    this.running = false;
  }

  private async commitOneByOne(group: typeof this.waiting): Promise<void> {
    for (const batch of group) {
      try {
        await this.commit(batch.envelopes);
        batch.done();
      } catch (error) {
        batch.done(error);
      }
    }
  }
}

/**
 * Partitions of one topic whose batches are in flight at once: all six, so
 * that the batches of one fetch share a transaction (see GroupCommit), while
 * each partition keeps its order.
 */
const PARTITIONS_IN_FLIGHT = 6;

/** A uuid's 32 hex digits, lower case: the same for every spelling Postgres accepts. */
function uuidDigits(id: string): string {
  return id.toLowerCase().replace(/[^0-9a-f]/g, "");
}
