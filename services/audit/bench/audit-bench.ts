// npm run bench:audit — the audit log's speed on this machine, on real Postgres and Kafka.
// Prints a Markdown report on stdout, progress on stderr.
//   BENCH_EVENTS  events to ingest, and so entries in the bundle (default 1,000,000)
//   BENCH_PROOFS  inclusion proofs to time (default 2,000)
//   KAFKA_BROKERS the broker (required), TEST_DATABASE_URL the Postgres server (default local)
//
// 1. Publishes BENCH_EVENTS audit events to a fresh topic, as the services' relays would.
// 2. Starts the audit service and times it from start until every event is in the log and a signed
//    checkpoint covers them all: events ingested per second into the verified log.
// 3. Exports the whole log as one bundle through ExportBundle.
// 4. Verifies the bundle offline: in process (the library), and with the audit-verify CLI as an
//    auditor runs it (a fresh process, no network).
// 5. Times inclusion proofs on the log: the proof alone (one indexed query for its nodes, then the
//    hashes), GetEntry's use case (entry, personal data, proof), and the GetEntry RPC.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { stat, unlink } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createDatabasePool, sql } from "@money/db";
import { createTestDatabase } from "@money/db/testing";
import { KafkaBus } from "@money/kafka";
import { testBrokers, uniqueName } from "@money/kafka/testing";
import { AuditService } from "@money/proto/audit/v1/audit_pb";
import { createLogger, mintToken, tokenVerifierFromEnv } from "@money/rpc";
import { startService } from "@money/runtime";
import { measureSequential } from "@money/testkit";
import { encodeSignerKey, generateCheckpointKeyPair } from "../src/domain/checkpoint/index.js";
import { inclusionProof } from "../src/domain/merkle/index.js";
import { getEntry } from "../src/domain/proofs/get-entry.js";
import { withStoredTree } from "../src/domain/tree/stored-tree.js";
import { verifyBundle } from "../src/domain/verification/verify-bundle.js";
import { auditService, buildAudit, type AuditParts } from "../src/service.js";
import { auditMessage } from "../test/support/audit-events.js";
import { benchEvent } from "./bench-events.js";

const EVENTS = Number(process.env["BENCH_EVENTS"] ?? "1000000");
const PROOFS = Number(process.env["BENCH_PROOFS"] ?? "2000");
// Kafka refuses record batches over 1 MB: 2,000 events make about 170 kB per partition.
const PUBLISH_CHUNK = 2_000;

const started = performance.now();
const say = (line: string) =>
  console.error(`[${((performance.now() - started) / 1000).toFixed(0)}s] ${line}`);
const seconds = (ms: number) => (ms / 1000).toFixed(1);
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const loadAtStart = loadavg()[0]!;

const db = await createTestDatabase("audit_bench");
const bus = new KafkaBus({ brokers: testBrokers(), clientId: "audit-bench" });
const topic = uniqueName("audit-bench-events");
await bus.ensureTopics([{ topic, partitions: 6 }]);

// 1. The events, as varied as real ones (bench-events.ts).
say(`publishing ${fmt(EVENTS)} events to ${topic}`);
const publishStart = performance.now();
for (let from = 0; from < EVENTS; from += PUBLISH_CHUNK) {
  const messages = [];
  for (let i = from; i < Math.min(EVENTS, from + PUBLISH_CHUNK); i++) {
    messages.push(auditMessage(topic, benchEvent(i)));
  }
  await bus.publish(messages);
  if ((from / PUBLISH_CHUNK) % 100 === 0) say(`  ${fmt(from + messages.length)} published`);
}
const publishMs = performance.now() - publishStart;
say(`published in ${seconds(publishMs)} s`);

