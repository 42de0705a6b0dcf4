// npx tsx services/audit/bench/append-profile.ts — a profiling aid, not a benchmark of record: the
// sequencer (appendBatch) alone on synthetic batches, no Kafka fetch in the way, and the CPU it costs
// per event in Node and in the Postgres backends. Run it under `node --cpu-prof --import tsx` to see
// where the Node time goes.
//   BENCH_EVENTS       events (default 100,000)
//   BENCH_BATCH        events per batch (default 5,000, AUDIT_MAX_BATCH_SIZE's default)
//   BENCH_CONCURRENCY  batches in flight, each on its own partition (default 1)
//   KAFKA_BROKERS      the broker the service starts with (its ingester idles on an empty topic)
import { readFileSync } from "node:fs";
import { createDatabasePool, sql } from "@money/db";
import { createTestDatabase } from "@money/db/testing";
import { KafkaBus, type IncomingMessage } from "@money/kafka";
import { testBrokers, uniqueName } from "@money/kafka/testing";
import { createLogger, tokenVerifierFromEnv } from "@money/rpc";
import { startService } from "@money/runtime";
import { encodeSignerKey, generateCheckpointKeyPair } from "../src/domain/checkpoint/index.js";
import { appendBatch } from "../src/domain/ingest/append-batch.js";
import { PersonalRefCache } from "../src/domain/personal-data/personal-ref-cache.js";
import { auditService } from "../src/service.js";
import { auditMessage } from "../test/support/audit-events.js";
import { benchEvent } from "./bench-events.js";

const EVENTS = Number(process.env["BENCH_EVENTS"] ?? "100000");
const BATCH = Number(process.env["BENCH_BATCH"] ?? "5000");
const CONCURRENCY = Number(process.env["BENCH_CONCURRENCY"] ?? "1");

const db = await createTestDatabase("audit_profile");
const bus = new KafkaBus({ brokers: testBrokers(), clientId: "audit-profile" });
const topic = uniqueName("audit-profile-events");
const origin = "profile.money-platform/audit";
const service = await startService(auditService, {
  adminDatabaseUrl: db.adminUrl,
  bus,
  verifier: await tokenVerifierFromEnv({}),
  port: 0,
  roles: true,
  servicePassword: "bench",
  poolSize: 8,
  listen: false,
  log: createLogger("audit-profile").child({}, { level: "warn" }),
  env: {
    ...process.env,
    AUDIT_SIGNING_KEY: encodeSignerKey(generateCheckpointKeyPair(origin).signer),
    AUDIT_LOG_ORIGIN: origin,
    AUDIT_EVENTS_TOPIC: topic,
    AUDIT_CHECKPOINTS_TOPIC: uniqueName("audit-profile-checkpoints"),
    AUDIT_CONSUMER_GROUP: uniqueName("audit-profile"),
    AUDIT_COMPLETENESS_TOPICS: "",
  },
});

// The batches, as the bus would hand them over: partition p of batch i is i % CONCURRENCY.
const batches: IncomingMessage[][] = [];
for (let from = 0; from < EVENTS; from += BATCH) {
  const messages: IncomingMessage[] = [];
  for (let i = from; i < Math.min(EVENTS, from + BATCH); i++) {
    const { key, value, headers } = auditMessage(topic, benchEvent(i));
    messages.push({ topic, partition: 0, offset: String(i), key, value, headers: headers ?? {} });
  }
  batches.push(messages);
}

// CPU of the database's backends, read from /proc: the server runs on this machine.
const admin = await createDatabasePool(db.adminUrl, { maximumPoolSize: 1 });
const backendCpuMs = async () => {
  const pids = await admin.anyFirst(sql.unsafe`
    SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
  `);
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${String(pid)}/stat`, "utf8")
        .split(") ")[1]!
        .split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The backend ended meanwhile.
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
};

const cache = new PersonalRefCache();
const pgAtStart = await backendCpuMs();
const cpuAtStart = process.cpuUsage();
const started = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async (_, lane) => {
    for (let i = next++; i < batches.length; i = next++) {
      const messages = batches[i]!.map((m) => ({ ...m, partition: lane }));
      await appendBatch(
        service.deps.pool,
        "profile",
        { topic, partition: lane, messages },
        new Date(),
        cache,
      );
    }
  }),
);
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpuAtStart);
const pgMs = (await backendCpuMs()) - pgAtStart;
const perEvent = (cpuMs: number) => ((cpuMs * 1000) / EVENTS).toFixed(1);
console.log(
  `${EVENTS} events in batches of ${BATCH}, ${CONCURRENCY} at a time: ${(ms / 1000).toFixed(1)} s, ` +
    `${Math.round(EVENTS / (ms / 1000))}/s; CPU per event: Node ${perEvent((cpu.user + cpu.system) / 1000)} µs, ` +
    `Postgres backends ${perEvent(pgMs)} µs`,
);
await admin.end();
await service.stop();
await bus.close();
await db.drop();
process.exit(0);
