import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import {
  afterCommit,
  createDatabasePool,
  PipelinedConnections,
  provisionServiceDatabase,
  type PipelinedTransaction,
  sql,
  type DatabasePool,
} from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing/test-database.js";
import { hooksOneOfWhichThrows, warnedOfThrowingHook } from "./support/commit-hooks.js";

/*
 * Transactions on pipelined connections, against real Postgres: what
 * commits, what rolls back, how rows are parsed, and a connection that
 * broke between transactions.
 */

let db: TestDatabase;
let serviceUrl: string;
let pool: DatabasePool;
let connections: PipelinedConnections;

beforeAll(async () => {
  db = await createTestDatabase("pipelined");
  const migrations = await mkdtemp(join(tmpdir(), "pipelined-migrations-"));
  await writeFile(
    join(migrations, "0001_notes.sql"),
    `CREATE TABLE notes (id int PRIMARY KEY, text text NOT NULL, xact xid8 NOT NULL DEFAULT pg_current_xact_id());`,
  );
  serviceUrl = await provisionServiceDatabase(db.adminUrl, {
    service: "pipelined",
    migrationDirs: [migrations],
    servicePassword: "dev",
    roles: true,
  });
  pool = await createDatabasePool(serviceUrl);
  connections = new PipelinedConnections(serviceUrl, { size: 1 });
}, 60_000);

afterAll(async () => {
  await connections?.end();
  await pool?.end();
  await db?.drop();
});

const notes = async () =>
  (await pool.any(sql.unsafe`SELECT id, text, xact::text FROM notes ORDER BY id`)).map((r) => ({
    id: r["id"],
    text: r["text"],
    xact: r["xact"],
  }));

const insertNote = (id: number, text: string) =>
  sql.unsafe`INSERT INTO notes (id, text) VALUES (${id}, ${text}) RETURNING id`;