// 2. Ingest into the verified log.
let parts: AuditParts | undefined;
const origin = "bench.money-platform/audit";
const signer = generateCheckpointKeyPair(origin).signer;
say("starting the audit service");
const ingestStart = performance.now();
const cpuAtStart = process.cpuUsage();
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
    servicePassword: "bench",
    poolSize: 8,
    listen: true,
    log: createLogger("audit-bench").child({}, { level: "warn" }),
    env: {
      ...process.env,
      AUDIT_SIGNING_KEY: encodeSignerKey(signer),
      AUDIT_LOG_ORIGIN: origin,
      AUDIT_CHECKPOINT_INTERVAL_MS: "1000",
      AUDIT_EVENTS_TOPIC: topic,
      AUDIT_CHECKPOINTS_TOPIC: uniqueName("audit-bench-checkpoints"),
      AUDIT_CONSUMER_GROUP: uniqueName("audit-bench"),
      AUDIT_COMPLETENESS_TOPICS: "",
    },
  },
);
const admin = await createDatabasePool(db.adminUrl, { maximumPoolSize: 2 });
const checkpointed = async () =>
  Number(await admin.oneFirst(sql.unsafe`SELECT coalesce(max(size), 0) FROM audit.checkpoints`));
let lastReport = performance.now();
let firstEntryAt: number | undefined;
for (;;) {
  if (
    firstEntryAt === undefined &&
    Number(await admin.oneFirst(sql.unsafe`SELECT count(*) FROM audit.tree_heads`)) > 0
  )
    firstEntryAt = performance.now();
  const size = await checkpointed();
  if (size >= EVENTS) break;
  if (performance.now() - lastReport > 10_000) {
    const entries = Number(
      await admin.oneFirst(sql.unsafe`SELECT coalesce(max(size), 0) FROM audit.tree_heads`),
    );
    say(`  ${fmt(entries)} sequenced, ${fmt(size)} checkpointed`);
    lastReport = performance.now();
  }
  await sleep(100);
}
const ingestMs = performance.now() - ingestStart;
const cpu = process.cpuUsage(cpuAtStart);
const nodeCores = (cpu.user + cpu.system) / 1000 / ingestMs;
const steadyMs = performance.now() - (firstEntryAt ?? ingestStart);

const batches = Number(await admin.oneFirst(sql.unsafe`SELECT count(*) FROM audit.tree_heads`));
say(`ingested and checkpointed in ${seconds(ingestMs)} s (${fmt(batches)} batches)`);

// 3. Export.
const token = await mintToken({ sub: "bench-auditor", role: "auditor" }, { ttlSeconds: 7200 });
const client = createClient(
  AuditService,
  createConnectTransport({
    baseUrl: service.url,
    httpVersion: "2",
    useBinaryFormat: true,
    interceptors: [
      (next) => (req) => {
        req.header.set("authorization", `Bearer ${token}`);
        return next(req);
      },
    ],
  }),
);
const bundlePath = join(tmpdir(), `audit-bench-${randomUUID()}.bundle`);
say("exporting the whole log");
const exportStart = performance.now();
const file = createWriteStream(bundlePath);
for await (const { chunk } of client.exportBundle({
  range: { case: "sequences", value: { first: 0n, end: BigInt(EVENTS) } },
})) {
  if (!file.write(chunk)) await new Promise<void>((resolve) => file.once("drain", () => resolve()));
}
await new Promise<void>((resolve, reject) =>
  file.end((error?: Error | null) => (error ? reject(error) : resolve())),
);
const exportMs = performance.now() - exportStart;
const bundleBytes = (await stat(bundlePath)).size;
say(`exported ${fmt(bundleBytes / 1e6)} MB in ${seconds(exportMs)} s`);

