// `npm start`: the whole platform in one process.
//
// With no configuration it needs nothing installed: each service gets its own
// embedded Postgres (PGlite over the wire protocol) and all share an
// in-process bus with Kafka's semantics. DATABASE_URL and KAFKA_BROKERS switch
// to real servers; the service code is the same either way.
import { join } from "node:path";
import { auditService } from "@money/audit";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "@money/embedded";
import { InProcessBus, KafkaBus, type EventBus } from "@money/kafka";
import { ledgerService } from "@money/ledger";
import { loyaltyService } from "@money/loyalty";
import { refundsService } from "@money/refunds";
import { mintToken, tokenVerifierFromEnv } from "@money/rpc";
import { startService, stopOnSignals, type RunningService, type ServiceDefinition } from "@money/runtime";

const env = process.env;
const definitions: ServiceDefinition[] = [ledgerService, loyaltyService, auditService, refundsService];
const basePort = env["BASE_PORT"] ? Number.parseInt(env["BASE_PORT"], 10) : undefined;
const host = env["HOST"] ?? "127.0.0.1";

const bus: EventBus = env["KAFKA_BROKERS"]
  ? new KafkaBus({ brokers: env["KAFKA_BROKERS"].split(","), clientId: "money-platform" })
  : new InProcessBus();
const verifier = await tokenVerifierFromEnv(env);
const embeddedDatabases: EmbeddedPostgres[] = [];
const running: RunningService[] = [];

/** BASE_PORT=0 lets every service take a free port (tests); otherwise ports are fixed. */
const portOf = (definition: ServiceDefinition, index: number) =>
  basePort === undefined ? definition.defaultPort : basePort === 0 ? 0 : basePort + index;

for (const [index, definition] of definitions.entries()) {
  const port = portOf(definition, index);
  let database: { adminDatabaseUrl: string; roles: boolean; poolSize: number };
  if (env["DATABASE_URL"]) {
    database = { adminDatabaseUrl: env["DATABASE_URL"], roles: true, poolSize: 10 };
  } else {
    const embedded = await startEmbeddedPostgres({
      searchPath: definition.name,
      ...(env["DATA_DIR"] ? { dataDir: join(env["DATA_DIR"], definition.name) } : {}),
    });
    embeddedDatabases.push(embedded);
    database = { adminDatabaseUrl: embedded.url, roles: false, poolSize: embedded.maximumPoolSize };
  }
  running.push(
    await startService(definition, {
      ...database,
      bus,
      verifier,
      port,
      host,
      servicePassword: env["SERVICE_DB_PASSWORD"] ?? "dev-only-password",
      listen: true,
      env,
    }),
  );
  // Services started later call this one here (the refund saga's clients of ledger and loyalty).
  env[`${definition.name.toUpperCase()}_URL`] ??= running.at(-1)!.url;
}

const mode = env["DATABASE_URL"] ? "Postgres at DATABASE_URL" : "embedded PGlite";
const busMode = env["KAFKA_BROKERS"] ? `Kafka at ${env["KAFKA_BROKERS"]}` : "in-process bus";
console.log(`\nMoney platform is up (${mode}, ${busMode}):`);
for (const service of running) console.log(`  ${service.name.padEnd(8)} ${service.url}`);
if (!env["AUTH_JWT_SECRET"] && !env["AUTH_JWT_PUBLIC_KEY"]) {
  console.log(
    `\nDevelopment admin token (1 hour):\n  ${await mintToken({ sub: "dev-admin", role: "admin" })}`,
  );
}
console.log("\nCtrl-C stops everything gracefully.");

stopOnSignals(async () => {
  // Reverse order: the services that call others stop first.
  for (const service of running.reverse()) await service.stop();
  await bus.close();
  for (const database of embeddedDatabases) await database.stop();
});
