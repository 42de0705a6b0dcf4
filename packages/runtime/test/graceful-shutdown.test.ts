import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { createDatabasePool, sql } from "@money/db";
import { createTestDatabase, type TestDatabase } from "@money/db/testing";
import { KafkaBus } from "@money/kafka";
import { testBrokers } from "@money/kafka/testing";
import { ledgerService } from "@money/ledger";
import { mintToken, tokenVerifierFromEnv } from "@money/rpc";
import { HealthCheckResponse_ServingStatus } from "@money/proto/grpc/health/v1/health_pb";
import { startService } from "../src/index.js";

let db: TestDatabase;
let bus: KafkaBus;

beforeAll(async () => {
  db = await createTestDatabase("shutdown");
  bus = new KafkaBus({ brokers: testBrokers(), clientId: "shutdown-test" });
});

afterAll(async () => {
  await bus?.close();
  await db?.drop();
});

it("drains in-flight calls, flushes the outbox, then refuses new connections", async () => {
  const ledger = await startService(ledgerService, {
    adminDatabaseUrl: db.adminUrl,
    bus,
    verifier: await tokenVerifierFromEnv({}),
    port: 0,
    roles: true,
    servicePassword: "dev",
    poolSize: 4,
    listen: true,
    // A slow poll shows the final flush at stop, not the loop, published the events.
    relayIdlePollMs: 60_000,
  });
  const token = await mintToken({ sub: "ops", role: "admin" });
  const open = (i: number) =>
    fetch(`${ledger.url}/ledger.v1.LedgerService/CreateAccount`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({
        idempotencyKey: `drain-${i}`,
        type: "ACCOUNT_TYPE_ASSET",
        ownerRef: "drain",
        currency: "EUR",
      }),
    }).then((r) => r.status);

  const admin = await createDatabasePool(db.adminUrl);
  try {
    // Hold every call inside the server: a lock on the accounts table keeps them waiting.
    let release: () => void = () => {};
    const locked = new Promise<void>((resolve) => (release = resolve));
    const lockHeld = admin.transaction(async (tx) => {
      await tx.query(sql.unsafe`LOCK TABLE ledger.accounts IN EXCLUSIVE MODE`);
      await locked;
    });
    const inFlight = Array.from({ length: 30 }, (_, i) => open(i));
    while (ledger.server.inFlightCalls < 30) await new Promise((resolve) => setTimeout(resolve, 10));

    const stopped = ledger.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(ledger.server.health.statusOf("")).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
    release();
    await lockHeld;
    await stopped;
    expect(await Promise.all(inFlight)).toEqual(Array(30).fill(200));
    await expect(open(99)).rejects.toThrow();

    expect(
      await admin.oneFirst(sql.unsafe`SELECT count(*) FROM ledger.accounts WHERE owner_ref = 'drain'`),
    ).toBe("30");
    expect(await admin.oneFirst(sql.unsafe`SELECT count(*) FROM ledger.outbox`)).toBe("0");
  } finally {
    await admin.end();
  }
});