// 4. Verify offline.
const verifierKey = parts!.config.verifierKey;
const { readFile } = await import("node:fs/promises");
const bytes = await readFile(bundlePath);
const libraryStart = performance.now();
const libraryCpuStart = process.cpuUsage();
const report = verifyBundle(bytes, { verifierKeys: [verifierKey] });
const libraryMs = performance.now() - libraryStart;
const libraryCpu = process.cpuUsage(libraryCpuStart);
const libraryCpuMs = (libraryCpu.user + libraryCpu.system) / 1000;
if (!report.ok || report.summary.entries !== EVENTS)
  throw new Error(`bundle did not verify: ${JSON.stringify(report.findings.slice(0, 5))}`);
say(`library verification: ${seconds(libraryMs)} s`);
const cli = fileURLToPath(new URL("../src/cli/audit-verify.ts", import.meta.url));
const cliStart = performance.now();
const { stdout } = await promisify(execFile)(
  process.execPath,
  ["--import", "tsx", cli, bundlePath, "--key", verifierKey],
  {
    maxBuffer: 1 << 20,
  },
);
const cliMs = performance.now() - cliStart;
if (!stdout.includes("OK:")) throw new Error(`the CLI did not pass the bundle: ${stdout}`);
say(`CLI verification: ${seconds(cliMs)} s`);
await unlink(bundlePath);

// 5. Inclusion proofs.
const pool = service.deps.pool;
const size = await checkpointed();
const pick = () => Math.floor(Math.random() * size);
const timeEach = async (count: number, run: () => Promise<unknown>) => {
  for (let i = 0; i < 50; i++) await run(); // warm-up
  return measureSequential(count, run);
};
say(`timing ${fmt(PROOFS)} proofs of each kind on a ${fmt(size)}-entry log`);
// withStoredTree runs its function twice (plan, then compute): the index is picked outside it.
const proofOnly = await timeEach(PROOFS, () => {
  const index = pick();
  return withStoredTree(pool, size, (reader) => inclusionProof(index, size, reader));
});
const useCase = await timeEach(PROOFS, () => getEntry(pool, { sequence: pick() }, 0));
const rpc = await timeEach(Math.min(PROOFS, 500), () =>
  client.getEntry({ entry: { case: "sequence", value: BigInt(pick()) } }),
);

await service.stop();
await bus.close();
await admin.end();
await db.drop();

const ms = (x: number) => x.toFixed(2);
console.log(`### Audit benchmark, ${new Date().toISOString().slice(0, 10)}

${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, Node ${process.version}; load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end.

| measure | result | target |
|---|---:|---:|
| events ingested from Kafka into the verified log, from service start to the last checkpoint | ${fmt(EVENTS / (ingestMs / 1000))} events/s (${fmt(EVENTS)} in ${seconds(ingestMs)} s, ${fmt(batches)} batches) | ≥ 10,000/s |
| the same from the first batch sequenced (start-up and group join left out) | ${fmt(EVENTS / (steadyMs / 1000))} events/s | |
| verify a ${fmt(EVENTS)}-entry bundle offline, library | ${seconds(libraryMs)} s (${seconds(libraryCpuMs)} s of CPU) | < 10 s |
| verify it with the audit-verify CLI (new process) | ${seconds(cliMs)} s | < 10 s |
| inclusion proof on the ${fmt(size)}-entry log: nodes query + hashing | p50 ${ms(proofOnly.p50Ms)} ms, p99 ${ms(proofOnly.p99Ms)} ms | < 5 ms |
| GetEntry use case (entry, personal data, proof) | p50 ${ms(useCase.p50Ms)} ms, p99 ${ms(useCase.p99Ms)} ms | |
| GetEntry RPC (auth, query recorded in the trail, entry, proof) | p50 ${ms(rpc.p50Ms)} ms, p99 ${ms(rpc.p99Ms)} ms | |

The service's process used ${nodeCores.toFixed(2)} of a core while ingesting (Postgres and the Kafka broker run beside it). Also: publishing the events took ${seconds(publishMs)} s; exporting the bundle (${fmt(bundleBytes / 1e6)} MB) through ExportBundle took ${seconds(exportMs)} s.`);
process.exit(0);
