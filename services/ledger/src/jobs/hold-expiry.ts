import type { DatabasePool } from "@money/db";
import type { Logger } from "@money/rpc";
import type { LedgerEventSink } from "../domain/ledger-events.js";
import { expireHolds } from "../domain/pending/expire-holds.js";

/**
 * Voids holds past their timeout every `intervalMs`. One sweep runs at a
 * time; several replicas may sweep together, since each hold is voided under
 * its row lock and skipped once it is no longer open.
 */
export class HoldExpiry {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: DatabasePool,
    private readonly events: LedgerEventSink,
    private readonly log: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.sweeping = this.sweeping.then(() => this.sweep());
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  private async sweep(): Promise<void> {
    try {
      const voided = await expireHolds(this.pool, this.events);
      if (voided > 0) this.log.info({ voided }, "expired holds voided");
    } catch (error) {
      this.log.warn({ err: error }, "hold expiry sweep failed; retrying at the next tick");
    }
  }
}
