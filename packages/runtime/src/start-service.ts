import { createDatabasePool, PipelinedConnections, provisionServiceDatabase } from "@money/db";
import {
  ALL_TOPICS,
  AuditRecorder,
  EVENTS_MIGRATIONS_DIR,
  OutboxRelay,
  OutboxWriter,
  type EventBus,
} from "@money/kafka";
import {
  createLogger,
  IDEMPOTENCY_MIGRATIONS_DIR,
  startRpcServer,
  type Logger,
  type RpcServer,
  type TokenVerifier,
} from "@money/rpc";
import type { ServiceDefinition, ServiceDeps } from "./service-definition.js";

export interface ServiceConfig {
  /** Administrator URL: provisions the schema and roles and runs migrations. */
  adminDatabaseUrl: string;
  bus: EventBus;
  verifier: TokenVerifier;
  port: number;
  host?: string;
  /** False with embedded PGlite: one database per service, no roles. */
  roles: boolean;
  servicePassword: string;
  poolSize: number;
  /** Wake the outbox relay as soon as this service commits events; otherwise it only polls. */
  listen: boolean;
  relayIdlePollMs?: number;
  trustProxy?: boolean;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
}

export interface RunningService {
  readonly name: string;
  readonly url: string;
  readonly server: RpcServer;
  readonly deps: ServiceDeps;
  readonly relay: OutboxRelay;
  /** Graceful: drain in-flight RPCs, stop consumers and jobs, flush the relay, close the pool. */
  stop(): Promise<void>;
}

/** Brings one service up on its database and bus, in the order its parts depend on each other. */
export async function startService(
  definition: ServiceDefinition,
  config: ServiceConfig,
): Promise<RunningService> {
  const log = config.log ?? createLogger(definition.name);
  const serviceUrl = await provisionServiceDatabase(config.adminDatabaseUrl, {
    service: definition.name,
    migrationDirs: [EVENTS_MIGRATIONS_DIR, IDEMPOTENCY_MIGRATIONS_DIR, definition.migrationsDir],
    servicePassword: config.servicePassword,
    roles: config.roles,
  });
  const pool = await createDatabasePool(serviceUrl, {
    maximumPoolSize: config.poolSize,
    defaultIsolation: definition.defaultIsolation ?? "read committed",
  });
  await config.bus.ensureTopics(ALL_TOPICS);
  const outbox = new OutboxWriter(definition.name);
  const deps: ServiceDeps = {
    pool,
    databaseUrl: serviceUrl,
    bus: config.bus,
    outbox,
    audit: new AuditRecorder(definition.name, outbox),
    log,
    env: config.env ?? process.env,
  };
  const parts = await definition.build(deps);
  const relayConnections = new PipelinedConnections(serviceUrl, { size: 1 });
  const relay = new OutboxRelay({
    connections: relayConnections,
    bus: config.bus,
    schema: definition.name,
    ...(config.listen ? { wakeOn: outbox } : {}),
    idlePollMs: config.relayIdlePollMs ?? (config.listen ? 250 : 50),
    onError: (error) => log.warn({ err: error }, "outbox relay failed; retrying"),
  });
  await relay.start();
  await parts.start?.();
  const server = await startRpcServer({
    name: definition.name,
    port: config.port,
    ...(config.host ? { host: config.host } : {}),
    services: definition.services,
    files: definition.files,
    routes: parts.routes,
    policy: definition.policy,
    errors: definition.errors,
    verifier: config.verifier,
    log,
    trustProxy: config.trustProxy ?? false,
  });
  return {
    name: definition.name,
    url: server.url,
    server,
    deps,
    relay,
    async stop() {
      await server.close();
      await parts.stop?.();
      await relay.stop();
      await relayConnections.end();
      await pool.end();
    },
  };
}
