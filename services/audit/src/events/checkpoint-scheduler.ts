import type { DatabasePool } from "@money/db";
import type { Logger } from "@money/rpc";
import { LogIntegrityError, signTreeHead, type TreeHeadSigner } from "../domain/signing/sign-tree-head.js";

/**
 * Signs the log at a fixed interval when it grew. A log that no longer
 * extends its last checkpoint is never signed: each tick then logs the
 * alarm at error level until someone looks.
 */
export class CheckpointScheduler {
  private timer: NodeJS.Timeout | undefined;
  private tick: Promise<void> = Promise.resolve();
  private running = false;

  constructor(
    private readonly pool: DatabasePool,
    private readonly signer: TreeHeadSigner,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.running = true;
    this.schedule();
  }

  /** Stops after the tick in progress, if any. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.tick;
  }

  /** One signing attempt now; what the timer runs. */
  async signNow(): Promise<void> {
    try {
      const outcome = await signTreeHead(this.pool, this.signer, new Date());
      if (outcome.signed) this.log.info({ size: outcome.size }, "checkpoint signed");
    } catch (error) {
      if (error instanceof LogIntegrityError) {
        this.log.error(
          { err: error },
          "AUDIT LOG INTEGRITY ALARM: refusing to sign a log that rewrites its history",
        );
      } else {
        this.log.warn({ err: error }, "signing a checkpoint failed; retrying at the next tick");
      }
    }
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.tick = this.signNow().finally(() => this.schedule());
    }, this.intervalMs);
  }
}
