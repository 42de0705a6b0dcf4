import type { AuditRecorder, OutboxWriter } from "@money/kafka";
import type { Clock } from "./clock.js";

/** What the loyalty use cases write through, beside the transaction they are given. */
export interface LoyaltyDeps {
  outbox: OutboxWriter;
  audit: AuditRecorder;
  clock: Clock;
}
