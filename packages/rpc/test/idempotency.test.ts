import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createDatabasePool,
  inTransaction,
  provisionServiceDatabase,
  sql,
  type DatabasePool,
  type DatabaseTransactionConnection,
} from "@money/db";
import { createTestDatabase, type TestDatabase } from "@money/db/testing";
import {
  HealthCheckRequestSchema,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as Status,
} from "@money/proto/grpc/health/v1/health_pb";
import { DomainError, IDEMPOTENCY_MIGRATIONS_DIR } from "../src/index.js";
import { runIdempotent, runIdempotentIn } from "../src/idempotency/idempotency.js";

// A stand-in effect with a visible, countable write: each run that commits
// appends one row to `effects`, and refuses once the row budget is spent.
let db: TestDatabase;
let serializable: DatabasePool;
let readCommitted: DatabasePool;

beforeAll(async () => {
  db = await createTestDatabase("idempotency");
  const migrations = await mkdtemp(join(tmpdir(), "idem-migrations-"));
  await writeFile(
    join(migrations, "0001_effects.sql"),
    `CREATE TABLE effects (id serial PRIMARY KEY, label text NOT NULL);
     CREATE TABLE budget (remaining int NOT NULL); INSERT INTO budget VALUES (1000);`,
  );
  const url = await provisionServiceDatabase(db.adminUrl, {
    service: "idem",
    migrationDirs: [IDEMPOTENCY_MIGRATIONS_DIR, migrations],
    servicePassword: "dev",
    roles: true,
  });
  serializable = await createDatabasePool(url, { defaultIsolation: "serializable" });
  readCommitted = await createDatabasePool(url);
});

afterAll(async () => {
  await serializable?.end();
  await readCommitted?.end();
  await db?.drop();
});

function call(key: string, service = "ledger") {
  return {
    scope: "test/Write",
    key,
    requestSchema: HealthCheckRequestSchema,
    request: create(HealthCheckRequestSchema, { service }),
    responseSchema: HealthCheckResponseSchema,
  };
}

async function appendEffect(tx: DatabaseTransactionConnection, label: string) {
  const remaining = await tx.oneFirst(
    sql.unsafe`UPDATE budget SET remaining = remaining - 1 RETURNING remaining`,
  );
  if (Number(remaining) < 0) throw new DomainError("BUDGET_SPENT", "no budget left");
  const id = await tx.oneFirst(sql.unsafe`INSERT INTO effects (label) VALUES (${label}) RETURNING id`);
  return create(HealthCheckResponseSchema, { status: Number(id) as Status });
}

async function effectsLabelled(label: string): Promise<number> {
  return Number(
    await readCommitted.oneFirst(sql.unsafe`SELECT count(*) FROM effects WHERE label = ${label}`),
  );
}

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  return error instanceof DomainError ? error.reason : `not refused: ${String(error)}`;
}

describe("runIdempotent", () => {
  it("replays the first response and leaves a single effect", async () => {
    const first = await runIdempotent(serializable, call("k-replay"), (tx) => appendEffect(tx, "replay"));
    const again = await runIdempotent(serializable, call("k-replay"), (tx) => appendEffect(tx, "replay"));
    expect(again.status).toBe(first.status);
    expect(await effectsLabelled("replay")).toBe(1);
  });

  it("replays the first response even when the effect would refuse now", async () => {
    const first = await runIdempotent(serializable, call("k-later"), (tx) => appendEffect(tx, "later"));
    const again = await runIdempotent(serializable, call("k-later"), async () => {
      throw new DomainError("BUDGET_SPENT", "no budget left");
    });
    expect(again.status).toBe(first.status);
  });

  it("refuses the same key for a different request and writes nothing", async () => {
    await runIdempotent(serializable, call("k-reused", "ledger"), (tx) => appendEffect(tx, "reused"));
    const refusal = runIdempotent(serializable, call("k-reused", "loyalty"), (tx) =>
      appendEffect(tx, "reused"),
    );
    expect(await reasonOf(refusal)).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(await effectsLabelled("reused")).toBe(1);
    // A refusal by the effect does not hide the reuse: the caller learns the key is spent.
    const refusedReuse = runIdempotent(serializable, call("k-reused", "audit"), async () => {
      throw new DomainError("BUDGET_SPENT", "no budget left");
    });
    expect(await reasonOf(refusedReuse)).toBe("IDEMPOTENCY_KEY_REUSED");
  });

  it("stores nothing for a refused first call, so the caller may retry", async () => {
    const refused = runIdempotent(serializable, call("k-refused"), async () => {
      throw new DomainError("BUDGET_SPENT", "no budget left");
    });
    expect(await reasonOf(refused)).toBe("BUDGET_SPENT");
    const retried = await runIdempotent(serializable, call("k-refused"), (tx) => appendEffect(tx, "refused"));
    expect(retried.status).toBeGreaterThan(0);
    expect(await effectsLabelled("refused")).toBe(1);
  });

  it("gives 20 concurrent calls with one key one effect and one answer", async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        runIdempotent(serializable, call("k-race"), (tx) => appendEffect(tx, "race")),
      ),
    );
    expect(new Set(answers.map((a) => a.status)).size).toBe(1);
    expect(await effectsLabelled("race")).toBe(1);
  });

  it("works the same on a read committed pool", async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        runIdempotent(readCommitted, call("k-rc"), (tx) => appendEffect(tx, "rc"), {
          isolation: "read committed",
        }),
      ),
    );
    expect(new Set(answers.map((a) => a.status)).size).toBe(1);
    expect(await effectsLabelled("rc")).toBe(1);
  });

  it("refuses a missing key", async () => {
    expect(await reasonOf(runIdempotent(serializable, call(""), (tx) => appendEffect(tx, "none")))).toBe(
      "IDEMPOTENCY_KEY_MISSING",
    );
  });
});

describe("runIdempotentIn (inside a caller's transaction)", () => {
  it("replays the first response and refuses a different request", async () => {
    const run = (service: string) =>
      inTransaction(serializable, (tx) =>
        runIdempotentIn(tx, call("k-in", service), (t) => appendEffect(t, "in")),
      );
    const first = await run("ledger");
    expect((await run("ledger")).status).toBe(first.status);
    expect(await reasonOf(run("audit"))).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(await effectsLabelled("in")).toBe(1);
  });
});

describe("a pool's default isolation", () => {
  it("starts every transaction at the pool's level, and honours a different level asked for", async () => {
    const level = (pool: DatabasePool, isolation?: "read committed" | "serializable") =>
      inTransaction(
        pool,
        (tx) => tx.oneFirst(sql.unsafe`SHOW transaction_isolation`),
        isolation ? { isolation } : {},
      );
    expect(await level(serializable)).toBe("serializable");
    expect(await level(serializable, "read committed")).toBe("read committed");
    expect(await level(readCommitted, "read committed")).toBe("read committed");
    expect(await level(readCommitted)).toBe("serializable");
  });
});
