// The loyalty service as its own process for the benchmark, so the load
// generator does not share its event loop. Prints {"url": ...} once
// listening; stops on SIGTERM.
//   BENCH_DATABASE_URL  administrator URL of the benchmark database
//   BENCH_POOL_SIZE     connections (default 20)
import { InProcessBus } from "@money/kafka";
import { createLogger, tokenVerifierFromEnv } from "@money/rpc";
import { startService, stopOnSignals } from "@money/runtime";
import { loyaltyService } from "../src/service.js";

const log = createLogger("loyalty");
log.level = "warn";
// The outbox relay runs as in production; the in-process bus stands in for
// Kafka so the broker's JVM does not compete for the same two cores.
const bus = new InProcessBus();
const service = await startService(loyaltyService, {
  adminDatabaseUrl: process.env["BENCH_DATABASE_URL"]!,
  bus,
  verifier: await tokenVerifierFromEnv({}),
  port: 0,
  roles: true,
  servicePassword: "bench",
  poolSize: Number.parseInt(process.env["BENCH_POOL_SIZE"] ?? "20", 10),
  listen: true,
  env: { LOYALTY_EXPIRY_INTERVAL_MS: "0" },
  log,
});
stopOnSignals(async () => {
  await service.stop();
  await bus.close();
});
console.log(JSON.stringify({ url: service.url }));
