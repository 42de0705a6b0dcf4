// npm run bench:refunds — end-to-end refund latency (RequestRefund to the
// refund's SUCCEEDED event, automatic approval band) and refunds completed
// per second with 32 concurrent requesters, each waiting for its refund to
// finish before asking for the next. The ledger (with its saga participant),
// loyalty (with its participant) and refunds run as three processes on the
// real Kafka broker and Postgres, as deployed. Prints a Markdown report.
//   BENCH_REFUNDS      refunds measured per run (default 2000), after BENCH_WARMUP (default 200)
//   BENCH_REQUESTERS   concurrent requesters of each run (default "1,32"; the single
//                      requester's run measures BENCH_REFUNDS / 10)
//   KAFKA_BROKERS      the broker (default 127.0.0.1:19092)
//   BENCH_COUNT_STATEMENTS "1": each service prints the SQL statements of the last measured run (stderr)
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createDatabasePool, sql } from "@money/db";
import { createTestDatabase } from "@money/db/testing";
import { decodeEnvelope, KafkaBus, payloadAs } from "@money/kafka";
import { AccountType, Direction, LedgerService } from "@money/proto/ledger/v1/ledger_pb";
import {
  LoyaltyService,
  PointsExpiry,
  PointsRounding,
  ShortfallPolicy,
} from "@money/proto/loyalty/v1/loyalty_pb";
import {
  ReasonCode,
  RefundService,
  RefundStatus,
  RefundStatusChangedSchema,
} from "@money/proto/refunds/v1/refunds_pb";
import { mintToken, type Role } from "@money/rpc";

const REFUNDS = Number(process.env["BENCH_REFUNDS"] ?? "2000");
const WARMUP = Number(process.env["BENCH_WARMUP"] ?? "200");
const RUNS = (process.env["BENCH_REQUESTERS"] ?? "1,32").split(",").map(Number);
const REQUESTERS = Math.max(...RUNS);
const refundsOf = (requesters: number) => (requesters === 1 ? Math.ceil(REFUNDS / 10) : REFUNDS);
const BROKERS = process.env["KAFKA_BROKERS"] ?? "127.0.0.1:19092";
const AMOUNT = "10.00";
const MERCHANT = "m-bench";
const NAMESPACE = `bench-${randomUUID().slice(0, 8)}`;

const started = performance.now();
const say = (line: string) =>
  console.error(`[${((performance.now() - started) / 1000).toFixed(0)}s] ${line}`);

