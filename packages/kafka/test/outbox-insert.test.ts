import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { createDatabasePool, inTransaction, PipelinedConnections, sql, type DatabasePool } from "@money/db";
import type { TestDatabase } from "@money/db/testing";
import { AuditEventSchema } from "@money/proto/events/v1/audit_pb";
import { AuditRecorder } from "../src/audit-recorder.js";
import { decodeEnvelope, payloadAs, type NewEvent } from "../src/envelope.js";
import { OutboxWriter } from "../src/outbox.js";
import { createEventsDatabase } from "./support/events-database.js";

/*
 * OutboxWriter.insertFragment: the outbox INSERT folded into a statement of
 * the caller's own, in a slonik transaction or a pipelined one. No broker: the rows and the relay's wake-up
 * are what they promise.
 */

let db: TestDatabase;
let pool: DatabasePool;
let serviceUrl: string;
const outbox = new OutboxWriter("loyalty");
const recorder = new AuditRecorder("loyalty", outbox);
let wakeUps = 0;
outbox.onCommitted(() => wakeUps++);

beforeAll(async () => {
  ({ db, serviceUrl } = await createEventsDatabase("outbox_insert", "loyalty"));
  pool = await createDatabasePool(serviceUrl);
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const event = (key: string, text: string): NewEvent<typeof StringValueSchema> => ({
  topic: "test.things",
  schema: StringValueSchema,
  payload: create(StringValueSchema, { value: text }),
  aggregateType: "thing",
  aggregateId: key,
  occurredAt: new Date("2026-12-06T01:00:00Z"),
});

async function outboxRows(eventIds: readonly string[]) {
  const rows = await pool.any(sql.unsafe`
    SELECT event_id, topic, message_key, event_type, payload FROM outbox_events
    WHERE event_id = ANY(${sql.array(eventIds, "uuid")}) ORDER BY outbox_id, position
  `);
  return rows.map((r) => ({
    eventId: r["event_id"] as string,
    topic: r["topic"] as string,
    key: r["message_key"] as string,
    type: r["event_type"] as string,
    envelope: decodeEnvelope(r["payload"] as Buffer),
  }));
}

describe("OutboxWriter.insertFragment", () => {
  it("writes the events in order inside the caller's statement, and wakes the relay after commit", async () => {
    const before = wakeUps;
    const envelopes = await inTransaction(pool, async (tx) => {
      const insert = outbox.insertFragment(tx, [event("a", "first"), event("b", "second")]);
      await tx.query(sql.unsafe`
        WITH handled AS (
          INSERT INTO inbox (consumer, event_id, event_type) VALUES ('test', gen_random_uuid(), 'test.thing')
        ), events AS (${insert.sql})
        SELECT 1
      `);
      expect(wakeUps).toBe(before);
      return insert.envelopes;
    });
    expect(wakeUps).toBe(before + 1);
    const rows = await outboxRows(envelopes.map((e) => e.eventId));
    expect(rows.map((r) => [r.eventId, r.topic, r.key, r.type])).toEqual([
      [envelopes[0]!.eventId, "test.things", "a", "google.protobuf.StringValue"],
      [envelopes[1]!.eventId, "test.things", "b", "google.protobuf.StringValue"],
    ]);
    expect(rows.map((r) => payloadAs(r.envelope, StringValueSchema)?.value)).toEqual(["first", "second"]);
    expect(rows[0]!.envelope).toEqual(envelopes[0]);
  });

  it("writes nothing and wakes nobody when the transaction rolls back", async () => {
    const before = wakeUps;
    let eventId = "";
    await expect(
      inTransaction(pool, async (tx) => {
        const insert = outbox.insertFragment(tx, [event("c", "rolled back")]);
        eventId = insert.envelopes[0]!.eventId;
        await tx.query(sql.unsafe`WITH events AS (${insert.sql}) SELECT 1`);
        throw new Error("refused");
      }),
    ).rejects.toThrow("refused");
    expect(wakeUps).toBe(before);
    expect(await outboxRows([eventId])).toEqual([]);
  });
});

describe("AuditRecorder.eventsOf in a pipelined transaction", () => {
  it("writes the events and their audit records in the statement that commits, and wakes the relay once it has", async () => {
    const connections = new PipelinedConnections(serviceUrl, { size: 1 });
    const before = wakeUps;
    const envelopes = await connections.transaction(async (tx) => {
      const events = recorder.eventsOf(
        [
          {
            action: "thing.created",
            objectType: "thing",
            objectId: "d",
            actor: { principalId: "tester", role: "admin" },
            occurredAt: new Date("2026-12-06T01:00:00Z"),
          },
        ],
        [event("d", "created")],
      );
      const insert = outbox.insertFragment(tx, events);
      await tx.commitWith(sql.unsafe`WITH events AS (${insert.sql}) SELECT 1`);
      expect(wakeUps).toBe(before);
      return insert.envelopes;
    });
    await connections.end();
    expect(wakeUps).toBe(before + 1);
    const rows = await outboxRows(envelopes.map((e) => e.eventId));
    // The domain event first, then the audit record, as recordMany writes them.
    expect(rows.map((r) => [r.topic, r.key])).toEqual([
      ["test.things", "d"],
      ["audit.events", "d"],
    ]);
    expect(payloadAs(rows[0]!.envelope, StringValueSchema)?.value).toBe("created");
    expect(payloadAs(rows[1]!.envelope, AuditEventSchema)?.action).toBe("thing.created");
  });
});
