import { inTransaction, type DatabasePool } from "@money/db";
import type { Logger } from "@money/rpc";
import { expireApprovals } from "../domain/expire-approvals.js";
import type { RefundsContext } from "../domain/refunds-context.js";
import { sweepDueSteps } from "../domain/saga/sweep-sagas.js";

/** At most this many refunds expire, and this many saga steps move, per sweep. */
const BATCH = 200;

/**
 * The refunds service's timer: on start and then every `intervalMs`, expires
 * refunds not approved in time and moves on sagas waiting on a deadline or a
 * retry, so a saga interrupted by a crash (a command or reply lost with a
 * process) resumes. Sweeps never overlap; a failed sweep is logged and the
 * next one tries again.
 */
export class SagaSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly pool: DatabasePool,
    private readonly context: RefundsContext,
    private readonly log: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One sweep; returns how many refunds expired and steps moved. */
  async sweepOnce(): Promise<{ expired: number; moved: number }> {
    let expired = 0;
    for (;;) {
      const n = await inTransaction(this.pool, (tx) => expireApprovals(tx, this.context, BATCH), {
        isolation: "read committed",
      });
      expired += n;
      if (n < BATCH) break;
    }
    const moved = await sweepDueSteps(this.pool, this.context, BATCH);
    return { expired, moved };
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sweepOnce().then(
        ({ expired, moved }) => {
          if (expired + moved > 0) this.log.info({ expired, moved }, "refunds sweep");
        },
        (error: unknown) =>
          this.log.warn({ err: error }, "refunds sweep failed; trying again at the next one"),
      );
      void this.running.finally(() => this.schedule(this.intervalMs));
    }, delayMs);
    this.timer.unref();
  }
}
