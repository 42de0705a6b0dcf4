import { fileURLToPath } from "node:url";
import { PipelinedConnections } from "@money/db";
import { file_ledger_v1_ledger, LedgerService } from "@money/proto/ledger/v1/ledger_pb";
import type { ServiceDefinition } from "@money/runtime";
import { HoldExpiry } from "./jobs/hold-expiry.js";
import { OutboxEventSink } from "./events/outbox-event-sink.js";
import { startLedgerRefundParticipant } from "./events/refund-participant.js";
import { LEDGER_ACCESS } from "./rpc/access-policy.js";
import { LEDGER_ERROR_CODES } from "./rpc/error-codes.js";
import { ledgerHandlers } from "./rpc/ledger-handlers.js";

/**
 * The ledger service, with its part in the refund saga (the participant
 * that performs the ledger's steps, see events/refund-participant.ts).
 * Environment:
 *   LEDGER_HOLD_SWEEP_MS    how often holds past their timeout are voided (default 1000)
 *   LEDGER_TRANSFER_GROUPS_IN_FLIGHT  Transfer group commits at once, each on a connection of its own (default 2)
 *   REFUNDS_SAGA_NAMESPACE  the deployment's saga namespace (default "default")
 *   REFUNDS_SAGA_START_AT   where the participant's new consumer group starts: latest (default) | earliest
 */
export const ledgerService: ServiceDefinition = {
  name: "ledger",
  defaultPort: 7001,
  migrationsDir: fileURLToPath(new URL("../migrations", import.meta.url)),
  services: [LedgerService],
  files: [file_ledger_v1_ledger],
  policy: LEDGER_ACCESS,
  errors: LEDGER_ERROR_CODES,
  // Every ledger write is serializable (see src/rpc/idempotent-write.ts).
  defaultIsolation: "serializable",
  build: (deps) => {
    const events = new OutboxEventSink(deps.audit);
    const expiry = new HoldExpiry(
      deps.pool,
      events,
      deps.log,
      Number.parseInt(deps.env["LEDGER_HOLD_SWEEP_MS"] ?? "1000", 10),
    );
    // The transfer group commit's: one connection per group in flight.
    const transferGroups = new PipelinedConnections(deps.databaseUrl, {
      size: Number.parseInt(deps.env["LEDGER_TRANSFER_GROUPS_IN_FLIGHT"] ?? "2", 10),
      isolation: "serializable",
    });
    let refundParticipant: { stop(): Promise<void> } | undefined;
    return {
      routes: (router) => router.service(LedgerService, ledgerHandlers(deps, events, transferGroups)),
      start: async () => {
        refundParticipant = await startLedgerRefundParticipant(deps);
        expiry.start();
      },
      stop: async () => {
        await expiry.stop();
        await refundParticipant?.stop();
        await transferGroups.end();
      },
    };
  },
};
