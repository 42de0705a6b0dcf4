import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  afterCommit,
  createDatabasePool,
  inTransaction,
  provisionServiceDatabase,
  sql,
  type DatabasePool,
} from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing/test-database.js";
import { hooksOneOfWhichThrows, warnedOfThrowingHook } from "./support/commit-hooks.js";

let db: TestDatabase;
let alpha: DatabasePool;
let betaUrl: string;
let alphaMigrations: string;
let alphaUrl: string;

async function migrationsFor(service: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `${service}-migrations-`));
  await writeFile(
    join(dir, "0001_amounts.sql"),
    `CREATE TABLE amounts (id serial PRIMARY KEY, amount numeric(38, 2) NOT NULL, counter int8 NOT NULL);`,
  );
  return dir;
}

beforeAll(async () => {
  db = await createTestDatabase("db");
  alphaMigrations = await migrationsFor("alpha");
  alphaUrl = await provisionServiceDatabase(db.adminUrl, {
    service: "alpha",
    migrationDirs: [alphaMigrations],
    servicePassword: "dev",
    roles: true,
  });
  betaUrl = await provisionServiceDatabase(db.adminUrl, {
    service: "beta",
    migrationDirs: [await migrationsFor("beta")],
    servicePassword: "dev",
    roles: true,
  });
  alpha = await createDatabasePool(alphaUrl);
});

afterAll(async () => {
  await alpha?.end();
  await db?.drop();
});

describe("a service's database", () => {
  it("keeps 0.1 + 0.2 exact from SQL to the caller", async () => {
    await alpha.query(
      sql.unsafe`INSERT INTO amounts (amount, counter) VALUES ('0.1', 9007199254740993), ('0.2', 1)`,
    );
    const row = await alpha.one(
      sql.unsafe`SELECT sum(amount) AS total, sum(counter) AS counters FROM amounts`,
    );
    expect(row["total"]).toBe("0.30");
    // Past 2^53: a JS number would have said ...992 or ...994.
    expect(row["counters"]).toBe("9007199254740994");
  });

  it("connects as the service role, confined to its own schema", async () => {
    expect(await alpha.oneFirst(sql.unsafe`SELECT current_user`)).toBe("alpha_service");
    await expect(alpha.query(sql.unsafe`SELECT * FROM beta.amounts`)).rejects.toThrow(
      /permission denied for schema beta/,
    );
    await expect(alpha.query(sql.unsafe`CREATE TABLE alpha.extra (id int)`)).rejects.toThrow(
      /permission denied/,
    );
    const beta = await createDatabasePool(betaUrl);
    try {
      await expect(beta.query(sql.unsafe`SELECT * FROM alpha.amounts`)).rejects.toThrow(
        /permission denied for schema alpha/,
      );
    } finally {
      await beta.end();
    }
  });

  it("applies each migration once, however often the service starts", async () => {
    const dirs = [alphaMigrations];
    await provisionServiceDatabase(db.adminUrl, {
      service: "alpha",
      migrationDirs: dirs,
      servicePassword: "dev",
      roles: true,
    });
    const admin = await createDatabasePool(db.adminUrl);
    try {
      expect(await admin.anyFirst(sql.unsafe`SELECT name FROM alpha.schema_migrations`)).toHaveLength(1);
    } finally {
      await admin.end();
    }
  });

  it("retries a serializable transaction that lost a conflict, and both writes land", async () => {
    const increment = () =>
      inTransaction(alpha, async (tx) => {
        const current = await tx.oneFirst(sql.unsafe`SELECT counter FROM amounts WHERE amount = '0.1'`);
        await tx.query(
          sql.unsafe`UPDATE amounts SET counter = ${BigInt(current as string) + 1n} WHERE amount = '0.1'`,
        );
      });
    await Promise.all(Array.from({ length: 8 }, increment));
    expect(await alpha.oneFirst(sql.unsafe`SELECT counter FROM amounts WHERE amount = '0.1'`)).toBe(
      "9007199254741001",
    );
  });

  it("runs commit hooks once after a commit, and never after a rollback", async () => {
    const ran: string[] = [];
    await inTransaction(alpha, async (tx) => {
      afterCommit(tx, () => ran.push("committed"));
      expect(ran).toEqual([]);
    });
    await expect(
      inTransaction(alpha, async (tx) => {
        afterCommit(tx, () => ran.push("rolled back"));
        throw new Error("refused");
      }),
    ).rejects.toThrow("refused");
    expect(ran).toEqual(["committed"]);
  });

  it("answers a committed transaction as committed even when a commit hook throws, and runs the other hooks", async () => {
    const ran: string[] = [];
    const warn = jest.spyOn(process, "emitWarning").mockImplementation(() => {});
    try {
      const value = await inTransaction(alpha, async (tx) => {
        hooksOneOfWhichThrows(tx, ran);
        return tx.oneFirst(sql.unsafe`SELECT 'committed'`);
      });
      expect(value).toBe("committed");
      expect(ran).toEqual(["second hook"]);
      expect(warnedOfThrowingHook(warn.mock.calls)).toBe(true);
    } finally {
      warn.mockRestore();
    }
  });

  it("keeps its connection after a refusal or a conflict, and nothing of the refused work", async () => {
    const single = await createDatabasePool(alphaUrl, { maximumPoolSize: 1 });
    try {
      const backend = () => inTransaction(single, (tx) => tx.oneFirst(sql.unsafe`SELECT pg_backend_pid()`));
      const before = await backend();
      await expect(
        inTransaction(single, async (tx) => {
          await tx.query(sql.unsafe`INSERT INTO amounts (amount, counter) VALUES ('7.77', 1)`);
          throw new Error("refused");
        }),
      ).rejects.toThrow("refused");
      await expect(
        inTransaction(single, (tx) => tx.query(sql.unsafe`SELECT 1 / 0`), { retries: 0 }),
      ).rejects.toThrow(/division by zero/);
      expect(await backend()).toBe(before);
      expect(await single.oneFirst(sql.unsafe`SELECT count(*) FROM amounts WHERE amount = '7.77'`)).toBe("0");
    } finally {
      await single.end();
    }
  });
});
