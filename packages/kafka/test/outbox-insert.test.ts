import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { createDatabasePool, inTransaction, sql, type DatabasePool } from "@money/db";
import type { TestDatabase } from "@money/db/testing";
import { AuditEventSchema } from "@money/proto/events/v1/audit_pb";
import { AuditRecorder } from "../src/audit-recorder.js";
import { decodeEnvelope, payloadAs, type NewEvent } from "../src/envelope.js";
import { OutboxWriter } from "../src/outbox.js";
import { createEventsDatabase } from "./support/events-database.js";

/*
 * OutboxWriter.insertFragment and capture: the outbox INSERT folded into a
 * statement of the caller's own. No broker: the rows and the relay's wake-up
 * are what they promise.
 */

let db: TestDatabase;
let pool: DatabasePool;
const outbox = new OutboxWriter("loyalty");
const recorder = new AuditRecorder("loyalty", outbox);
let wakeUps = 0;
outbox.onCommitted(() => wakeUps++);

beforeAll(async () => {
  let serviceUrl: string;
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
    SELECT event_id, topic, message_key, event_type, payload FROM outbox
    WHERE event_id = ANY(${sql.array(eventIds, "uuid")}) ORDER BY id
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

describe("OutboxWriter.capture", () => {
  it("holds back what is written through the writer until the caller runs the fragment", async () => {
    const eventIds = await inTransaction(pool, async (tx) => {
      let recorded: string[] = [];
      const insert = await outbox.capture(tx, async () => {
        const audits = await recorder.recordMany(
          tx,
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
        const single = await outbox.write(tx, event("d", "one more"));
        recorded = [...audits.map((a) => a.eventId), single.eventId];
      });
      // Nothing reached the outbox yet: the writes were held.
      const heldIds = insert.envelopes.map((e) => e.eventId);
      expect(
        await tx.oneFirst(
          sql.unsafe`SELECT count(*) FROM outbox WHERE event_id = ANY(${sql.array(heldIds, "uuid")})`,
        ),
      ).toBe("0");
      await tx.query(sql.unsafe`WITH events AS (${insert.sql}) SELECT 1`);
      expect(insert.envelopes.map((e) => e.eventId)).toEqual([
        insert.envelopes[0]!.eventId,
        recorded[0],
        recorded[1],
      ]);
      return insert.envelopes.map((e) => e.eventId);
    });
    const rows = await outboxRows(eventIds);
    // In the order written: the domain event and the audit record of recordMany, then the single write.
    expect(rows.map((r) => [r.topic, r.key])).toEqual([
      ["test.things", "d"],
      ["audit.events", "d"],
      ["test.things", "d"],
    ]);
    expect(payloadAs(rows[1]!.envelope, AuditEventSchema)?.action).toBe("thing.created");
    expect(payloadAs(rows[2]!.envelope, StringValueSchema)?.value).toBe("one more");
  });

  it("writes through as usual once the capture is over, and an empty capture inserts nothing", async () => {
    const before = Number(await pool.oneFirst(sql.unsafe`SELECT count(*) FROM outbox`));
    await inTransaction(pool, async (tx) => {
      const insert = await outbox.capture(tx, async () => {});
      expect(insert.envelopes).toEqual([]);
      await tx.query(sql.unsafe`WITH events AS (${insert.sql}) SELECT 1`);
      await outbox.write(tx, event("e", "after the capture"));
    });
    expect(Number(await pool.oneFirst(sql.unsafe`SELECT count(*) FROM outbox`))).toBe(before + 1);
  });
});
