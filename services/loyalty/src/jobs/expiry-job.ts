import { inTransaction, type DatabasePool } from "@money/db";
import type { Logger } from "@money/rpc";
import type { LoyaltyDeps } from "../domain/loyalty-deps.js";
import { expirePoints } from "../domain/points/expire-points.js";

/** Cards per transaction: short transactions keep card locks brief for the tills. */
const CARDS_PER_BATCH = 100;
/** Batches per run: a bounded run; the next tick continues. */
const MAX_BATCHES_PER_RUN = 100;

/**
 * Posts due expiries every `intervalMs`, in batches of cards, each batch its
 * own transaction. Runs never overlap; stop() waits for the one in flight.
 */
export class ExpiryJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly pool: DatabasePool,
    private readonly deps: LoyaltyDeps,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.intervalMs <= 0) return;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One run: batches until nothing is due or the run's bound is reached. */
  async runOnce(): Promise<{ lotsExpired: number; pointsExpired: bigint }> {
    const total = { lotsExpired: 0, pointsExpired: 0n };
    for (let batch = 0; batch < MAX_BATCHES_PER_RUN && !this.stopped; batch++) {
      const run = await inTransaction(
        this.pool,
        (tx) => expirePoints(tx, this.deps, { merchantId: undefined, maxCards: CARDS_PER_BATCH }),
        // Card row locks guard expiry, as they guard every posting (see rpc/idempotent.ts).
        { isolation: "read committed" },
      );
      total.lotsExpired += run.lotsExpired;
      total.pointsExpired += run.pointsExpired;
      if (run.cards < CARDS_PER_BATCH) break;
    }
    return total;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .then((total) => {
          if (total.lotsExpired > 0)
            this.log.info({ ...total, pointsExpired: total.pointsExpired.toString() }, "points expired");
        })
        .catch((error: unknown) =>
          this.log.warn({ err: error }, "points expiry run failed; retrying next tick"),
        )
        .finally(() => this.schedule());
    }, this.intervalMs);
    // The job never keeps a process alive on its own.
    this.timer.unref();
  }
}
