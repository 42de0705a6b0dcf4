import type { DescFile, DescService } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import type { DatabasePool, Isolation } from "@money/db";
import type { AuditRecorder, EventBus, OutboxWriter } from "@money/kafka";
import type { AccessPolicy, ErrorCodeTable, Logger } from "@money/rpc";

/** What a service is given to build itself on. */
export interface ServiceDeps {
  pool: DatabasePool;
  /**
   * The service role's URL, for connections of the service's own (the pool
   * connects with it plus the service's default isolation level).
   */
  databaseUrl: string;
  bus: EventBus;
  outbox: OutboxWriter;
  audit: AuditRecorder;
  log: Logger;
  env: NodeJS.ProcessEnv;
}

/** What a service adds to the platform's lifecycle. */
export interface ServiceParts {
  routes(router: ConnectRouter): void;
  /** Starts consumers and scheduled jobs, after the database and bus are ready. */
  start?(): Promise<void>;
  /** Stops them, after the server has drained. */
  stop?(): Promise<void>;
}

/**
 * A service as the runtime sees it: its name (also its schema), its
 * migrations, its RPC surface with the access policy and error table, and a
 * builder for the rest. Each service's `service.ts` exports one.
 */
export interface ServiceDefinition {
  name: string;
  defaultPort: number;
  migrationsDir: string;
  services: readonly DescService[];
  files: readonly DescFile[];
  policy: AccessPolicy;
  errors: ErrorCodeTable<string>;
  /**
   * The isolation level the service's connections start their transactions
   * in: its writes' level, so they pay no SET TRANSACTION. Default: read committed.
   */
  defaultIsolation?: Isolation;
  build(deps: ServiceDeps): ServiceParts | Promise<ServiceParts>;
}
