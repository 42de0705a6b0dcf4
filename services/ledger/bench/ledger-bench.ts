// npm run bench:ledger — the ledger's throughput and latency on this machine's Postgres,
// beside pgbench's tpcb-like on the same server in the same run. Prints a Markdown report.
//   BENCH_SECONDS   length of each measured run (default 10)
//   PGBENCH_SCALE   pgbench scale factor (default 64: one branch per client at 64 clients)
//   BENCH_CPU_PROFILE=<dir>  writes a V8 CPU profile of the ledger process there
//   BENCH_QUICK=1   only the Transfer and PostTransactions runs (for iterating on the write path), with
//                   BENCH_CALLERS (default 1,16,64) and BENCH_BATCH_SIZES (default 100,1000), each empty for
//                   none: BENCH_QUICK=1 BENCH_CALLERS= runs the batches alone
//   BENCH_ONLY=single  only the single Transfer runs and pgbench at the same callers (BENCH_CALLERS applies)
// Each write run prints the CPU time per transfer of the ledger process, of the Postgres backends
// serving it and of this load generator: on two shared cores, they say where the time goes.
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createDatabasePool, sql, type DatabasePool } from "@money/db";
import { createTestDatabase, type TestDatabase } from "@money/db/testing";
import { AccountType, Direction, LedgerService } from "@money/proto/ledger/v1/ledger_pb";
import { mintToken } from "@money/rpc";
import {
  leanConnectClient,
  measureSequential,
  runLoad,
  type CheckingConnectClient,
  type LeanConnectClient,
  type LoadResult,
} from "@money/testkit";
import { appendEntries } from "./million-entries.js";
import { initPgbench, runTpcbLike } from "./pgbench-runner.js";

const SECONDS = Number(process.env["BENCH_SECONDS"] ?? "10");
const PGBENCH_SCALE = Number(process.env["PGBENCH_SCALE"] ?? "64");
const ACCOUNTS = 2_000;
const CONCURRENCY = [1, 16, 64] as const;
const QUICK = process.env["BENCH_QUICK"] === "1";
const ONLY_SINGLE = process.env["BENCH_ONLY"] === "single";
const listFromEnv = (name: string, fallback: readonly number[]) =>
  (QUICK || ONLY_SINGLE) && process.env[name] !== undefined
    ? process.env[name]!.split(",").filter(Boolean).map(Number)
    : fallback;
const CALLERS = listFromEnv("BENCH_CALLERS", CONCURRENCY);
const BATCH_SIZES = ONLY_SINGLE ? [] : listFromEnv("BENCH_BATCH_SIZES", [100, 1_000]);

/**
 * A load result with the CPU time per call (warm-up included) of the ledger process, of the
 * Postgres backends serving the benchmark database, and of this load generator: on two shared
 * cores, these say which of the three a figure is waiting on.
 */
type Measured = LoadResult & { cpuMsPerCall: number; postgresCpuMsPerCall: number; loadCpuMsPerCall: number };

async function measured(
  pid: number,
  admin: DatabasePool,
  callers: number,
  call: (caller: number) => Promise<unknown>,
): Promise<Measured> {
  let calls = 0;
  const cpuBefore = cpuSecondsOf(pid);
  const postgresBefore = new Map((await backendPidsOf(admin)).map((p) => [p, cpuSecondsOf(p)]));
  const loadBefore = process.cpuUsage();
  const result = await runLoad(callers, SECONDS, (caller) => call(caller).then(() => calls++));
  const load = process.cpuUsage(loadBefore);
  const cpuAfter = cpuSecondsOf(pid);
  // Backends opened during the run count whole; one closed during it (idle) is left out.
  let postgres = 0;
  for (const p of await backendPidsOf(admin)) {
    postgres += Math.max(0, cpuSecondsOf(p) - (postgresBefore.get(p) ?? 0));
  }
  const per = (seconds: number) => (1000 * seconds) / Math.max(1, calls);
  return {
    ...result,
    cpuMsPerCall: per(cpuAfter - cpuBefore),
    postgresCpuMsPerCall: per(postgres),
    loadCpuMsPerCall: per((load.user + load.system) / 1e6),
  };
}

/**
 * The server processes of the benchmark database's connections (the ledger's pool is opened
 * by then and keeps its connections), excluding the one asking. Postgres runs on this machine.
 */
