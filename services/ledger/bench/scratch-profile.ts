import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createTestDatabase } from "@money/db/testing";
import { AccountType, Direction, LedgerService } from "@money/proto/ledger/v1/ledger_pb";
import { mintToken } from "@money/rpc";

const db = await createTestDatabase("ledger_prof");
const child = spawn(
  process.execPath,
  [
    "--cpu-prof",
    "--cpu-prof-dir=/tmp/ledger-prof",
    "--import",
    "tsx",
    "services/ledger/bench/bench-server.ts",
  ],
  {
    env: { ...process.env, BENCH_DATABASE_URL: db.adminUrl },
    stdio: ["ignore", "pipe", "inherit"],
  },
);
let url = "";
for await (const line of createInterface({ input: child.stdout! })) {
  if (line.startsWith("{")) {
    url = JSON.parse(line).url;
    break;
  }
}
const token = await mintToken({ sub: "bench", role: "admin" });
const bearer: Interceptor = (next) => (req) => {
  req.header.set("authorization", `Bearer ${token}`);
  return next(req);
};
const c = createClient(
  LedgerService,
  createConnectTransport({ baseUrl: url, httpVersion: "2", useBinaryFormat: true, interceptors: [bearer] }),
);
const cash = (
  await c.createAccount({
    idempotencyKey: randomUUID(),
    type: AccountType.ASSET,
    ownerRef: "b",
    currency: "EUR",
  })
).account!;
const ids: string[] = [];
for (let i = 0; i < 200; i++)
  ids.push(
    (
      await c.createAccount({
        idempotencyKey: randomUUID(),
        type: AccountType.LIABILITY,
        ownerRef: "b",
        currency: "EUR",
      })
    ).account!.id,
  );
const mode = process.argv[2] ?? "batch";
const t0 = performance.now();
if (mode === "batch") {
  for (let b = 0; b < 10; b++) {
    await c.postTransactions({
      idempotencyKey: randomUUID(),
      atomic: false,
      transactions: Array.from({ length: 1000 }, (_, i) => ({
        legs: [
          { accountId: cash.id, direction: Direction.DEBIT, amount: "0.01" },
          { accountId: ids[i % 200]!, direction: Direction.CREDIT, amount: "0.01" },
        ],
      })),
    });
  }
  console.log("ms per batch of 1000", (performance.now() - t0) / 10);
} else {
  for (let i = 0; i < 500; i++)
    await c.transfer({
      idempotencyKey: randomUUID(),
      fromAccountId: cash.id,
      toAccountId: ids[i % 200]!,
      amount: "0.01",
    });
  console.log("ms per transfer", (performance.now() - t0) / 500);
}
child.kill("SIGTERM");
await once(child, "exit");
await db.drop();
