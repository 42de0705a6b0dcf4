import { fileURLToPath } from "node:url";
import { file_loyalty_v1_events } from "@money/proto/loyalty/v1/events_pb";
import { file_loyalty_v1_loyalty, LoyaltyService } from "@money/proto/loyalty/v1/loyalty_pb";
import { PipelinedConnections } from "@money/db";
import type { ServiceDefinition } from "@money/runtime";
import { systemClock, type Clock } from "./domain/clock.js";
import { ProgramCache } from "./domain/programs/program-cache.js";
import { VerifiedPinCache } from "./domain/staff/pin-hash.js";
import { startLoyaltyRefundParticipant } from "./events/refund-participant.js";
import { ExpiryJob } from "./jobs/expiry-job.js";
import { LOYALTY_ACCESS } from "./rpc/access-policy.js";
import { Callers } from "./rpc/callers.js";
import { DeviceTokens } from "./rpc/device-tokens.js";
import { LOYALTY_ERROR_CODES } from "./rpc/error-codes.js";
import { loyaltyHandlers } from "./rpc/loyalty-handlers.js";

const DEFAULT_EXPIRY_INTERVAL_MS = 60_000;

/**
 * The loyalty service. `clock` is for tests that need time to pass (expiry,
 * cooldowns, PIN locks); the expiry job runs every LOYALTY_EXPIRY_INTERVAL_MS
 * (0 turns it off). The refund saga's participant (events/refund-participant.ts)
 * runs beside it, in the saga namespace REFUNDS_SAGA_NAMESPACE (default "default");
 * REFUNDS_SAGA_START_AT says where its new consumer group starts (latest by default).
 */
export function createLoyaltyService(options: { clock?: Clock } = {}): ServiceDefinition {
  return {
    name: "loyalty",
    defaultPort: 7002,
    migrationsDir: fileURLToPath(new URL("../migrations", import.meta.url)),
    services: [LoyaltyService],
    files: [file_loyalty_v1_loyalty, file_loyalty_v1_events],
    policy: LOYALTY_ACCESS,
    errors: LOYALTY_ERROR_CODES,
    build: (serviceDeps) => {
      const { pool, databaseUrl, audit, log, env } = serviceDeps;
      const deps = {
        audit,
        clock: options.clock ?? systemClock,
        programs: new ProgramCache(),
        pins: new VerifiedPinCache(),
      };
      const intervalMs = Number.parseInt(
        env["LOYALTY_EXPIRY_INTERVAL_MS"] ?? String(DEFAULT_EXPIRY_INTERVAL_MS),
        10,
      );
      const expiry = new ExpiryJob(pool, deps, intervalMs, log);
      // The group commit's: one connection per batch in flight, three at most.
      const pipelined = new PipelinedConnections(databaseUrl, { size: 3 });
      const handlers = loyaltyHandlers({
        pool,
        pipelined,
        deps,
        callers: new Callers(pool, deps),
        deviceTokens: new DeviceTokens(env),
        log,
      });
      let refundParticipant: { stop(): Promise<void> } | undefined;
      return {
        routes: (router) => router.service(LoyaltyService, handlers),
        start: async () => {
          refundParticipant = await startLoyaltyRefundParticipant(serviceDeps, deps);
          expiry.start();
        },
        stop: async () => {
          await expiry.stop();
          await refundParticipant?.stop();
          await pipelined.end();
        },
      };
    },
  };
}

export const loyaltyService: ServiceDefinition = createLoyaltyService();
