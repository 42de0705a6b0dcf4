import type { DatabasePool, PipelinedConnections } from "@money/db";
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
  deps: LoyaltyDeps & { pins: VerifiedPinCache };
  callers: Callers;
  deviceTokens: DeviceTokens;
  log: Logger;
}
