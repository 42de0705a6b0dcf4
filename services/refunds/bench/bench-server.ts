// One service of the refund saga as its own process for the benchmark, on the
// real Kafka broker, as deployed (the ledger and loyalty run their saga
// participants themselves).
// Prints {"url": ...} once listening; stops on SIGTERM.
//   argv[2]             ledger | loyalty | refunds
//   BENCH_DATABASE_URL  administrator URL of the benchmark database
//   KAFKA_BROKERS       the broker (default 127.0.0.1:19092)
//   BENCH_POOL_SIZE     connections (default 16)
// and the services' own variables (REFUNDS_SAGA_NAMESPACE, LEDGER_URL, ...).
import { KafkaBus } from "@money/kafka";
import { createLogger, tokenVerifierFromEnv } from "@money/rpc";
import { startService, stopOnSignals, type ServiceDefinition } from "@money/runtime";
import { ledgerService } from "../../ledger/src/service.js";
import { createLoyaltyService } from "../../loyalty/src/service.js";
import { refundsService } from "../src/service.js";

const which = process.argv[2] as "ledger" | "loyalty" | "refunds";
const definitions: Record<typeof which, ServiceDefinition> = {
  ledger: ledgerService,
  loyalty: createLoyaltyService(),
  refunds: refundsService,
};
const definition = definitions[which];
const log = createLogger(which);
log.level = "warn";
const bus = new KafkaBus({
  brokers: (process.env["KAFKA_BROKERS"] ?? "127.0.0.1:19092").split(","),
  clientId: `bench-${which}`,
});
const service = await startService(definition, {
  adminDatabaseUrl: process.env["BENCH_DATABASE_URL"]!,
  bus,
  verifier: await tokenVerifierFromEnv({}),
  port: 0,
  roles: true,
  servicePassword: "bench",
  poolSize: Number.parseInt(process.env["BENCH_POOL_SIZE"] ?? "16", 10),
  listen: true,
  log,
});
stopOnSignals(async () => {
  await service.stop();
  await bus.close();
});
console.log(JSON.stringify({ url: service.url }));
