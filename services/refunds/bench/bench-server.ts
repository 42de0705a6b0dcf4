// One service of the refund saga as its own process for the benchmark, on the
// real Kafka broker, with its saga participant beside it as in production.
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
import { startLedgerRefundParticipant } from "../../ledger/src/events/refund-participant.js";
import { createLoyaltyService } from "../../loyalty/src/service.js";
import { startLoyaltyRefundParticipant } from "../../loyalty/src/events/refund-participant.js";
import type { ServiceDeps } from "@money/runtime";
import { refundsService } from "../src/service.js";

const which = process.argv[2] as "ledger" | "loyalty" | "refunds";
const definitions: Record<
  typeof which,
  [ServiceDefinition, ((deps: ServiceDeps) => Promise<{ stop(): Promise<void> }>) | null]
> = {
  ledger: [ledgerService, startLedgerRefundParticipant],
  loyalty: [createLoyaltyService(), startLoyaltyRefundParticipant],
  refunds: [refundsService, null],
};
const [definition, participant] = definitions[which];
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
const running = participant ? await participant(service.deps) : null;
stopOnSignals(async () => {
  await running?.stop();
  await service.stop();
  await bus.close();
});
console.log(JSON.stringify({ url: service.url }));
