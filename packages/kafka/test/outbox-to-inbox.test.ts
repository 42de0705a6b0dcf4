import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fromJson, toJson } from "@bufbuild/protobuf";
import { StructSchema } from "@bufbuild/protobuf/wkt";
import {
  createDatabasePool,
  inTransaction,
  PipelinedConnections,
  provisionServiceDatabase,
  sql,
  type DatabasePool,
} from "@money/db";
import { createTestDatabase, type TestDatabase } from "@money/db/testing";
import type { EventBus, Subscription } from "../src/bus/event-bus.js";
import { KafkaBus } from "../src/bus/kafka-bus.js";
import { payloadAs } from "../src/envelope.js";
import { subscribeThroughInbox } from "../src/inbox.js";
import { EVENTS_MIGRATIONS_DIR } from "../src/index.js";
import { OutboxWriter } from "../src/outbox.js";
import { OutboxRelay } from "../src/relay.js";
import { restartTestBroker, testBrokers, uniqueName } from "../src/testing/test-broker.js";
import { waitUntil } from "@money/testkit";

/*
 * The foundation's acceptance test: a state change in one service reaches
 * another service exactly once, through the producer's outbox, the relay,
 * a real Kafka broker and the consumer's inbox, on real Postgres. Two
 * service schemas live in one fresh database, each behind its own role.
 */

const TOPICS = {
  happy: uniqueName("deposits-happy"),
  rollback: uniqueName("deposits-rollback"),
  crash: uniqueName("deposits-crash"),
  restart: uniqueName("deposits-restart"),
  leader: uniqueName("deposits-leader"),
};

let db: TestDatabase;
const migrationDirs: string[] = [];
let producerUrl: string;
/** Every relay of the file drains the producer's outbox through these. */
let relayConnections: PipelinedConnections;
let producer: DatabasePool;
let consumer: DatabasePool;
let bus: KafkaBus;
let subscription: Subscription | undefined;
const consumerGroup = uniqueName("crediting");
const outbox = new OutboxWriter("producer");
const relayErrors: unknown[] = [];
/** Every Kafka record the consumer received, before the inbox check: event id → "partition/offset" of each copy. */
const deliveries = new Map<string, string[]>();

async function migrationDir(service: string, ddl: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `${service}-migrations-`));
  await writeFile(join(dir, "0001_tables.sql"), ddl);
  migrationDirs.push(dir);
  return dir;
}

/** The bus the consumer reads through, counting every delivery the inbox is about to judge. */
function countingDeliveries(inner: EventBus): EventBus {
  return {
    ensureTopics: (specs) => inner.ensureTopics(specs),
    publish: (messages) => inner.publish(messages),
    close: () => inner.close(),
    subscribe: (options) =>
      inner.subscribe({
        ...options,
        handle: async (message) => {
          const eventId = message.headers["event-id"] ?? "";
          deliveries.set(eventId, [
            ...(deliveries.get(eventId) ?? []),
            `${message.partition}/${message.offset}`,
          ]);
          await options.handle(message);
        },
      }),
  };
}

