// npm run bench:loyalty — EarnPoints and AddStamp per second, with p50 and
// p99, from 16 and 64 concurrent terminals on this machine's Postgres.
// Writes the figures to the "## Loyalty" section of docs/benchmarks.md.
//   BENCH_SECONDS     length of each measured run (default 15)
//   BENCH_TERMINALS   comma-separated terminal counts (default 16,64)
//   BENCH_SERVER_NODE_ARGS  extra node flags for the service process, space-separated
//                     (say "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the service side)
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { once } from "node:events";
import { cpus, loadavg } from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createDatabasePool, sql } from "@money/db";
import { createTestDatabase, type TestDatabase } from "@money/db/testing";
import {
  LoyaltyService,
  PointsExpiry,
  PointsRounding,
  ShortfallPolicy,
} from "@money/proto/loyalty/v1/loyalty_pb";
import { mintToken } from "@money/rpc";
import {
  leanConnectClient,
  runLoad,
  type CheckingConnectClient,
  type LeanConnectClient,
  type LoadResult,
} from "@money/testkit";

const SECONDS = Number(process.env["BENCH_SECONDS"] ?? "15");
const TERMINALS = (process.env["BENCH_TERMINALS"] ?? "16,64").split(",").map(Number);
const CARDS_PER_TERMINAL = 16;
const STAFF = 8;
const MERCHANT = "bench-merchant";
const REPORT = fileURLToPath(new URL("../../../docs/benchmarks.md", import.meta.url));

type Loyalty = LeanConnectClient<typeof LoyaltyService>;
interface Terminal {
  /** The till's connection: its answers are checked (HTTP 200), not decoded, as the bench never reads them. */
  till: CheckingConnectClient<typeof LoyaltyService>;
  staff: { staffId: string; pin: string };
  cards: string[];
  next: number;
}

const started = performance.now();
const say = (line: string) =>
  console.error(`[${((performance.now() - started) / 1000).toFixed(0)}s] ${line}`);

async function startServer(adminUrl: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env["BENCH_SERVER_NODE_ARGS"] ?? "").split(" ").filter(Boolean),
      "--import",
      "tsx",
      fileURLToPath(new URL("./bench-server.ts", import.meta.url)),
    ],
    {
      env: { ...process.env, BENCH_DATABASE_URL: adminUrl, BENCH_POOL_SIZE: "20" },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  for await (const line of createInterface({ input: child.stdout! })) {
    if (line.startsWith("{")) return { child, url: (JSON.parse(line) as { url: string }).url };
  }
  throw new Error("the loyalty server exited before listening");
}

/**
 * The Connect protocol with binary bodies over one HTTP/1.1 keep-alive connection per till, sent by
 * a lean client: connect-node's own costs the shared cores about as much CPU per call as the
 * service. A till that speaks Connect JSON is covered by a test, not measured here.
 */
