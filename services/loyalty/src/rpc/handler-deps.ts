import type { DatabasePool, PipelinedConnections } from "@money/db";
import type { OutboxWriter } from "@money/kafka";
import type { Logger } from "@money/rpc";
import type { LoyaltyDeps } from "../domain/loyalty-deps.js";
import type { VerifiedPinCache } from "../domain/staff/pin-hash.js";
import type { Callers } from "./callers.js";
import type { DeviceTokens } from "./device-tokens.js";

/** What the loyalty handlers are built on. */
export interface HandlerDeps {
  pool: DatabasePool;
  /** The group commit's connections (see PostingGroupCommit). */
  pipelined: PipelinedConnections;
  /** `outbox` is the one `audit` writes through: the group commit folds its events into its own statement. */
  deps: LoyaltyDeps & { pins: VerifiedPinCache; outbox: OutboxWriter };
  callers: Callers;
  deviceTokens: DeviceTokens;
  log: Logger;
}