beforeAll(async () => {
  db = await createTestDatabase("outbox_inbox");
  producerUrl = await provisionServiceDatabase(db.adminUrl, {
    service: "producer",
    migrationDirs: [
      EVENTS_MIGRATIONS_DIR,
      await migrationDir(
        "producer",
        `CREATE TABLE deposits (
           id bigserial PRIMARY KEY,
           account text NOT NULL,
           seq int NOT NULL,
           amount numeric(20, 2) NOT NULL
         );`,
      ),
    ],
    servicePassword: "dev",
    roles: true,
  });
  const consumerUrl = await provisionServiceDatabase(db.adminUrl, {
    service: "consumer",
    migrationDirs: [
      EVENTS_MIGRATIONS_DIR,
      // No unique constraint on event_id on purpose: a second effect must show up as a second row.
      await migrationDir(
        "consumer",
        `CREATE TABLE credited (
           id bigserial PRIMARY KEY,
           event_id uuid NOT NULL,
           topic text NOT NULL,
           account text NOT NULL,
           seq int NOT NULL,
           amount numeric(20, 2) NOT NULL
         );`,
      ),
    ],
    servicePassword: "dev",
    roles: true,
  });
  producer = await createDatabasePool(producerUrl);
  relayConnections = new PipelinedConnections(producerUrl, { size: 1 });
  consumer = await createDatabasePool(consumerUrl);

  bus = new KafkaBus({ brokers: testBrokers(), clientId: uniqueName("outbox-to-inbox") });
  await bus.ensureTopics(Object.values(TOPICS).map((topic) => ({ topic, partitions: 3 })));
  // One consumer for the whole file: a group join costs seconds.
  subscription = await subscribeThroughInbox({
    bus: countingDeliveries(bus),
    pool: consumer,
    consumer: consumerGroup,
    topics: Object.values(TOPICS),
    handle: async (tx, envelope, message) => {
      const payload = payloadAs(envelope, StructSchema);
      if (!payload) throw new Error(`unexpected ${envelope.eventType}`);
      const deposit = toJson(StructSchema, payload) as { account: string; seq: number; amount: string };
      await tx.query(sql.unsafe`
        INSERT INTO credited (event_id, topic, account, seq, amount)
        VALUES (${envelope.eventId}, ${message.topic}, ${deposit.account}, ${deposit.seq}, ${deposit.amount})
      `);
    },
  });
}, 60_000);