async function backendPidsOf(admin: DatabasePool): Promise<number[]> {
  const pids = await admin.anyFirst(sql.unsafe`
    SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
  return (pids as number[]).filter((p) => existsSync(`/proc/${p}/stat`));
}

type Ledger = LeanConnectClient<typeof LedgerService>;

const started = performance.now();
const say = (line: string) =>
  console.error(`[${((performance.now() - started) / 1000).toFixed(0)}s] ${line}`);

const profile = process.env["BENCH_CPU_PROFILE"];

/** CPU seconds (user + system) the process `pid` has used so far, from /proc (Linux). */
function cpuSecondsOf(pid: number): number {
  if (!existsSync(`/proc/${pid}/stat`)) return 0; // a backend that has since exited
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The V8 flags the ledger is deployed with (docker-compose.yml's NODE_OPTIONS). */
const LEDGER_NODE_FLAGS = "--max-semi-space-size=64";

async function startServer(adminUrl: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      // As deployed (docker-compose.yml): a batch allocates briefly but a lot, and a young
      // generation of 16 MB semi-spaces promoted and rescanned much of it.
      LEDGER_NODE_FLAGS,
      ...(profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`] : []),
      "--import",
      "tsx",
      fileURLToPath(new URL("./bench-server.ts", import.meta.url)),
    ],
    {
      env: { ...process.env, BENCH_DATABASE_URL: adminUrl, BENCH_POOL_SIZE: "20" },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    if (line.startsWith("{")) return { child, url: (JSON.parse(line) as { url: string }).url };
  }
  throw new Error("the ledger server exited before listening");
}

/**
 * `count` callers, each on a keep-alive HTTP/1.1 connection of its own (as pgbench gives each
 * client its own connection), speaking binary Connect, sent by a lean client: connect-node's
 * own costs the shared cores about as much CPU per call as the ledger, and node:http2's client
 * about half as much (measured: the load generator's CPU per transfer fell by two fifths, from
 * HTTP/2 on node:http2 to this, with the ledger's own about the same). Their answers are
 * checked (HTTP 200), not decoded, as pgbench checks its statements' status; the set-up and
 * the GetBalance runs read theirs from `reader`.
 */
async function clientsFor(
  url: string,
  count: number,
): Promise<{ reader: Ledger; callers: CheckingConnectClient<typeof LedgerService>[] }> {
  const token = await mintToken({ sub: "bench", role: "admin" }, { ttlSeconds: 3600 });
  const options = {
    baseUrl: url,
    httpVersion: "1.1",
    headers: { authorization: `Bearer ${token}` },
  } as const;
  return {
    reader: leanConnectClient(LedgerService, options),
    callers: Array.from({ length: count }, () =>
      leanConnectClient(LedgerService, { ...options, replies: "checked" }),
    ),
  };
}

const leg = (accountId: string, direction: Direction, amount: string) => ({ accountId, direction, amount });

/** Two distinct accounts at random. */
function randomPair(ids: readonly string[]): [string, string] {
  const a = Math.floor(Math.random() * ids.length);
  let b = Math.floor(Math.random() * (ids.length - 1));
  if (b >= a) b++;
  return [ids[a]!, ids[b]!];
}

async function openAccounts(ledger: Ledger, count: number): Promise<string[]> {
  const cash = (
    await ledger.createAccount({
      idempotencyKey: randomUUID(),
      type: AccountType.ASSET,
      ownerRef: "bank",
      currency: "EUR",
    })
  ).account!;
  const ids: string[] = [];
  for (let i = 0; i < count; i += 50) {
    const opened = await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, (_, j) =>
        ledger.createAccount({
          idempotencyKey: randomUUID(),
          type: AccountType.LIABILITY,
          ownerRef: `customer-${i + j}`,
          currency: "EUR",
          debitsMustNotExceedCredits: true,
        }),
      ),
    );
    ids.push(...opened.map((o) => o.account!.id));
  }
  for (let i = 0; i < ids.length; i += 1_000) {
    await ledger.postTransactions({
      idempotencyKey: randomUUID(),
      atomic: true,
      transactions: ids.slice(i, i + 1_000).map((id) => ({
        legs: [leg(cash.id, Direction.DEBIT, "1000000.00"), leg(id, Direction.CREDIT, "1000000.00")],
      })),
    });
  }
  return ids;
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

type PgbenchRun = { clients: number; tps: number; latencyMs: number };

/** pgbench's tpcb-like on a database of its own on the same server, at each of CALLERS. */
async function runPgbench(url: string): Promise<PgbenchRun[]> {
  say(`pgbench tpcb-like at scale ${PGBENCH_SCALE}`);
  await initPgbench(url, PGBENCH_SCALE);
  const runs: PgbenchRun[] = [];
  for (const clients of CALLERS) {
    say(`pgbench, ${clients} clients, ${SECONDS} s`);
    runs.push({ clients, ...(await runTpcbLike(url, clients, SECONDS)) });
  }
  return runs;
}