async function startServer(
  which: string,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string }> {
  // BENCH_CPU_PROFILE=<dir> writes a V8 CPU profile of each service process there.
  const profile = process.env["BENCH_CPU_PROFILE"];
  const child = spawn(
    process.execPath,
    [
      ...(profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`] : []),
      "--import",
      "tsx",
      fileURLToPath(new URL("./bench-server.ts", import.meta.url)),
      which,
    ],
    {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  for await (const line of createInterface({ input: child.stdout! })) {
    if (line.startsWith("{")) return { child, url: (JSON.parse(line) as { url: string }).url };
  }
  throw new Error(`the ${which} server exited before listening`);
}

function client<S extends typeof LedgerService | typeof LoyaltyService | typeof RefundService>(
  service: S,
  baseUrl: string,
  role: Role,
  sub: string,
  merchantId?: string,
): Client<S> {
  const token = mintToken({ sub, role, merchantId }, { ttlSeconds: 7200 });
  const bearer: Interceptor = (next) => async (req) => {
    req.header.set("authorization", `Bearer ${await token}`);
    return next(req);
  };
  return createClient(
    service,
    createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true, interceptors: [bearer] }),
  );
}

/**
 * CPU time (user + system) so far of each named process, of the Postgres
 * backends connected to the benchmark's database, of Postgres's shared
 * processes (WAL writer, checkpointer, ...: other databases' work too), and
 * of the Kafka broker, from /proc (Linux).
 */
function cpuSeconds(processes: Record<string, number>, database: string): Record<string, number> {
  const ticks = 100; // USER_HZ on Linux
  const of = (pid: number) => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return (Number(fields[11]) + Number(fields[12])) / ticks;
    } catch {
      return 0; // the process ended
    }
  };
  const all = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  const named = (pattern: RegExp) =>
    all
      .filter((pid) => {
        try {
          return pattern.test(readFileSync(`/proc/${pid}/cmdline`, "utf8"));
        } catch {
          return false;
        }
      })
      .reduce((sum, pid) => sum + of(Number(pid)), 0);
  return {
    ...Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, of(pid)])),
    // A backend's title is "postgres: <user> <database> <client> <state>".
    postgres: named(new RegExp(`^postgres: (\\S+: )?\\S+ ${database} `)),
    "postgres shared": named(/^postgres: (\S+: )?(walwriter|checkpointer|background writer)/),
    kafka: kafkaBrokerPid === undefined ? named(/kafka\.Kafka/) : of(kafkaBrokerPid),
  };
}

/**
 * The process of the broker listening on `port`, from /proc (Linux): other
 * brokers on the machine (other test runs) are not this bench's.
 */
function brokerPidListeningOn(port: number): number | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is ADDRESS:PORT in hex; state 0A is LISTEN; field 9 is the socket's inode.
      if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === "0A") inodes.add(fields[9]!);
    }
  }
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("kafka.Kafka")) continue;
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (inodes.has(link.slice("socket:[".length, -1))) return Number(pid);
      }
    } catch {
      // A process that ended, or one we may not look into.
    }
  }
  return undefined;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const db = await createTestDatabase("bench_refunds");
const databaseName = new URL(db.adminUrl).pathname.slice(1);
const kafkaBrokerPid = brokerPidListeningOn(Number(BROKERS.split(",")[0]!.split(":").at(-1)));
const children: ChildProcess[] = [];
const bus = new KafkaBus({ brokers: BROKERS.split(","), clientId: "bench-refunds-load" });
try {
  const env = {
    BENCH_DATABASE_URL: db.adminUrl,
    KAFKA_BROKERS: BROKERS,
    REFUNDS_SAGA_NAMESPACE: NAMESPACE,
    // A fresh namespace: nothing on the topics is for it.
    REFUNDS_SAGA_START_AT: "latest",
  };
  say("starting ledger and loyalty");
  const ledgerServer = await startServer("ledger", env);
  const loyaltyServer = await startServer("loyalty", { ...env, LOYALTY_EXPIRY_INTERVAL_MS: "0" });
  children.push(ledgerServer.child, loyaltyServer.child);
  say("starting refunds");
  const refundsServer = await startServer("refunds", { ...env, LEDGER_URL: ledgerServer.url });
  children.push(refundsServer.child);

  const ledger = client(LedgerService, ledgerServer.url, "admin", "bench");
  const loyalty = client(LoyaltyService, loyaltyServer.url, "admin", "bench-admin", MERCHANT);
  const refundsAdmin = client(RefundService, refundsServer.url, "admin", "bench-admin");
  const total = WARMUP + RUNS.reduce((sum, n) => sum + refundsOf(n), 0);

  say(`setting up ${total} settled payments with loyalty points`);
  const open = async (ownerRef: string, type: AccountType) =>
    (await ledger.createAccount({ idempotencyKey: randomUUID(), type, ownerRef, currency: "EUR" })).account!;
  const bank = await open("bank", AccountType.ASSET);
  const merchant = await open(MERCHANT, AccountType.LIABILITY);
  const customers: Awaited<ReturnType<typeof open>>[] = [];
  for (let i = 0; i < REQUESTERS; i++) {
    const customer = await open(`customer-${i}`, AccountType.LIABILITY);
    await ledger.transfer({
      idempotencyKey: randomUUID(),
      fromAccountId: bank.id,
      toAccountId: customer.id,
      amount: "1000000.00",
    });
    customers.push(customer);
  }
  const payments: { transactionId: string; order: string; customer: number }[] = [];
  for (let from = 0; from < total; from += 500) {
    const batch = Array.from({ length: Math.min(500, total - from) }, (_, j) => {
      const n = from + j;
      return { order: `bench-order-${n}`, customer: n % REQUESTERS };
    });
    const { results } = await ledger.postTransactions({
      idempotencyKey: randomUUID(),
      atomic: true,
      transactions: batch.map(({ order, customer }) => ({
        legs: [
          { accountId: customers[customer]!.id, direction: Direction.DEBIT, amount: AMOUNT },
          { accountId: merchant.id, direction: Direction.CREDIT, amount: AMOUNT },
        ],
        externalRef: order,
        metadata: { merchant_id: MERCHANT, order_reference: order, customer_id: `customer-${customer}` },
      })),
    });
    results.forEach((r, j) => {
      if (r.outcome.case !== "transactionId") throw new Error(`payment ${from + j} failed`);
      payments.push({ transactionId: r.outcome.value, ...batch[j]! });
    });
  }
  await loyalty.configureProgram({
    idempotencyKey: randomUUID(),
    program: {
      name: "Bench club",
      currency: "EUR",
      pointsPerUnit: "1",
      pointsRounding: PointsRounding.DOWN,
      pointsExpiry: PointsExpiry.NEVER,
      shortfallPolicy: ShortfallPolicy.ALLOW_NEGATIVE_BALANCE,
    },
  });
  const cards: string[] = [];
  for (let i = 0; i < REQUESTERS; i++) {
    const number = `BENCH-${i}`;
    const { card } = await loyalty.enrollCard({
      idempotencyKey: randomUUID(),
      customerRef: `customer-${i}`,
      cardNumber: number,
      qrPayload: `qr:${number}`,
    });
    cards.push(card!.id);
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < payments.length) {
        const p = payments[next++]!;
        await loyalty.earnPoints({
          idempotencyKey: randomUUID(),
          cardId: cards[p.customer]!,
          orderReference: p.order,
          purchaseAmount: AMOUNT,
          currency: "EUR",
        });
      }
    }),
  );
  await refundsAdmin.setApprovalPolicy({
    idempotencyKey: randomUUID(),
    policy: {
      merchantId: MERCHANT,
      currency: "EUR",
      bands: [{ minAmount: "0", approvalsRequired: 0 }],
      approvalTtlSeconds: 3600n,
    },
    reason: "benchmark: every refund approves itself",
  });

  // Completion as a consumer sees it: the refund's SUCCEEDED event on refunds.events.
  const waiting = new Map<string, (status: RefundStatus) => void>();
  const early = new Map<string, RefundStatus>();
  const events = await bus.subscribe({
    groupId: `bench-refunds-${NAMESPACE}`,
    topics: ["refunds.events"],
    fromBeginning: false,
    handle: async (message) => {
      if (message.headers["event-type"] !== RefundStatusChangedSchema.typeName) return;
      const event = payloadAs(decodeEnvelope(message.value), RefundStatusChangedSchema);
      if (
        !event ||
        (event.toStatus !== RefundStatus.SUCCEEDED &&
          event.toStatus !== RefundStatus.FAILED &&
          event.toStatus !== RefundStatus.REQUIRES_ATTENTION)
      )
        return;
      const resolve = waiting.get(message.key);
      if (resolve) resolve(event.toStatus);
      else early.set(message.key, event.toStatus);
    },
  });
  // Let the group settle on its partitions before the first refund's events are published.
  await new Promise((resolve) => setTimeout(resolve, 3000));

  const requesters = Array.from({ length: REQUESTERS }, (_, i) =>
    client(RefundService, refundsServer.url, "staff", `clerk-${i}`),
  );
  let cursor = 0;
  const run = async (count: number, concurrency: number) => {
    const end = cursor + count;
    const latencies: number[] = [];
    const ids: string[] = [];
    let failures = 0;
    const t0 = performance.now();
    await Promise.all(
      requesters.slice(0, concurrency).map(async (requester) => {
        while (cursor < end) {
          const p = payments[cursor++]!;
          const sent = performance.now();
          const { refund } = await requester.requestRefund({
            idempotencyKey: randomUUID(),
            originalTransactionId: p.transactionId,
            amount: AMOUNT,
            currency: "EUR",
            reasonCode: ReasonCode.RETURN,
          });
          const status =
            early.get(refund!.id) ??
            (await new Promise<RefundStatus>((resolve) => waiting.set(refund!.id, resolve)));
          waiting.delete(refund!.id);
          latencies.push(performance.now() - sent);
          ids.push(refund!.id);
          if (status !== RefundStatus.SUCCEEDED) failures++;
        }
      }),
    );
    return {
      seconds: (performance.now() - t0) / 1000,
      latencies: latencies.sort((a, b) => a - b),
      ids,
      failures,
    };
  };

  say(`warm-up: ${WARMUP} refunds`);
  await run(WARMUP, REQUESTERS);
  const processes = {
    ledger: ledgerServer.child.pid!,
    loyalty: loyaltyServer.child.pid!,
    refunds: refundsServer.child.pid!,
    "load generator": process.pid,
  };
  const admin = await createDatabasePool(db.adminUrl, { maximumPoolSize: 2 });
  const fmt = (n: number) =>
    n.toLocaleString("en-US", { maximumFractionDigits: 1, minimumFractionDigits: 1 });
  const rows: string[] = [];
  let last:
    | { cpu: Record<string, number>; messages: string[]; count: number; ids: string[]; load: number }
    | undefined;
  const countingStatements = process.env["BENCH_COUNT_STATEMENTS"] === "1";
  for (const concurrency of RUNS) {
    const count = refundsOf(concurrency);
    say(`measuring: ${count} refunds, ${concurrency} requesters`);
    const load = loadavg()[0]!;
    // Every message the services publish goes through their outboxes, one row per write, whose
    // relays delete the rows they published: the outbox id sequences count the writes.
    const outboxIds = () =>
      admin.one(sql.unsafe`
        SELECT (SELECT last_value FROM ledger.outbox_id_seq) AS ledger,
               (SELECT last_value FROM loyalty.outbox_id_seq) AS loyalty,
               (SELECT last_value FROM refunds.outbox_id_seq) AS refunds
      `);
    const outboxBefore = await outboxIds();
    if (countingStatements) for (const child of children) child.kill("SIGUSR2");
    const cpuBefore = cpuSeconds(processes, databaseName);
    const result = await run(count, concurrency);
    const cpuAfter = cpuSeconds(processes, databaseName);
    if (countingStatements) for (const child of children) child.kill("SIGUSR2");
    const outboxAfter = await outboxIds();
    const server = await admin.one(sql.unsafe`
      SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
      FROM (SELECT extract(epoch FROM completed_at - created_at) * 1000 AS ms FROM refunds.refunds
            WHERE id = ANY(${sql.array(result.ids, "uuid")})) s
    `);
    rows.push(
      `| ${concurrency} | ${count} | ${fmt(count / result.seconds)} | ${fmt(percentile(result.latencies, 50))} | ${fmt(percentile(result.latencies, 99))} | ${fmt(Number(server["p50"]))} | ${fmt(Number(server["p99"]))} | ${result.failures} | ${load.toFixed(2)} |`,
    );
    last = {
      cpu: Object.fromEntries(Object.keys(cpuAfter).map((k) => [k, cpuAfter[k]! - cpuBefore[k]!])),
      messages: (["ledger", "loyalty", "refunds"] as const).map(
        (service) =>
          `${service} ${fmt((Number(outboxAfter[service]) - Number(outboxBefore[service])) / count)}`,
      ),
      count,
      ids: result.ids,
      load,
    };
  }
  await events.stop();

  const steps = await admin.any(sql.unsafe`
    SELECT step, percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - started_at) * 1000) AS p50
    FROM refunds.saga_steps WHERE status = 'succeeded' AND started_at IS NOT NULL AND refund_id = ANY(${sql.array(last!.ids, "uuid")})
    GROUP BY step
    ORDER BY array_position(ARRAY['mark_refund_processing', 'reverse_ledger_transaction', 'reverse_loyalty_points', 'complete_ledger_refund'], step)
  `);
  const reversals = await admin.oneFirst(
    sql.unsafe`SELECT count(*) FROM ledger.transactions WHERE kind = 'reversal'`,
  );
  const refunded = await admin.oneFirst(
    sql.unsafe`SELECT count(*) FROM ledger.transactions WHERE status = 'refunded'`,
  );
  const points = await admin.oneFirst(sql.unsafe`SELECT coalesce(sum(points_balance), 0) FROM loyalty.cards`);
  await admin.end();

  console.log(
    `| requesters | refunds | refunds/s | p50 ms | p99 ms | server p50 ms | server p99 ms | failures | load average |`,
  );
  console.log(`|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
  for (const row of rows) console.log(row);
  console.log("");
  console.log(
    `Run with ${RUNS.at(-1)} requesters: median per saga step (command written to reply applied, server clocks): ${steps
      .map((r) => `${r["step"] as string} ${fmt(Number(r["p50"]))} ms`)
      .join(", ")}. CPU time per refund: ${Object.keys(last!.cpu)
      .map((name) => `${name} ${fmt((last!.cpu[name]! / last!.count) * 1000)} ms`)
      .join(", ")}. Outbox writes per refund (each one or more messages): ${last!.messages.join(", ")}.`,
  );
  console.log("");
  console.log(
    `After the run: ${reversals} reversals and ${refunded} REFUNDED transactions for ${total} refunds; loyalty points left on the cards: ${points}. ` +
      `${cpus().length} cores (${cpus()[0]?.model.trim()}); load average (1 min) as each measured run began.`,
  );
} finally {
  for (const child of children) child.kill("SIGTERM");
  await bus.close();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await db.drop();
}
