import { KafkaBus } from "@money/kafka";
import { tokenVerifierFromEnv } from "@money/rpc";
import type { ServiceDefinition } from "./service-definition.js";
import { startService, type RunningService } from "./start-service.js";

/**
 * Runs one service as its own process on real servers, configured by the
 * environment (the docker-compose deployment):
 *   DATABASE_URL        administrator URL (migrations, roles); required
 *   KAFKA_BROKERS       comma-separated host:port list; required
 *   PORT, HOST          where to listen (default: the service's port, 0.0.0.0)
 *   SERVICE_DB_PASSWORD password of the service's login role
 *   DB_POOL_SIZE        connections (default 10)
 *   AUTH_JWT_SECRET / AUTH_JWT_PUBLIC_KEY  token verification key
 *   TRUST_PROXY=true    take the caller IP from X-Forwarded-For
 * Stops gracefully on SIGTERM and SIGINT.
 */
export async function runFromEnv(definition: ServiceDefinition, env = process.env): Promise<RunningService> {
  const databaseUrl = required(env, "DATABASE_URL");
  const brokers = required(env, "KAFKA_BROKERS").split(",");
  const bus = new KafkaBus({ brokers, clientId: definition.name });
  const service = await startService(definition, {
    adminDatabaseUrl: databaseUrl,
    bus,
    verifier: await tokenVerifierFromEnv(env),
    port: Number.parseInt(env["PORT"] ?? String(definition.defaultPort), 10),
    host: env["HOST"] ?? "0.0.0.0",
    roles: true,
    servicePassword: env["SERVICE_DB_PASSWORD"] ?? "dev-only-password",
    poolSize: Number.parseInt(env["DB_POOL_SIZE"] ?? "10", 10),
    listen: true,
    trustProxy: env["TRUST_PROXY"] === "true",
    env,
  });
  stopOnSignals(async () => {
    await service.stop();
    await bus.close();
  });
  return service;
}

/** Runs `stop` once on SIGTERM or SIGINT, then exits. */
export function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`shutdown after ${signal} failed`, error);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} must be set (or run \`npm start\` for the embedded platform)`);
  return value;
}
