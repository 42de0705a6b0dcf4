import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { fromJson } from "@bufbuild/protobuf";
import { StructSchema } from "@bufbuild/protobuf/wkt";
import { createDatabasePool, inTransaction, PipelinedConnections, sql, type DatabasePool } from "@money/db";
import type { TestDatabase } from "@money/db/testing";
import type { EventBus, OutgoingMessage } from "../src/bus/event-bus.js";
import type { NewEvent } from "../src/envelope.js";
import { OutboxWriter } from "../src/outbox.js";
import { OutboxRelay } from "../src/relay.js";
import { createEventsDatabase } from "./support/events-database.js";

/*
 * The relay publishes the payloads its own writer handed over at commit, and
 * reads from the table the ones it was not given (another process's events, a
 * restart's backlog). Either way the bus gets the table's bytes, in id order,
 * and the published rows leave the outbox.
 */

const TOPIC = "relay.hand-over";
let db: TestDatabase;
let pool: DatabasePool;
let relayConnections: PipelinedConnections;
const published: OutgoingMessage[] = [];
/** How many messages each publish of recordingBus carried. */
const publishSizes: number[] = [];
/** The relay only publishes. */
const recordingBus = {
  publish: async (messages: readonly OutgoingMessage[]) => {
    publishSizes.push(messages.length);
    published.push(...messages);
  },
} as unknown as EventBus;

beforeAll(async () => {
  let url: string;
  ({ db, serviceUrl: url } = await createEventsDatabase("relay_hand_over", "producer"));
  pool = await createDatabasePool(url);
  relayConnections = new PipelinedConnections(url, { size: 1 });
}, 60_000);

afterAll(async () => {
  await relayConnections?.end();
  await pool?.end();
  await db?.drop();
});

const event = (key: string, seq: number): NewEvent<typeof StructSchema> => ({
  topic: TOPIC,
  schema: StructSchema,
  payload: fromJson(StructSchema, { key, seq }),
  aggregateType: "test",
  aggregateId: key,
  occurredAt: new Date(),
});

async function tableRows(): Promise<{ eventId: string; payload: Buffer }[]> {
  const rows = await pool.any(
    sql.unsafe`SELECT event_id, payload FROM outbox_events ORDER BY outbox_id, position`,
  );
  return rows.map((r) => ({ eventId: r["event_id"] as string, payload: r["payload"] as Buffer }));
}

/** A relay of the producer's outbox onto `bus`, handed `writer`'s payloads at commit. */
const relayOf = (bus: EventBus, writer: OutboxWriter, batchSize?: number) =>
  new OutboxRelay({
    connections: relayConnections,
    bus,
    schema: "producer",
    wakeOn: writer,
    ...(batchSize === undefined ? {} : { batchSize }),
  });

describe("OutboxRelay", () => {
  it("publishes handed-over and read-back payloads alike: the table's bytes, in id order, then deletes them", async () => {
    const writer = new OutboxWriter("producer");
    const relay = relayOf(recordingBus, writer, 3);
    // Another process's writer: the relay is handed nothing of these.
    const elsewhere = new OutboxWriter("producer");
    await inTransaction(pool, (tx) => elsewhere.writeMany(tx, [event("a", 0), event("b", 0)]));
    await inTransaction(pool, (tx) => writer.writeMany(tx, [event("a", 1), event("b", 1), event("c", 1)]));
    await inTransaction(pool, (tx) => writer.write(tx, event("a", 2)));
    // A rolled-back write hands nothing over and leaves no row.
    await expect(
      inTransaction(pool, async (tx) => {
        await writer.write(tx, event("z", 9));
        throw new Error("refused");
      }),
    ).rejects.toThrow("refused");

    const rows = await tableRows();
    expect(rows).toHaveLength(6);

    // Whole writes, while fewer than three events came before: two writes (five events), then
    // one; never more than three messages in one publish.
    publishSizes.length = 0;
    expect(await relay.relayOnce()).toBe(5);
    expect(await relay.relayOnce()).toBe(1);
    expect(await relay.relayOnce()).toBe(0);
    expect(publishSizes).toEqual([3, 2, 1]);

    expect(await tableRows()).toEqual([]);
    expect(published.map((m) => m.headers?.["event-id"])).toEqual(rows.map((r) => r.eventId));
    published.forEach((m, i) => expect(Buffer.from(m.value).equals(rows[i]!.payload)).toBe(true));
    // Topic, key and event type too, whether the relay was handed the write or read it back.
    expect(published.map((m) => [m.topic, m.key, m.headers?.["event-type"]])).toEqual(
      ["a", "b", "a", "b", "c", "a"].map((key) => [TOPIC, key, StructSchema.typeName]),
    );
  });

  it("leaves the rows in the outbox when the publish fails, and sends them on the next pass", async () => {
    let down = true;
    const flakyBus = {
      publish: async (messages: readonly OutgoingMessage[]) => {
        if (down) throw new Error("broker down");
        published.push(...messages);
      },
    } as unknown as EventBus;
    const writer = new OutboxWriter("producer");
    const relay = relayOf(flakyBus, writer);
    await inTransaction(pool, (tx) => writer.writeMany(tx, [event("d", 1), event("e", 1)]));
    const rows = await tableRows();
    published.length = 0;

    await expect(relay.relayOnce()).rejects.toThrow("broker down");
    expect(await tableRows()).toEqual(rows);

    down = false;
    expect(await relay.relayOnce()).toBe(2);
    expect(await tableRows()).toEqual([]);
    expect(published.map((m) => m.headers?.["event-id"])).toEqual(rows.map((r) => r.eventId));
  });
});
