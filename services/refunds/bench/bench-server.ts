// One service of the refund saga as its own process for the benchmark, on the
// real Kafka broker, as deployed (the ledger and loyalty run their saga
// participants themselves).
// Prints {"url": ...} once listening; stops on SIGTERM.
//   argv[2]             ledger | loyalty | refunds
//   BENCH_DATABASE_URL  administrator URL of the benchmark database
//   KAFKA_BROKERS       the broker (default 127.0.0.1:19092)
//   BENCH_POOL_SIZE     connections (default 16)
//   BENCH_COUNT_STATEMENTS  "1": counts the SQL statements the process sends, by
//                      their first words, and prints the counts to stderr on stop
//                      and on SIGUSR2 (which starts the count again)
// and the services' own variables (REFUNDS_SAGA_NAMESPACE, LEDGER_URL, ...).
import { KafkaBus } from "@money/kafka";
import pg from "pg";
import { createLogger, tokenVerifierFromEnv } from "@money/rpc";
import { startService, stopOnSignals, type ServiceDefinition } from "@money/runtime";
import { ledgerService } from "../../ledger/src/service.js";
import { createLoyaltyService } from "../../loyalty/src/service.js";
import { refundsService } from "../src/service.js";

const which = process.argv[2] as "ledger" | "loyalty" | "refunds";
const statements = new Map<string, number>();
if (process.env["BENCH_COUNT_STATEMENTS"] === "1") {
  // Every statement slonik sends goes through pg's Client#query.
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const text = typeof args[0] === "string" ? args[0] : ((args[0] as { text?: string }).text ?? "?");
    const name = text.replace(/\s+/g, " ").trim().slice(0, 90);
    statements.set(name, (statements.get(name) ?? 0) + 1);
    return query.apply(this, args);
  } as typeof pg.Client.prototype.query;
}
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
function printStatements(): void {
  if (statements.size === 0) return;
  const sorted = [...statements].sort((a, b) => b[1] - a[1]);
  console.error(`[${which}] statements: ${sorted.reduce((sum, [, n]) => sum + n, 0)}`);
  for (const [name, n] of sorted) console.error(`[${which}] ${n}\t${name}`);
}
// The bench asks for the counts of its measured run: SIGUSR2 before it and after it.
process.on("SIGUSR2", () => {
  printStatements();
  statements.clear();
});
stopOnSignals(async () => {
  await service.stop();
  await bus.close();
  printStatements();
});
console.log(JSON.stringify({ url: service.url }));