afterAll(async () => {
  await subscription?.stop();
  await bus?.close();
  await relayConnections?.end();
  await producer?.end();
  await consumer?.end();
  await db?.drop();
  await Promise.all(migrationDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** The producer's state change: a deposit row and its event, in one transaction. Returns the event id. */
async function deposit(topic: string, account: string, seq: number): Promise<string> {
  return inTransaction(producer, async (tx) => {
    const amount = `${seq + 1}.25`;
    await tx.query(
      sql.unsafe`INSERT INTO deposits (account, seq, amount) VALUES (${account}, ${seq}, ${amount})`,
    );
    const envelope = await outbox.write(tx, {
      topic,
      schema: StructSchema,
      payload: fromJson(StructSchema, { account, seq, amount }),
      aggregateType: "account",
      aggregateId: account,
      occurredAt: new Date(),
    });
    return envelope.eventId;
  });
}

/** Deposits `perKey` events for each key, interleaving the keys as concurrent users would. */
async function depositInterleaved(topic: string, keys: readonly string[], perKey: number): Promise<string[]> {
  const ids: string[] = [];
  for (let seq = 0; seq < perKey; seq++) {
    for (const key of keys) ids.push(await deposit(topic, key, seq));
  }
  return ids;
}

function newRelay(relayBus: EventBus = bus): OutboxRelay {
  return new OutboxRelay({
    connections: relayConnections,
    bus: relayBus,
    schema: "producer",
    wakeOn: outbox,
    idlePollMs: 250,
    onError: (error) => relayErrors.push(error),
  });
}

async function creditedCount(eventIds: readonly string[]): Promise<number> {
  return Number(
    await consumer.oneFirst(
      sql.unsafe`SELECT count(*) FROM credited WHERE event_id = ANY(${sql.array(eventIds, "uuid")})`,
    ),
  );
}

/** What the consumer applied for these events, in the order it applied them. */
async function credited(eventIds: readonly string[]) {
  const rows = await consumer.any(sql.unsafe`
    SELECT event_id, account, seq, amount FROM credited
    WHERE event_id = ANY(${sql.array(eventIds, "uuid")}) ORDER BY id
  `);
  return rows.map((r) => ({
    eventId: r["event_id"] as string,
    account: r["account"] as string,
    seq: r["seq"] as number,
    amount: r["amount"] as string,
  }));
}

async function inboxRows(eventIds: readonly string[]): Promise<string[]> {
  return [
    ...(await consumer.anyFirst(sql.unsafe`
      SELECT event_id FROM inbox WHERE consumer = ${consumerGroup} AND event_id = ANY(${sql.array(eventIds, "uuid")})
    `)),
  ] as string[];
}

async function unpublished(eventIds: readonly string[]): Promise<number> {
  return Number(
    await producer.oneFirst(sql.unsafe`
      SELECT count(*) FROM outbox_events WHERE event_id = ANY(${sql.array(eventIds, "uuid")})
    `),
  );
}

/** Each event applied exactly once, recorded once in the inbox, and gone from the producer's outbox (published). */
async function expectAppliedExactlyOnce(eventIds: readonly string[]): Promise<void> {
  const rows = await credited(eventIds);
  expect(rows.map((r) => r.eventId).sort()).toEqual([...eventIds].sort());
  expect((await inboxRows(eventIds)).sort()).toEqual([...eventIds].sort());
  expect(await unpublished(eventIds)).toBe(0);
}

/** The per-key sequence numbers in the order the consumer applied them. */
async function sequencesByKey(eventIds: readonly string[]): Promise<Record<string, number[]>> {
  const byKey: Record<string, number[]> = {};
  for (const row of await credited(eventIds)) (byKey[row.account] ??= []).push(row.seq);
  return byKey;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("outbox → relay → Kafka → inbox", () => {
  it("applies every committed event once, in commit order per key", async () => {
    const keys = ["acct-a", "acct-b", "acct-c", "acct-d", "acct-e"];
    const relay = newRelay();
    await relay.start();
    try {
      const ids = await depositInterleaved(TOPICS.happy, keys, 8);
      await waitUntil("40 credits", async () => (await creditedCount(ids)) >= 40);
      await relay.stop();

      await expectAppliedExactlyOnce(ids);
      expect(await sequencesByKey(ids)).toEqual(Object.fromEntries(keys.map((k) => [k, range(8)])));
      const amounts = (await credited(ids)).filter((r) => r.account === "acct-c").map((r) => r.amount);
      expect(amounts).toEqual(range(8).map((seq) => `${seq + 1}.25`));
    } finally {
      await relay.stop();
    }
  });

  it("publishes nothing for a transaction that rolled back", async () => {
    const account = "acct-rolled-back";
    let rolledBackId: string | undefined;
    await expect(
      inTransaction(producer, async (tx) => {
        await tx.query(
          sql.unsafe`INSERT INTO deposits (account, seq, amount) VALUES (${account}, 0, '10.00')`,
        );
        const envelope = await outbox.write(tx, {
          topic: TOPICS.rollback,
          schema: StructSchema,
          payload: fromJson(StructSchema, { account, seq: 0, amount: "10.00" }),
          aggregateType: "account",
          aggregateId: account,
          occurredAt: new Date(),
        });
        rolledBackId = envelope.eventId;
        throw new Error("limit exceeded");
      }),
    ).rejects.toThrow("limit exceeded");
    expect(rolledBackId).toBeDefined();
    expect(
      await producer.oneFirst(sql.unsafe`SELECT count(*) FROM deposits WHERE account = ${account}`),
    ).toBe("0");
    expect(
      await producer.oneFirst(
        sql.unsafe`SELECT count(*) FROM outbox_events WHERE event_id = ${rolledBackId!}`,
      ),
    ).toBe("0");

    // A later committed event with the same key goes to the same partition,
    // behind anything published before it: once it arrives, the rolled-back
    // event would have arrived too if it had been published.
    const relay = newRelay();
    await relay.start();
    try {
      const committedId = await deposit(TOPICS.rollback, account, 1);
      await waitUntil("the committed event", async () => (await creditedCount([committedId])) === 1);
    } finally {
      await relay.stop();
    }
    const onTopic = await consumer.anyFirst(
      sql.unsafe`SELECT seq FROM credited WHERE topic = ${TOPICS.rollback}`,
    );
    expect(onTopic).toEqual([1]);
    expect(deliveries.has(rolledBackId!)).toBe(false);
    expect(await inboxRows([rolledBackId!])).toEqual([]);
  });

  it("delivers again after the relay dies between publishing and marking, and still applies once", async () => {
    const ids = await depositInterleaved(TOPICS.crash, ["acct-x", "acct-y"], 3);
    // The real publish happens; the process "dies" before the UPDATE that marks the rows.
    const dyingBus: EventBus = {
      ensureTopics: (specs) => bus.ensureTopics(specs),
      subscribe: (options) => bus.subscribe(options),
      close: async () => {},
      publish: async (messages) => {
        await bus.publish(messages);
        throw new Error("relay process killed before marking");
      },
    };
    await expect(newRelay(dyingBus).relayOnce()).rejects.toThrow("killed before marking");
    expect(await unpublished(ids)).toBe(6);
    await waitUntil("the first copies applied", async () => (await creditedCount(ids)) === 6);

    // The relay restarts: the rows are still unpublished, so it sends them again.
    expect(await newRelay().relayOnce()).toBe(6);
    await waitUntil("the second copies delivered", () =>
      ids.every((id) => (deliveries.get(id) ?? []).length >= 2),
    );

    // Kafka really holds two records per event (two offsets), and the inbox dropped the second.
    for (const id of ids) expect(new Set(deliveries.get(id)).size).toBe(2);
    await expectAppliedExactlyOnce(ids);
    expect(await sequencesByKey(ids)).toEqual({ "acct-x": range(3), "acct-y": range(3) });
  });

  it("publishes nothing while another relay of the schema holds the leader lock", async () => {
    const ids = await depositInterleaved(TOPICS.leader, ["acct-l"], 2);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    // Another relay's pass in flight: its transaction holds the schema's leader lock.
    const other = inTransaction(producer, async (tx) => {
      await tx.query(sql.unsafe`SELECT pg_advisory_xact_lock(hashtext('outbox-relay:' || current_schema()))`);
      held();
      await released;
    });
    await holding;
    try {
      expect(await newRelay().relayOnce()).toBe(0);
      expect(await unpublished(ids)).toBe(2);
    } finally {
      release();
      await other;
    }
    expect(await newRelay().relayOnce()).toBe(2);
    expect(await unpublished(ids)).toBe(0);
  });

  it("loses nothing and applies nothing twice when the broker restarts mid-stream", async () => {
    const keys = ["acct-p", "acct-q", "acct-r", "acct-s"];
    const perKey = 15;
    const relay = newRelay();
    await relay.start();
    try {
      const ids: string[] = [];
      const produce = (async () => {
        for (let seq = 0; seq < perKey; seq++) {
          for (const key of keys) ids.push(await deposit(TOPICS.restart, key, seq));
          await sleep(100);
        }
      })();
      // Restart once the stream is flowing end to end, while the producer keeps writing.
      await waitUntil("the stream to flow", async () => ids.length > 0 && (await creditedCount(ids)) >= 8);
      const appliedBeforeRestart = await creditedCount(ids);
      await Promise.all([restartTestBroker(), produce]);
      await waitUntil("every event after the restart", async () => (await creditedCount(ids)) >= ids.length, {
        timeoutMs: 90_000,
        intervalMs: 200,
      });
      await relay.stop();

      expect(ids).toHaveLength(keys.length * perKey);
      expect(appliedBeforeRestart).toBeLessThan(ids.length);
      await expectAppliedExactlyOnce(ids);
      expect(await sequencesByKey(ids)).toEqual(Object.fromEntries(keys.map((k) => [k, range(perKey)])));
    } finally {
      await relay.stop();
    }
  }, 150_000);
});
