import { fileURLToPath } from "node:url";
import { AuditService, file_audit_v1_audit } from "@money/proto/audit/v1/audit_pb";
import type { Subscription } from "@money/kafka";
import type { ServiceDefinition, ServiceDeps, ServiceParts } from "@money/runtime";
import { auditConfigFrom, type AuditConfig } from "./config.js";
import { startIngester } from "./events/audit-ingester.js";
import { CheckpointScheduler } from "./events/checkpoint-scheduler.js";
import { startCompletenessMonitor } from "./events/completeness-monitor.js";
import { OwnAuditEvents } from "./events/own-audit-events.js";
import { AUDIT_ACCESS } from "./rpc/access-policy.js";
import { auditHandlers } from "./rpc/audit-handlers.js";
import { AUDIT_ERROR_CODES } from "./rpc/error-codes.js";

/** The running parts of the audit service, reachable for tests and the benchmark. */
export interface AuditParts extends ServiceParts {
  readonly config: AuditConfig;
  readonly checkpoints: CheckpointScheduler;
}

/** Wires the audit service on the platform's dependencies. */
export function buildAudit(deps: ServiceDeps): AuditParts {
  const config = auditConfigFrom(deps.env, deps.log);
  const own = new OwnAuditEvents(deps.pool, deps.outbox, config.eventsTopic);
  const checkpoints = new CheckpointScheduler(
    deps.pool,
    {
      origin: config.origin,
      signer: config.signer,
      verifier: config.verifier,
      checkpointsTopic: config.checkpointsTopic,
      outbox: deps.outbox,
    },
    config.checkpointIntervalMs,
    deps.log,
  );
  const subscriptions: Subscription[] = [];
  return {
    config,
    checkpoints,
    routes: (router) => router.service(AuditService, auditHandlers({ deps, config, own })),
    async start() {
      // The standard topics exist already; configured ones (tests, benchmarks) may not.
      await deps.bus.ensureTopics([
        { topic: config.eventsTopic, partitions: 6 },
        { topic: config.checkpointsTopic, partitions: 1 },
        ...config.completenessTopics.map((topic) => ({ topic, partitions: 6 })),
      ]);
      subscriptions.push(
        await startIngester({
          bus: deps.bus,
          pool: deps.pool,
          log: deps.log,
          topic: config.eventsTopic,
          consumer: config.consumerGroup,
          maxBatchSize: config.maxBatchSize,
        }),
      );
      if (config.completenessTopics.length > 0) {
        subscriptions.push(
          await startCompletenessMonitor({
            bus: deps.bus,
            pool: deps.pool,
            log: deps.log,
            topics: config.completenessTopics,
            consumer: config.completenessGroup,
          }),
        );
      }
      checkpoints.start();
      deps.log.info({ origin: config.origin, verifierKey: config.verifierKey }, "audit log ready");
    },
    async stop() {
      await checkpoints.stop();
      for (const subscription of subscriptions.splice(0)) await subscription.stop();
    },
  };
}

export const auditService: ServiceDefinition = {
  name: "audit",
  defaultPort: 7003,
  migrationsDir: fileURLToPath(new URL("../migrations", import.meta.url)),
  services: [AuditService],
  files: [file_audit_v1_audit],
  policy: AUDIT_ACCESS,
  errors: AUDIT_ERROR_CODES,
  build: buildAudit,
};
