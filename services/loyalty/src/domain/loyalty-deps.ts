import type { AuditRecorder } from "@money/kafka";
import type { Clock } from "./clock.js";
import type { ProgramCache } from "./programs/program-cache.js";

/** What the loyalty use cases write through, beside the transaction they are given. */
export interface LoyaltyDeps {
  /** Audit events, and with them the domain events of the same change, through the outbox. */
  audit: AuditRecorder;
  clock: Clock;
  programs: ProgramCache;
}
