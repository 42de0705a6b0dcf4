import { setTimeout as sleep } from "node:timers/promises";
import { inTransaction, sql, type DatabasePool } from "@money/db";
import type { EventBus } from "./bus/event-bus.js";
import type { OutboxWriter } from "./outbox.js";

export interface RelayOptions {
  pool: DatabasePool;
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
 * Publishes the outbox to the bus in id order and marks what it published.
 *
 * It is woken in-process right after a transaction that wrote events
 * commits (no LISTEN/NOTIFY: a NOTIFY takes a lock at commit that would
 * serialise every writer), and polls as a backstop.
 *
 * Delivery is at-least-once by design: the relay publishes and then marks,
 * so a crash between the two publishes the batch again on restart and
 * consumers drop the duplicates through their inbox. Only one relay per
 * schema works at a time (a transaction-scoped advisory lock), which keeps
 * the per-key order when several replicas run.
 */
export class OutboxRelay {
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
    options.wakeOn?.onCommitted(() => this.poke());
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

  /** Publishes one batch; returns how many events it published (0 if another relay holds the lock). */
  async relayOnce(): Promise<number> {
    const { pool, bus } = this.options;
    return inTransaction(
      pool,
      async (tx) => {
        // The leader lock and the batch in one statement: a relay that is not
        // the leader reads no rows, as if there were nothing to publish.
        const rows = await tx.any(sql.unsafe`
          WITH leader AS (
            SELECT pg_try_advisory_xact_lock(hashtext('outbox-relay:' || current_schema())) AS held
          )
          SELECT id, topic, message_key, event_id, event_type, payload
          FROM outbox WHERE published_at IS NULL AND (SELECT held FROM leader)
          ORDER BY id LIMIT ${this.batchSize}
        `);
        if (rows.length === 0) return 0;
        // Publishing inside the transaction only holds the leader lock; the
        // publish itself is not rolled back, which is the at-least-once above.
        await bus.publish(
          rows.map((r) => ({
            topic: r["topic"] as string,
            key: r["message_key"] as string,
            value: r["payload"] as Buffer,
            headers: { "event-id": r["event_id"] as string, "event-type": r["event_type"] as string },
          })),
        );
        const ids = rows.map((r) => r["id"] as string);
        await tx.query(
          sql.unsafe`UPDATE outbox SET published_at = now() WHERE id = ANY(${sql.array(ids, "int8")})`,
        );
        return rows.length;
      },
      { isolation: "read committed", retries: 0 },
    );
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