const cpuColumns = (r: Measured) =>
  `${fmt(r.cpuMsPerCall, 2)} | ${fmt(r.postgresCpuMsPerCall, 2)} | ${fmt(r.loadCpuMsPerCall, 2)}`;

function singleVsPgbench(single: readonly Measured[], pgbench: readonly PgbenchRun[]): string[] {
  return [
    "### Single Transfer RPCs vs pgbench tpcb-like",
    "",
    "| callers | ledger transfers/s | p50 ms | p99 ms | CPU ms per transfer: ledger | Postgres | load generator | pgbench tps | ledger / pgbench |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...single.map((r, i) => {
      const pg = pgbench[i]!;
      return `| ${r.callers} | ${fmt(r.perSecond)} | ${fmt(r.p50Ms, 1)} | ${fmt(r.p99Ms, 1)} | ${cpuColumns(r)} | ${fmt(pg.tps)} | ${fmt((100 * r.perSecond) / pg.tps)}% |`;
    }),
  ];
}

function commandLine(loadBefore: number): string {
  const switches = ONLY_SINGLE ? `BENCH_ONLY=single, BENCH_CALLERS=${CALLERS.join(",")}, ` : "";
  return (
    `Command: \`npm run bench:ledger\` (${switches}BENCH_SECONDS=${SECONDS}, PGBENCH_SCALE=${PGBENCH_SCALE}). ` +
    `${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? process.arch}, Node ${process.version}; ` +
    `1-minute load average ${fmt(loadBefore, 1)} before the run and ${fmt(loadavg()[0]!, 1)} after it.`
  );
}