describe("a pipelined transaction", () => {
  it("commits its statements as one transaction, and runs its commit hooks after", async () => {
    const ran: string[] = [];
    const returned = await connections.transaction(async (tx) => {
      const first = await tx.query(insertNote(1, "first"));
      afterCommit(tx, () => ran.push("committed"));
      const last = await tx.commitWith(insertNote(2, "last"));
      expect(ran).toEqual([]);
      return [first[0]!["id"], last[0]!["id"]];
    });
    expect(returned).toEqual([1, 2]);
    expect(ran).toEqual(["committed"]);
    const [first, last] = await notes();
    expect([first!.text, last!.text]).toEqual(["first", "last"]);
    expect(first!.xact).toBe(last!.xact);
  });

  it("answers a committed transaction as committed even when a commit hook throws, and runs the other hooks", async () => {
    const ran: string[] = [];
    const warn = jest.spyOn(process, "emitWarning").mockImplementation(() => {});
    try {
      const value = await connections.transaction(async (tx) => {
        hooksOneOfWhichThrows(tx, ran);
        return (await tx.commitWith(insertNote(300, "kept")))[0]!["id"];
      });
      expect(value).toBe(300);
      expect(ran).toEqual(["second hook"]);
      expect((await notes()).find((n) => n.id === 300)?.text).toBe("kept");
      expect(warnedOfThrowingHook(warn.mock.calls)).toBe(true);
    } finally {
      warn.mockRestore();
      await pool.query(sql.unsafe`DELETE FROM notes WHERE id = 300`);
    }
  });

  it("rolls back everything when its last statement fails, throws that statement's error, and runs no hook", async () => {
    const ran: string[] = [];
    const failure = connections.transaction(async (tx) => {
      await tx.query(insertNote(3, "never committed"));
      afterCommit(tx, () => ran.push("committed"));
      await tx.commitWith(insertNote(1, "a taken id"));
    });
    await expect(failure).rejects.toMatchObject({ code: "23505" });
    expect(ran).toEqual([]);
    expect((await notes()).map((n) => n.id)).toEqual([1, 2]);
  });

  it("rolls back when its body throws, and the connection serves the next transaction", async () => {
    await expect(
      connections.transaction(async (tx) => {
        await tx.query(insertNote(4, "refused"));
        throw new Error("refused by the caller");
      }),
    ).rejects.toThrow("refused by the caller");
    // The one connection was given back clean: this transaction is not inside the refused one.
    await connections.transaction(async (tx) => {
      await tx.commitWith(insertNote(5, "after the refusal"));
    });
    expect((await notes()).map((n) => n.id)).toEqual([1, 2, 5]);
  });

  it("refuses a statement after its commit", async () => {
    await expect(
      connections.transaction(async (tx) => {
        await tx.commitWith(insertNote(6, "committed"));
        await tx.query(insertNote(7, "too late"));
      }),
    ).rejects.toThrow("the transaction has ended");
    expect((await notes()).map((n) => n.id)).toEqual([1, 2, 5, 6]);
  });

  it("refuses a statement given after the transaction is over, even one that ran none", async () => {
    let leaked: PipelinedTransaction | undefined;
    await connections.transaction(async (tx) => {
      leaked = tx;
    });
    await expect(leaked!.query(insertNote(11, "stray"))).rejects.toThrow("the transaction has ended");
    await expect(leaked!.commitWith(insertNote(11, "stray"))).rejects.toThrow("the transaction has ended");
    // The connection is not left inside a transaction of the stray statement.
    await connections.transaction((tx) => tx.commitWith(insertNote(12, "next")));
    expect((await notes()).map((n) => n.id)).not.toContain(11);
  });

  it("throws the failure of a commitWith whose error the body caught, and runs no hook", async () => {
    const ran: string[] = [];
    const caught = connections.transaction(async (tx) => {
      afterCommit(tx, () => ran.push("committed"));
      await tx.commitWith(insertNote(1, "a taken id")).catch(() => {});
      return "the body went on";
    });
    await expect(caught).rejects.toMatchObject({ code: "23505" });
    expect(ran).toEqual([]);
  });

  it("replaces a connection whose prepared statement no longer fits its table", async () => {
    const everyNote = () =>
      connections.transaction((tx) =>
        tx.commitWith(sql.unsafe`SELECT * FROM notes WHERE id = 1`, { prepare: true }),
      );
    expect(Object.keys((await everyNote())[0]!)).toEqual(["id", "text", "xact"]);
    const admin = new pg.Client({ connectionString: db.adminUrl });
    await admin.connect();
    try {
      await admin.query("ALTER TABLE pipelined.notes ADD COLUMN remark text");
    } finally {
      await admin.end();
    }
    // Once: "cached plan must not change result type". The next call prepares it afresh.
    await expect(everyNote()).rejects.toMatchObject({ code: "0A000" });
    expect(Object.keys((await everyNote())[0]!)).toEqual(["id", "text", "xact", "remark"]);
  });

  it("parses numeric and int8 as their exact text, as the pools do, arrays included", async () => {
    const [row] = await connections.transaction((tx) =>
      tx.commitWith(sql.unsafe`
        SELECT 0.1::numeric + 0.2::numeric AS sum, 9007199254740993::int8 AS big,
               ARRAY[1.10, 2.20]::numeric[] AS amounts, '2026-12-06 10:00:00.5+00'::timestamptz AS at,
               '2026-12-06'::date AS day
      `),
    );
    expect(row).toEqual({
      sum: "0.3",
      big: "9007199254740993",
      amounts: ["1.10", "2.20"],
      at: new Date("2026-12-06T10:00:00.500Z"),
      day: "2026-12-06",
    });
  });

  it("prepares a statement once on its connection when asked, up to a limit of statements", async () => {
    const preparedCount = async () =>
      Number(
        (
          await connections.transaction((tx) =>
            tx.commitWith(sql.unsafe`SELECT count(*) AS prepared FROM pg_prepared_statements`),
          )
        )[0]!["prepared"],
      );
    const before = await preparedCount();
    const echo = (n: number, prepare: boolean) =>
      connections.transaction(
        async (tx) => (await tx.commitWith(sql.unsafe`SELECT ${n}::int AS echo`, { prepare }))[0]!["echo"],
      );
    expect([await echo(1, false), await echo(2, false)]).toEqual([1, 2]);
    expect(await preparedCount()).toBe(before);
    expect([await echo(1, true), await echo(2, true), await echo(3, true)]).toEqual([1, 2, 3]);
    // The three calls share one statement: only the values differ.
    expect(await preparedCount()).toBe(before + 1);
    // Statements whose text differs each time: the connection stops preparing them at its limit.
    for (let n = 0; n < 120; n++) {
      const [row] = await connections.transaction((tx) =>
        tx.commitWith(sql.unsafe`SELECT ${n}::int AS ${sql.identifier([`column_${n}`])}`, { prepare: true }),
      );
      expect(row).toEqual({ [`column_${n}`]: n });
    }
    expect(await preparedCount()).toBe(100);
  });

  it("waits for a connection when all are in use", async () => {
    const order: string[] = [];
    let releaseFirst!: () => void;
    const held = new Promise<void>((resolve) => (releaseFirst = resolve));
    const first = connections.transaction(async (tx) => {
      await tx.query(insertNote(8, "first"));
      order.push("first holds the connection");
      await held;
      await tx.commitWith(insertNote(9, "first, last"));
      order.push("first committed");
    });
    const second = connections.transaction(async (tx) => {
      order.push("second started");
      await tx.commitWith(insertNote(10, "second"));
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(order).toEqual(["first holds the connection"]);
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(["first holds the connection", "first committed", "second started"]);
  });

  it("replaces a connection whose backend was terminated between transactions", async () => {
    const pidOf = async () =>
      connections.transaction(
        async (tx) => (await tx.commitWith(sql.unsafe`SELECT pg_backend_pid() AS pid`))[0]!["pid"],
      );
    const before = await pidOf();
    const admin = new pg.Client({ connectionString: db.adminUrl });
    await admin.connect();
    try {
      await admin.query("SELECT pg_terminate_backend($1)", [before]);
      // The client hears of it once the backend has gone.
      for (let i = 0; i < 50; i++) {
        const { rows } = await admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [before]);
        if (rows.length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await admin.end();
    }
    const after = await pidOf();
    expect(after).not.toBe(before);
  });

  it("runs at read committed, or serializable when asked, where a write skew fails one writer with 40001 unless asked to retry", async () => {
    const levelOf = async (of: PipelinedConnections) =>
      of.transaction(
        async (tx) =>
          (await tx.commitWith(sql.unsafe`SELECT current_setting('transaction_isolation') AS level`))[0]![
            "level"
          ],
      );
    const serializable = new PipelinedConnections(serviceUrl, { size: 2, isolation: "serializable" });
    try {
      expect(await levelOf(connections)).toBe("read committed");
      expect(await levelOf(serializable)).toBe("serializable");
      // Two transactions each read both notes and write one on that basis: one of them must fail.
      await pool.query(sql.unsafe`INSERT INTO notes (id, text) VALUES (500, 'a'), (501, 'b')`);
      // Each writer reads, then waits until both have read: their reads overlap, and so they conflict.
      const skew = () => {
        let reads = 0;
        let bothRead!: () => void;
        const read = new Promise<void>((resolve) => (bothRead = resolve));
        const writer = (id: number, retries = 0) =>
          serializable.transaction(
            async (tx) => {
              await tx.query(sql.unsafe`SELECT count(*) FROM notes WHERE id IN (500, 501) AND text <> 'x'`);
              if (++reads === 2) bothRead();
              await read;
              await tx.commitWith(sql.unsafe`UPDATE notes SET text = 'x' WHERE id = ${id}`);
            },
            { retries },
          );
        return { writer, reads: () => reads };
      };
      const { writer } = skew();
      const outcomes = await Promise.allSettled([writer(500), writer(501)]);
      expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
      const failure = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
      expect((failure.reason as { code?: string }).code).toBe("40001");
      // Only the committed writer's note changed.
      const after = (await notes()).filter((n) => Number(n.id) >= 500).map((n) => n.text);
      expect(after.filter((text) => text === "x")).toHaveLength(1);
      expect(after.filter((text) => text !== "x")).toEqual([after[0] === "x" ? "b" : "a"]);

      // Asked to retry, the writer that lost runs again in a new transaction, and both commit. A
      // retry can itself overlap the winner's commit still in flight and lose once more, so it
      // is given a few attempts (each one reads again).
      await pool.query(
        sql.unsafe`UPDATE notes SET text = CASE id WHEN 500 THEN 'a' ELSE 'b' END WHERE id IN (500, 501)`,
      );
      const again = skew();
      const retried = await Promise.allSettled([again.writer(500, 5), again.writer(501, 5)]);
      expect(retried.map((o) => o.status)).toEqual(["fulfilled", "fulfilled"]);
      expect(again.reads()).toBeGreaterThanOrEqual(3);
      expect((await notes()).filter((n) => Number(n.id) >= 500).map((n) => n.text)).toEqual(["x", "x"]);
    } finally {
      await serializable.end();
    }
  });
});