function clientFor(url: string, token?: string): Loyalty {
  return leanConnectClient(LoyaltyService, {
    baseUrl: url,
    httpVersion: "1.1",
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
}

async function setUp(url: string, terminals: number): Promise<Terminal[]> {
  const admin = clientFor(
    url,
    await mintToken({ sub: "bench-admin", role: "admin", merchantId: MERCHANT }, { ttlSeconds: 3600 }),
  );
  await admin.configureProgram({
    idempotencyKey: randomUUID(),
    program: {
      name: "Bench club",
      currency: "EUR",
      stampsPerReward: 1000,
      stampRewardName: "Free coffee",
      maxStampsPerVisit: 1,
      pointsPerUnit: "1",
      pointsRounding: PointsRounding.DOWN,
      pointsExpiry: PointsExpiry.AFTER_EARNING,
      pointsExpiryDays: 365,
      shortfallPolicy: ShortfallPolicy.ALLOW_NEGATIVE_BALANCE,
      rewards: [{ code: "COFFEE", name: "Coffee", pointsCost: 100n }],
    },
  });
  const { store } = await admin.createStore({
    idempotencyKey: randomUUID(),
    name: "Bench store",
    timeZone: "Europe/Paris",
  });
  const staff = await Promise.all(
    Array.from({ length: STAFF }, async (_, i) => {
      const pin = String(1000 + i);
      const { staffMember } = await admin.createStaffMember({
        idempotencyKey: randomUUID(),
        displayName: `Staff ${i}`,
        pin,
      });
      return { staffId: staffMember!.id, pin };
    }),
  );
  const unauthenticated = clientFor(url);
  const result: Terminal[] = [];
  for (let t = 0; t < terminals; t++) {
    const { pairingCode } = await admin.createPairingCode({
      idempotencyKey: randomUUID(),
      storeId: store!.id,
      deviceLabel: `Till ${t}`,
    });
    const { deviceToken } = await unauthenticated.pairDevice({ idempotencyKey: randomUUID(), pairingCode });
    const enrolling = clientFor(url, deviceToken);
    const terminal: Terminal = {
      till: leanConnectClient(LoyaltyService, {
        baseUrl: url,
        httpVersion: "1.1",
        headers: { authorization: `Bearer ${deviceToken}` },
        replies: "checked",
      }),
      staff: staff[t % STAFF]!,
      cards: [],
      next: 0,
    };
    terminal.cards = await Promise.all(
      Array.from({ length: CARDS_PER_TERMINAL }, async (_, c) => {
        const number = `T${t}-C${c}`;
        const { card } = await enrolling.enrollCard({
          idempotencyKey: randomUUID(),
          customerRef: `customer-${t}-${c}`,
          cardNumber: number,
          qrPayload: `qr:${number}`,
          staff: terminal.staff,
        });
        return card!.id;
      }),
    );
    enrolling.close();
    result.push(terminal);
  }
  return result;
}

/** Each terminal serves its own customers, one card after another, as a till does. */
const nextCard = (terminal: Terminal) => terminal.cards[terminal.next++ % terminal.cards.length]!;

const earn = (terminal: Terminal) =>
  terminal.till.earnPoints({
    idempotencyKey: randomUUID(),
    cardId: nextCard(terminal),
    staff: terminal.staff,
    orderReference: randomUUID(),
    purchaseAmount: "12.34",
    currency: "EUR",
  });

const stamp = (terminal: Terminal) =>
  terminal.till.addStamp({
    idempotencyKey: randomUUID(),
    cardId: nextCard(terminal),
    staff: terminal.staff,
  });

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

interface Row {
  operation: string;
  result: LoadResult;
  /** The machine's 1-minute load average at the end of the run: other work shares the two cores. */
  load: number;
}

function report(rows: Row[], checks: string): string {
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  return [
    "## Loyalty",
    "",
    `\`npm run bench:loyalty\`, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpu}), Postgres and the service on the same machine.`,
    "",
    "Each terminal is a paired device with its own token; every call carries a staff member's PIN",
    "(verified per call: the database row every time, scrypt once per few minutes per staff member),",
    "an idempotency key, and for EarnPoints a new order reference. Calls are the Connect protocol with",
    "binary (protobuf) bodies over HTTP/1.1 keep-alive, one connection per till, sent by a lean client",
    "(packages/testkit; connect-node's client cost the shared cores about 0.4 ms per call), which writes",
    "HTTP/1.1 on the socket itself and checks each answer by its status (200) without decoding it; a till speaking",
    "Connect JSON is covered by a test, not measured. The service runs in its own process",
    "with a pool of 20 connections and its outbox relay; an in-process bus stands in for Kafka so the",
    "broker's JVM does not compete for the two cores. Each run is measured for",
    `${SECONDS} s after 2 s of warm-up. Terminals' EarnPoints and AddStamp calls are group-committed`,
    "(services/loyalty/README.md): the calls that arrive together share one transaction of two",
    "statements on a pipelined connection (BEGIN sent with the locks, the device, staff and card rows",
    "and the lot sums for the replies; one write of lots, rows, cards, idempotency records and outbox",
    "events sent with COMMIT), two round trips and both statements prepared, instead of about a",
    'dozen statements each. "load avg" is the machine\'s 1-minute load average as the run ended:',
    "other work on the machine shares the same two cores.",
    "",
    "| operation | terminals | calls/s | p50 ms | p99 ms | failures | load avg |",
    "|---|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      ({ operation, result: r, load }) =>
        `| ${operation} | ${r.callers} | ${fmt(r.perSecond)} | ${fmt(r.p50Ms, 1)} | ${fmt(r.p99Ms, 1)} | ${r.failures} | ${fmt(load, 1)} |`,
    ),
    "",
    checks,
    "",
    "### Against the target",
    "",
    ...targetLines(rows),
    "",
    "The day before, at 64 terminals (2026-12-06 night: a whole-machine perf profile, a trace of",
    "the group commit's batches and pg_stat_statements, each in a run of its own):",
    "",
    "- Samples: the service about 28%, the load generator about 15%, Postgres's backends about 37%,",
    "  idle about 12%. The load generator spends a fifth of its time decoding the replies.",
    "- About 130 batches a second of about 17 postings (p10 8, p90 30). A batch takes 13.5 ms at",
    "  the median from its start to its commit, nearly whatever its size (11 ms for 5 postings,",
    "  17 ms for 35): most of it is waiting for a core between its two round trips.",
    "- Postgres per batch: the write 3.0 ms (lots, ledger row and its eight indexes, card, key, two",
    "  outbox rows per posting, one per batch since 2026-12-07), the lookup 1.4 ms. The outbox relay",
    "  runs about 77 passes a second (about one per two batches) at 0.2 ms of Postgres each, and its",
    "  own two round trips.",
    "",
    "Tried and left out: holding relay passes 10 ms apart halved them (77 to 38 a second) but gave",
    "no more earns over four pairs of runs. What might help next: a load generator that checks",
    "replies without decoding them; less CPU per posting in the service (a tenth of its busy time",
    "is garbage collection).",
    "",
  ].join("\n");
}

/** The target, met or not, from the EarnPoints runs. */
function targetLines(rows: Row[]): string[] {
  return rows
    .filter((r) => r.operation === "EarnPoints")
    .map(({ result: r }) => {
      const met = r.perSecond >= 2_000 && r.p99Ms < 50;
      return `- **EarnPoints at ${r.callers} terminals, at least 2,000/s with p99 under 50 ms: ${met ? "met" : "not met"}** (${fmt(r.perSecond)}/s, p99 ${fmt(r.p99Ms, 1)} ms).`;
    });
}

/** Replaces (or appends) the "## Loyalty" section of the report, leaving the others alone. */
async function writeReport(section: string): Promise<void> {
  const existing = await readFile(REPORT, "utf8").catch(() => "# Benchmarks\n");
  const start = existing.indexOf("## Loyalty");
  if (start < 0) {
    await writeFile(REPORT, `${existing.trimEnd()}\n\n${section}`);
    return;
  }
  const next = existing.indexOf("\n## ", start + 1);
  const rest = next < 0 ? "" : `\n${existing.slice(next + 1)}`;
  await writeFile(REPORT, existing.slice(0, start) + section.trimEnd() + "\n" + rest);
}

async function main(): Promise<void> {
  let db: TestDatabase | undefined;
  let server: ChildProcess | undefined;
  try {
    db = await createTestDatabase("loyalty_bench");
    const started = await startServer(db.adminUrl);
    server = started.child;
    say(`loyalty listening at ${started.url}; pairing ${Math.max(...TERMINALS)} terminals`);
    const terminals = await setUp(started.url, Math.max(...TERMINALS));
    const rows: Row[] = [];
    for (const [operation, call] of [
      ["EarnPoints", earn],
      ["AddStamp", stamp],
    ] as const) {
      for (const count of TERMINALS) {
        say(`${operation}, ${count} terminals, ${SECONDS} s`);
        const result = await runLoad(count, SECONDS, (i) => call(terminals[i]!), { warmupSeconds: 2 });
        say(
          `  ${fmt(result.perSecond)}/s, p50 ${fmt(result.p50Ms, 1)} ms, p99 ${fmt(result.p99Ms, 1)} ms, ${result.failures} failures`,
        );
        rows.push({ operation, result, load: loadavg()[0]! });
      }
    }
    const admin = await createDatabasePool(db.adminUrl, { maximumPoolSize: 1 });
    const books = await admin.one(sql.unsafe`
      SELECT (SELECT count(*) FROM loyalty.loyalty_transactions WHERE type = 'points_earned') AS earns,
             (SELECT count(*) FROM loyalty.loyalty_transactions WHERE type = 'stamp_added') AS stamps,
             (SELECT count(*) FROM loyalty.cards c WHERE c.points_balance <>
                (SELECT coalesce(sum(points_delta), 0) FROM loyalty.loyalty_transactions t WHERE t.card_id = c.id)) AS cards_off
    `);
    await admin.end();
    const checks = `After the runs: ${fmt(Number(books["earns"]))} POINTS_EARNED and ${fmt(Number(books["stamps"]))} STAMP_ADDED rows; cards whose balance differs from the sum of their rows: ${String(books["cards_off"])}.`;
    const section = report(rows, checks);
    await writeReport(section);
    console.log(section);
  } finally {
    server?.kill("SIGTERM");
    if (server) await once(server, "exit");
    await db?.drop().catch(() => undefined);
  }
}

await main();
