import { setTimeout as sleep } from "node:timers/promises";
import { sql, type PipelinedConnections } from "@money/db";
import type { EventBus } from "./bus/event-bus.js";
import { cutApart } from "./envelope-encoding.js";
import type { CommittedWrite, OutboxWriter } from "./outbox.js";

/** How many handed-over payloads a relay keeps at most (a few batches of a thousand postings). */
const MAX_HANDED_OVER = 20_000;

/** One write's events, lined up across the arrays (migration 0004). */
interface OutboxRow {
  /** bigserial, as text. */
  id: string;
  first_event_id: string;
  /**
   * The rest only when the pass read the rows whole (it was not handed them all): the arrays,
   * and the envelopes end to end, event i ending at payload_ends[i].
   */
  event_ids?: string[];
  topics?: string[];
  message_keys?: string[];
  event_types?: string[];
  payload?: Buffer;
  payload_ends?: number[];
}

/** A pass found rows it holds no payload for: it is rolled back and run again, reading them. */
class PayloadsNotHandedOver extends Error {}

/** Orders decimal id strings numerically (RETURNING does not keep the subquery's order). */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

export interface RelayOptions {
  /**
   * The service's database, on a pipelined connection: a pass is two round
   * trips (BEGIN with the statement that takes the batch, then COMMIT), not
   * three. Under load the relay runs a pass for about every other commit of
   * its service's writers.
   */
  connections: PipelinedConnections;
  bus: EventBus;
  /** Schema whose outbox this relay drains (for logs). */
  schema: string;
  /**
   * Wake the relay whenever this writer's transactions commit events, so
   * they go out at once instead of at the next poll.
   */
  wakeOn?: OutboxWriter;
  batchSize?: number;
  /**
   * Poll interval when nothing woke the relay: events written by another
   * process, or left behind by a crash.
   */
  idlePollMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * Publishes the outbox to the bus in id order and deletes what it published.
 *
 * It is woken in-process right after a transaction that wrote events
 * commits (no LISTEN/NOTIFY: a NOTIFY takes a lock at commit that would
 * serialise every writer), and polls as a backstop.
 *
 * Delivery is at-least-once by design: the relay publishes and then deletes,
 * so a crash between the two publishes the batch again on restart and
 * consumers drop the duplicates through their inbox. Only one relay per
 * schema works at a time (a transaction-scoped advisory lock), which keeps
 * the per-key order when several replicas run.
 */
export class OutboxRelay {
  /**
   * The outbox rows committed in this process, by their first event id, handed over by `wakeOn`
   * after each commit: a pass publishes them from here, reading back only the ids of the rows it
   * deletes, and reads whole from the table only what it lacks (rows of other processes, a restart's backlog, a full cache). `seq`
   * orders hand-overs against passes, to forget the ones another relay published.
   */
  private readonly handedOver = new Map<string, { write: CommittedWrite; seq: number }>();
  /** Events held in handedOver. */
  private handedOverEvents = 0;
  private handOvers = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: () => void = () => {};
  /** A wake-up arrived since the current pass began: its rows may not be in that pass. */
  private poked = false;
  private readonly batchSize: number;
  private readonly idlePollMs: number;

  constructor(private readonly options: RelayOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.idlePollMs = options.idlePollMs ?? 250;
    options.wakeOn?.onCommitted((write) => {
      this.remember(write);
      this.poke();
    });
  }

  private remember(write: CommittedWrite): void {
    // Bounded: a relay that cannot publish (the bus is down) must not hold every payload since.
    if (this.handedOverEvents + write.payloads.length > MAX_HANDED_OVER) return;
    this.handedOver.set(write.eventIds[0]!, { write, seq: ++this.handOvers });
    this.handedOverEvents += write.payloads.length;
  }

  private forget(firstEventId: string): void {
    const held = this.handedOver.get(firstEventId);
    if (held === undefined) return;
    this.handedOver.delete(firstEventId);
    this.handedOverEvents -= held.write.payloads.length;
  }

  /** Asks for a pass now: events were just committed. */
  poke(): void {
    // Remembered as well as signalled: during a pass nobody waits on wake().
    this.poked = true;
    this.wake();
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops the loop after a last pass, so events committed before shutdown are published. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    await this.loop;
    await this.relayOnce().catch((error: unknown) => this.options.onError?.(error));
  }

