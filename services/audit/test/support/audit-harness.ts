import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createDatabasePool, sql, type DatabasePool } from "@money/db";
import { createTestDatabase, type TestDatabase } from "@money/db/testing";
import { KafkaBus, type EventBus } from "@money/kafka";
import { testBrokers, uniqueName } from "@money/kafka/testing";
import { AuditService } from "@money/proto/audit/v1/audit_pb";
import type { AuditEvent } from "@money/proto/events/v1/audit_pb";
import { mintToken, tokenVerifierFromEnv, type Role } from "@money/rpc";
import { startService, type RunningService } from "@money/runtime";
import { encodeSignerKey, generateCheckpointKeyPair } from "../../src/domain/checkpoint/index.js";
import { auditService, buildAudit, type AuditParts } from "../../src/service.js";
import { auditMessage } from "./audit-events.js";
import { waitUntil } from "@money/testkit";

export interface AuditHarness {
  readonly db: TestDatabase;
  readonly bus: EventBus;
  readonly service: RunningService;
  readonly parts: AuditParts;
  /** Superuser pool on the test database, search_path audit. */
  readonly admin: DatabasePool;
  readonly eventsTopic: string;
  readonly checkpointsTopic: string;
  readonly origin: string;
  readonly signerKey: string;
  readonly verifierKey: string;
  /** Publishes events to the audit topic as the services' relays would. */
  publish(events: readonly AuditEvent[]): Promise<void>;
  /** Waits until the log holds `size` entries and a checkpoint covers them. */
  waitForCheckpoint(size: number, timeoutMs?: number): Promise<void>;
  entryCount(): Promise<number>;
  /** A Connect client calling as `role`. */
  client(role?: Role, subject?: string): Client<typeof AuditService>;
  stop(): Promise<void>;
}

export interface AuditHarnessOptions {
  /** Audit topic to ingest; default a fresh one. */
  eventsTopic?: string;
  /** A bus to share; default a KafkaBus on the test broker (closed by stop). */
  bus?: EventBus;
  /** Extra environment, e.g. AUDIT_COMPLETENESS_TOPICS. */
  env?: Record<string, string>;
  /** Existing database to start on (a restart); default a fresh one. */
  db?: TestDatabase;
  signerKey?: string;
  consumerGroup?: string;
}

/**
 * The audit service on a fresh database and the real broker, ingesting its
 * own audit topic (unique per test file, so other tests' events stay out),
 * signing checkpoints every 100 ms with a key of its own.
 */
export async function startAudit(options: AuditHarnessOptions = {}): Promise<AuditHarness> {
  const db = options.db ?? (await createTestDatabase("audit"));
  const ownBus = options.bus === undefined;
  const bus = options.bus ?? new KafkaBus({ brokers: testBrokers(), clientId: uniqueName("audit-test") });
  const eventsTopic = options.eventsTopic ?? uniqueName("audit-events");
  const checkpointsTopic = uniqueName("audit-checkpoints");
  const origin = "test.money-platform/audit";
  const signerKey = options.signerKey ?? encodeSignerKey(generateCheckpointKeyPair(origin).signer);
  let parts: AuditParts | undefined;
  const service = await startService(
    {
      ...auditService,
      build: (deps) => {
        parts = buildAudit(deps);
        return parts;
      },
    },
    {
      adminDatabaseUrl: db.adminUrl,
      bus,
      verifier: await tokenVerifierFromEnv({}),
      port: 0,
      roles: true,
      servicePassword: "dev",
      poolSize: 6,
      listen: true,
      relayIdlePollMs: 100,
      env: {
        ...process.env,
        LOG_LEVEL: "warn",
        AUDIT_SIGNING_KEY: signerKey,
        AUDIT_LOG_ORIGIN: origin,
        AUDIT_CHECKPOINT_INTERVAL_MS: "100",
        AUDIT_EVENTS_TOPIC: eventsTopic,
        AUDIT_CHECKPOINTS_TOPIC: checkpointsTopic,
        AUDIT_CONSUMER_GROUP: options.consumerGroup ?? uniqueName("audit-ingester"),
        AUDIT_COMPLETENESS_TOPICS: "",
        ...options.env,
      },
    },
  );
  const admin = await createDatabasePool(db.adminUrl, { maximumPoolSize: 3 });
  const harness: AuditHarness = {
    db,
    bus,
    service,
    parts: parts!,
    admin,
    eventsTopic,
    checkpointsTopic,
    origin,
    signerKey,
    verifierKey: parts!.config.verifierKey,
    async publish(events) {
      await bus.publish(events.map((event) => auditMessage(eventsTopic, event)));
    },
    async entryCount() {
      return Number(await admin.oneFirst(sql.unsafe`SELECT count(*) FROM audit.entries`));
    },
    async waitForCheckpoint(size, timeoutMs = 30_000) {
      await waitUntil(
        `a checkpoint of ${size} entries`,
        async () =>
          Number(await admin.oneFirst(sql.unsafe`SELECT coalesce(max(size), 0) FROM audit.checkpoints`)) >=
          size,
        { timeoutMs },
      );
    },
    client(role = "auditor", subject = `${role}-1`) {
      return createClient(
        AuditService,
        createConnectTransport({
          baseUrl: service.url,
          httpVersion: "1.1",
          interceptors: [
            (next) => async (req) => {
              const deviceId = role === "terminal" ? subject : undefined;
              req.header.set("authorization", `Bearer ${await mintToken({ sub: subject, role, deviceId })}`);
              req.header.set("user-agent", "auditor-console/2.0");
              return next(req);
            },
          ],
        }),
      );
    },
    async stop() {
      await service.stop();
      if (ownBus) await bus.close();
      await admin.end();
      if (!options.db) await db.drop();
    },
  };
  return harness;
}
