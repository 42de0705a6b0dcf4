import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import {
  createDatabasePool,
  inTransaction,
  PipelinedConnections,
  provisionServiceDatabase,
  sql,
  type DatabasePool,
} from "@money/db";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../src/index.js";

let embedded: EmbeddedPostgres;
let serviceUrl: string;
let pool: DatabasePool;
let stopped = false;
const clients: pg.Client[] = [];

async function migrations(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "embedded-migrations-"));
  await writeFile(
    join(dir, "0001_amounts.sql"),
    `CREATE TABLE amounts (id serial PRIMARY KEY, amount numeric(38, 2) NOT NULL, counter int8 NOT NULL);`,
  );
  // The outbox's shape: a statement trigger that notifies "<schema>_events".
  await writeFile(
    join(dir, "0002_events.sql"),
    `CREATE TABLE events (id bigserial PRIMARY KEY, payload bytea NOT NULL);
     CREATE FUNCTION notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       PERFORM pg_notify(TG_TABLE_SCHEMA || '_events', '');
       RETURN NULL;
     END $$;
     CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH STATEMENT EXECUTE FUNCTION notify_events();`,
  );
  return dir;
}

async function connect(url = serviceUrl): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  clients.push(client);
  return client;
}

async function waitUntil(what: string, probe: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

beforeAll(async () => {
  embedded = await startEmbeddedPostgres({ searchPath: "ledger" });
  serviceUrl = await provisionServiceDatabase(embedded.url, {
    service: "ledger",
    migrationDirs: [await migrations()],
    servicePassword: "unused",
    roles: false,
  });
  // Two connections, more than the recommended one, so that concurrency goes through the server.
  pool = await createDatabasePool(serviceUrl, { maximumPoolSize: 2 });
});

afterAll(async () => {
  for (const client of clients) await client.end().catch(() => {});
  if (!stopped) await pool?.end();
  await embedded?.stop();
});

describe("an embedded Postgres", () => {
  it("is provisioned like a server, and the service's pool works in the service's schema", async () => {
    expect(serviceUrl).toBe(embedded.url);
    expect(await pool.oneFirst(sql.unsafe`SELECT current_schema()`)).toBe("ledger");
    expect(await pool.anyFirst(sql.unsafe`SELECT name FROM schema_migrations ORDER BY name`)).toHaveLength(2);
  });

  it("keeps 0.1 + 0.2 exact from SQL to the caller", async () => {
    await pool.query(
      sql.unsafe`INSERT INTO amounts (amount, counter) VALUES ('0.1', 9007199254740993), ('0.2', 1)`,
    );
    const row = await pool.one(
      sql.unsafe`SELECT sum(amount) AS total, sum(counter) AS counters FROM amounts`,
    );
    expect(row["total"]).toBe("0.30");
    expect(row["counters"]).toBe("9007199254740994");
  });

  it("runs a serializable transaction with uuid, jsonb and bytea", async () => {
    const row = await inTransaction(pool, async (tx) => {
      await tx.query(sql.unsafe`INSERT INTO events (payload) VALUES (${sql.binary(Buffer.from([0, 255]))})`);
      return tx.one(sql.unsafe`
        SELECT current_setting('transaction_isolation') AS isolation, gen_random_uuid() AS id,
               '{"a": 1}'::jsonb AS doc, (SELECT payload FROM events ORDER BY id DESC LIMIT 1) AS payload`);
    });
    expect(row["isolation"]).toBe("serializable");
    expect(row["id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(row["doc"]).toEqual({ a: 1 });
    expect(row["payload"]).toEqual(Buffer.from([0, 255]));
  });

  it("runs concurrent transactions one after the other, so none hangs and no update is lost", async () => {
    const id = await pool.oneFirst(
      sql.unsafe`INSERT INTO amounts (amount, counter) VALUES (0, 0) RETURNING id`,
    );
    const increment = () =>
      inTransaction(pool, async (tx) => {
        const counter = await tx.oneFirst(sql.unsafe`SELECT counter FROM amounts WHERE id = ${id as number}`);
        // Another transaction would update the row here on a real server; here none can start.
        await sleep(5);
        await tx.query(
          sql.unsafe`UPDATE amounts SET counter = ${BigInt(counter as string) + 1n} WHERE id = ${id as number}`,
        );
      });
    await Promise.all(Array.from({ length: 8 }, increment));
    expect(await pool.oneFirst(sql.unsafe`SELECT counter FROM amounts WHERE id = ${id as number}`)).toBe("8");
  }, 10_000);

  it("keeps one client's Parse/Bind/Execute whole while another's arrives in pieces", async () => {
    // A 1 MB parameter reaches the server in several TCP reads; pglite-socket
    // 0.2.17 let the other client's Parse in between, and the Bind failed.
    const [writer, reader] = [await connect(), await connect()];
    const big = Buffer.alloc(1_000_000, 7);
    const wrong: unknown[] = [];
    await Promise.all([
      (async () => {
        for (let i = 0; i < 5; i++) await writer.query("INSERT INTO events (payload) VALUES ($1)", [big]);
      })(),
      (async () => {
        for (let i = 0; i < 300; i++) {
          const { rows } = await reader.query("SELECT $1::text AS echo", [`r${i}`]);
          if (rows[0]?.echo !== `r${i}`) wrong.push(rows);
        }
      })(),
    ]);
    expect(wrong).toEqual([]);
    expect(await pool.oneFirst(sql.unsafe`SELECT count(*) FROM events WHERE length(payload) = 1000000`)).toBe(
      "5",
    );
  });

  it("delivers a trigger's pg_notify to the connection that listens, not to the one that committed", async () => {
    const listener = await connect();
    const heard: string[] = [];
    listener.on("notification", (n) => heard.push(n.channel));
    await listener.query("LISTEN ledger_events");
    await inTransaction(pool, (tx) => tx.query(sql.unsafe`INSERT INTO events (payload) VALUES ('\\x01')`));
    await waitUntil("the notification", () => heard.length > 0);
    expect(heard).toEqual(["ledger_events"]);
  });

  it("rolls back what a vanished connection left open, and serves the others", async () => {
    const vanishing = await connect();
    vanishing.on("error", () => {});
    await vanishing.query("BEGIN");
    await vanishing.query("INSERT INTO amounts (amount, counter) VALUES (99, 99)");
    const waiting = pool.oneFirst(sql.unsafe`SELECT count(*) FROM amounts WHERE amount = 99`);
    (vanishing as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    expect(await waiting).toBe("0");
  });

  it("runs pipelined transactions beside the pool's: BEGIN with the first statement, COMMIT with the last", async () => {
    const pipelined = new PipelinedConnections(serviceUrl, { size: 1 });
    try {
      const transaction = (amount: string) =>
        pipelined.transaction(async (tx) => {
          await tx.query(sql.unsafe`INSERT INTO amounts (amount, counter) VALUES (${amount}, 1)`);
          await tx.commitWith(sql.unsafe`INSERT INTO amounts (amount, counter) VALUES (${amount}, 2)`);
        });
      await Promise.all([
        transaction("41.00"),
        transaction("42.00"),
        inTransaction(pool, (tx) =>
          tx.query(sql.unsafe`INSERT INTO amounts (amount, counter) VALUES (43, 1)`),
        ),
      ]);
      // A last statement that fails takes its transaction's first one with it.
      await expect(
        pipelined.transaction(async (tx) => {
          await tx.query(sql.unsafe`INSERT INTO amounts (amount, counter) VALUES (44, 1)`);
          await tx.commitWith(sql.unsafe`INSERT INTO amounts (amount, counter) VALUES (44, NULL)`);
        }),
      ).rejects.toMatchObject({ code: "23502" });
      const rows = await pool.any(
        sql.unsafe`SELECT amount, count(*) FROM amounts WHERE amount BETWEEN 41 AND 44 GROUP BY amount ORDER BY amount`,
      );
      expect(rows).toEqual([
        { amount: "41.00", count: "2" },
        { amount: "42.00", count: "2" },
        { amount: "43.00", count: "1" },
      ]);
    } finally {
      await pipelined.end();
    }
  });

  it("lets a connection choose its own search_path", async () => {
    const other = await connect(`${embedded.url}?options=-c%20search_path%3Dpublic`);
    expect((await other.query("SELECT current_setting('search_path') AS path")).rows[0].path).toBe("public");
    expect(await pool.oneFirst(sql.unsafe`SELECT current_setting('search_path')`)).toBe("ledger");
  });

  it("frees its port on stop", async () => {
    for (const client of clients.splice(0)) await client.end();
    await pool.end();
    stopped = true;
    await embedded.stop();
    const probe = createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once("error", reject);
      probe.listen(embedded.port, "127.0.0.1", resolve);
    });
    await new Promise((resolve) => probe.close(resolve));
  });
});