async function main(): Promise<void> {
  let db: TestDatabase | undefined;
  let pgbenchDb: TestDatabase | undefined;
  let server: ChildProcess | undefined;
  let clients: { close(): void }[] = [];
  const loadBefore = loadavg()[0]!;
  try {
    db = await createTestDatabase("ledger_bench");
    const admin = await createDatabasePool(db.adminUrl, { maximumPoolSize: 2, statementTimeoutMs: 600_000 });
    const started = await startServer(db.adminUrl);
    server = started.child;
    const callersAtMost = Math.max(2, ...CALLERS);
    const { reader: ledger, callers: connections } = await clientsFor(started.url, callersAtMost);
    clients = [ledger, ...connections];
    say(`ledger listening at ${started.url}; opening ${ACCOUNTS} funded accounts`);
    const ids = await openAccounts(ledger, ACCOUNTS);

    const pid = server.pid!;
    const single: Measured[] = [];
    for (const callers of CALLERS) {
      say(`single Transfer RPCs, ${callers} callers, ${SECONDS} s`);
      single.push(
        await measured(pid, admin, callers, (caller) => {
          const [from, to] = randomPair(ids);
          return connections[caller]!.transfer({
            idempotencyKey: randomUUID(),
            fromAccountId: from,
            toAccountId: to,
            amount: "0.01",
          });
        }),
      );
    }

    const batches: Measured[] = [];
    for (const size of BATCH_SIZES) {
      say(`PostTransactions batches of ${size}, ${SECONDS} s`);
      // Two callers on disjoint halves of the accounts, so one batch's database work overlaps the other's encoding.
      const halves = [ids.slice(0, ids.length / 2), ids.slice(ids.length / 2)];
      const result = await measured(pid, admin, 2, (caller) =>
        connections[caller]!.postTransactions({
          idempotencyKey: randomUUID(),
          atomic: false,
          transactions: Array.from({ length: size }, () => {
            const [from, to] = randomPair(halves[caller]!);
            return { legs: [leg(from, Direction.DEBIT, "0.01"), leg(to, Direction.CREDIT, "0.01")] };
          }),
        }),
      );
      batches.push({
        ...result,
        perSecond: result.perSecond * size,
        cpuMsPerCall: result.cpuMsPerCall / size,
        postgresCpuMsPerCall: result.postgresCpuMsPerCall / size,
        loadCpuMsPerCall: result.loadCpuMsPerCall / size,
      });
    }
    const writeRows = [
      "### Single Transfer RPCs",
      "",
      "| callers | transfers/s | p50 ms | p99 ms | CPU ms per transfer: ledger | Postgres | load generator |",
      "|---:|---:|---:|---:|---:|---:|---:|",
      ...single.map(
        (r) =>
          `| ${r.callers} | ${fmt(r.perSecond)} | ${fmt(r.p50Ms, 1)} | ${fmt(r.p99Ms, 1)} | ${cpuColumns(r)} |`,
      ),
      "",
      "### PostTransactions batches (2 callers)",
      "",
      "| batch size | transfers/s | p50 ms per batch | p99 ms per batch | CPU ms per transfer: ledger | Postgres | load generator |",
      "|---:|---:|---:|---:|---:|---:|---:|",
      ...batches.map(
        (r, i) =>
          `| ${fmt(BATCH_SIZES[i]!)} | ${fmt(r.perSecond)} | ${fmt(r.p50Ms, 1)} | ${fmt(r.p99Ms, 1)} | ${fmt(r.cpuMsPerCall, 3)} | ${fmt(r.postgresCpuMsPerCall, 3)} | ${fmt(r.loadCpuMsPerCall, 3)} |`,
      ),
      "",
      `Failures: ${single.map((r) => r.failures).join(" / ")} single, ${batches.map((r) => r.failures).join(" / ")} batch calls.`,
    ];
    if (QUICK) {
      console.log(writeRows.join("\n"));
      await admin.end();
      return;
    }
    if (ONLY_SINGLE) {
      await admin.end();
      pgbenchDb = await createTestDatabase("pgbench");
      const pgbench = await runPgbench(pgbenchDb.adminUrl);
      console.log(
        [
          commandLine(loadBefore),
          "",
          ...singleVsPgbench(single, pgbench),
          "",
          `Failures: ${single.map((r) => r.failures).join(" / ")} single calls.`,
        ].join("\n"),
      );
      return;
    }

    say("GetBalance on accounts with 1,000 and 1,000,000 entries (bulk-inserted by SQL)");
    const open = async (type: AccountType) =>
      (
        await ledger.createAccount({
          idempotencyKey: randomUUID(),
          type,
          ownerRef: "bench-history",
          currency: "EUR",
        })
      ).account!.id;
    const small = await open(AccountType.LIABILITY);
    const large = await open(AccountType.LIABILITY);
    const counterparties = await Promise.all(Array.from({ length: 100 }, () => open(AccountType.ASSET)));
    await appendEntries(admin, small, counterparties.slice(0, 10), 1_000, "a");
    const bulkStarted = performance.now();
    await appendEntries(admin, large, counterparties.slice(10), 1_000_000, "b");
    say(`1,000,000 entries written in ${fmt((performance.now() - bulkStarted) / 1000, 1)} s`);
    const check = await admin.oneFirst(sql.unsafe`
      SELECT count(*) FROM ledger.entries WHERE account_id = ${large}`);
    if (check !== "1000000") throw new Error(`expected 1,000,000 entries, found ${String(check)}`);
    const balanceOf = async (accountId: string, asOf?: Date) => {
      const { balance } = await ledger.getBalance({
        accountId,
        ...(asOf ? { asOf: timestampFromDate(asOf) } : {}),
      });
      return balance!;
    };
    if ((await balanceOf(large)).posted !== "10000.00") throw new Error("the bulk-inserted balance is wrong");
    await measureSequential(100, () => balanceOf(small));
    const getSmall = await measureSequential(1_000, () => balanceOf(small));
    const getLarge = await measureSequential(1_000, () => balanceOf(large));
    const asOf = new Date("2020-01-01T00:08:20Z"); // halfway through the large account's history
    const asOfSmall = await measureSequential(1_000, () => balanceOf(small, asOf));
    const asOfLarge = await measureSequential(1_000, () => balanceOf(large, asOf));

    pgbenchDb = await createTestDatabase("pgbench");
    const pgbench = await runPgbench(pgbenchDb.adminUrl);
    await admin.end();

    const rows = [
      "## Ledger",
      "",
      commandLine(loadBefore),
      "",
      ...singleVsPgbench(single, pgbench),
      "",
      ...writeRows.slice(writeRows.indexOf("### PostTransactions batches (2 callers)"), -2),
      "",
      "### GetBalance latency (1,000 sequential calls each)",
      "",
      "| entries on the account | p50 ms | p99 ms | as of a past time: p50 ms | p99 ms |",
      "|---:|---:|---:|---:|---:|",
      `| 1,000 | ${fmt(getSmall.p50Ms, 2)} | ${fmt(getSmall.p99Ms, 2)} | ${fmt(asOfSmall.p50Ms, 2)} | ${fmt(asOfSmall.p99Ms, 2)} |`,
      `| 1,000,000 | ${fmt(getLarge.p50Ms, 2)} | ${fmt(getLarge.p99Ms, 2)} | ${fmt(asOfLarge.p50Ms, 2)} | ${fmt(asOfLarge.p99Ms, 2)} |`,
      "",
      `Failures: ${single.map((r) => r.failures).join(" / ")} single, ${batches.map((r) => r.failures).join(" / ")} batch calls.`,
    ];
    console.log(rows.join("\n"));
    say("done");
  } finally {
    for (const client of clients) client.close();
    if (server) {
      server.kill("SIGTERM");
      await once(server, "exit");
    }
    await pgbenchDb?.drop();
    await db?.drop();
  }
}

await main();