  /**
   * Publishes one batch of at least batchSize events, or all there are (whole rows: at least
   * one); returns how many events it published (0 if another relay holds the lock).
   *
   * The rows are deleted by the statement that picks them, and the deletion commits only after
   * the publish succeeded: a failed publish or a crash before the commit leaves them in the
   * outbox, to be sent again (at-least-once, as above).
   */
  async relayOnce(): Promise<number> {
    const handedOverBefore = this.handOvers;
    // Payloads come back from the table only when a pass finds a row it was not handed (another
    // process's events, a restart's backlog): that pass is rolled back and run again with them.
    // Holding none (a relay not woken by a writer, a fresh start), it asks for them at once.
    const published =
      this.handedOver.size === 0
        ? await this.publishBatch(true)
        : await this.publishBatch(false).catch((error: unknown) => {
            if (error instanceof PayloadsNotHandedOver) return this.publishBatch(true);
            throw error;
          });
    for (const firstEventId of published.rows) this.forget(firstEventId);
    if (published.events < this.batchSize) {
      // The pass saw every committed row, or another relay leads: what was handed over before
      // it and is still here is (or will be) published by another relay, which reads it from
      // the table. Forgetting a payload never loses its event, only costs reading it.
      for (const [firstEventId, { seq }] of this.handedOver) {
        if (seq <= handedOverBefore) this.forget(firstEventId);
      }
    }
    return published.events;
  }

  /**
   * One pass: takes the oldest rows out of the outbox and publishes their events; the first
   * event ids of the rows published, and how many events they held.
   */
  private async publishBatch(withPayloads: boolean): Promise<{ rows: string[]; events: number }> {
    const { connections, bus } = this.options;
    return connections.transaction(async (tx) => {
      // One statement takes the leader lock, deletes the oldest rows and returns them (nothing
      // when another relay leads): whole rows, while fewer than batchSize events came before.
      // The deletion's commit need not wait for the disk: if a crash loses it, the rows are
      // published again, which delivery tolerates anyway (see above).
      const rows = (await tx.query(sql.unsafe`
          WITH leader AS (
            SELECT pg_try_advisory_xact_lock(hashtext('outbox-relay:' || current_schema())) AS is_leader,
                   set_config('synchronous_commit', 'off', true)
          ), oldest AS (
            SELECT id, sum(cardinality(event_ids)) OVER (ORDER BY id) - cardinality(event_ids) AS events_before
            FROM outbox WHERE (SELECT is_leader FROM leader) ORDER BY id LIMIT ${this.batchSize}
          )
          DELETE FROM outbox o USING oldest WHERE o.id = oldest.id AND oldest.events_before < ${this.batchSize}
          RETURNING o.id, o.event_ids[1] AS first_event_id${withPayloads ? sql.fragment`, o.event_ids, o.topics, o.message_keys, o.event_types, o.payload, o.payload_ends` : sql.fragment``}
        `)) as unknown as OutboxRow[];
      if (rows.length === 0) return { rows: [], events: 0 };
      if (!withPayloads && rows.some((r) => !this.handedOver.has(r.first_event_id)))
        throw new PayloadsNotHandedOver();
      rows.sort((a, b) => compareIds(a.id, b.id));
      const messages = rows.flatMap((r) => {
        const write: CommittedWrite = r.payload
          ? {
              eventIds: r.event_ids!,
              topics: r.topics!,
              keys: r.message_keys!,
              eventTypes: r.event_types!,
              payloads: cutApart(r.payload, r.payload_ends!),
            }
          : this.handedOver.get(r.first_event_id)!.write;
        return write.eventIds.map((eventId, i) => ({
          topic: write.topics[i]!,
          key: write.keys[i]!,
          value: write.payloads[i]!,
          headers: { "event-id": eventId, "event-type": write.eventTypes[i]! },
        }));
      });
      // Publishing inside the transaction only holds the leader lock; the
      // publish itself is not rolled back, which is the at-least-once above.
      // At most batchSize messages per publish, in order, as when a row held
      // one event: one large write (a batch of a thousand postings is one row)
      // must not become a produce request the broker refuses for its size.
      for (let from = 0; from < messages.length; from += this.batchSize) {
        await bus.publish(messages.slice(from, from + this.batchSize));
      }
      return { rows: rows.map((r) => r.first_event_id), events: messages.length };
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let published: number;
      this.poked = false;
      try {
        published = await this.relayOnce();
        failures = 0;
      } catch (error) {
        failures++;
        this.options.onError?.(error);
        await sleep(Math.min(5_000, 100 * 2 ** Math.min(failures, 6)));
        continue;
      }
      if (published < this.batchSize) await this.idle();
    }
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.running || this.poked) return resolve();
      const timer = setTimeout(resolve, this.idlePollMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
