import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { sql } from "@money/db";
import { uniqueName } from "@money/kafka/testing";
import { decodeLogEntry } from "../src/domain/log/log-entry-codec.js";
import { auditEvent, auditMessage } from "./support/audit-events.js";
import { startAudit, type AuditHarness } from "./support/audit-harness.js";
import { waitUntil } from "@money/testkit";

let audit: AuditHarness;

beforeAll(async () => {
  audit = await startAudit();
});

afterAll(async () => {
  await audit?.stop();
});

async function offsets(consumer?: string): Promise<Map<number, string>> {
  const rows = await audit.admin.any(sql.unsafe`
    SELECT partition, next_offset FROM audit.consumer_offsets
    WHERE topic = ${audit.eventsTopic} ${consumer ? sql.fragment`AND consumer = ${consumer}` : sql.fragment``}
  `);
  return new Map(rows.map((r) => [r["partition"] as number, r["next_offset"] as string]));
}

describe("ingesting the audit topic", () => {
  it("appends each event once, with who, what, why and when", async () => {
    const event = auditEvent({
      service: "ledger",
      action: "transaction.posted",
      objectType: "transaction",
      principalId: "alice",
      role: "admin",
      deviceId: "pos-7",
      reason: "month-end correction",
      approvalReference: "APPROVAL-7",
      before: { status: "pending" },
      after: { status: "posted", amount_minor: "1250" },
    });
    const before = await audit.entryCount();
    await audit.publish([event]);
    await waitUntil("the entry", async () => (await audit.entryCount()) === before + 1);
    const row = await audit.admin.one(
      sql.unsafe`SELECT * FROM audit.entries WHERE event_id = ${event.eventId}`,
    );
    const leaf = decodeLogEntry(row["leaf"] as Buffer);
    expect(leaf).toMatchObject({
      sequence: BigInt(before),
      eventId: event.eventId,
      service: "ledger",
      action: "transaction.posted",
      objectType: "transaction",
      objectId: event.objectId,
      reason: "month-end correction",
      approvalReference: "APPROVAL-7",
      beforeJson: '{"status":"pending"}',
      afterJson: '{"amount_minor":"1250","status":"posted"}',
      occurredAt: event.occurredAt,
    });
    expect(leaf.actor).toMatchObject({
      principalId: "alice",
      principalRole: "admin",
      actingDeviceId: "pos-7",
    });
    // IP and user agent are in the side table; the leaf holds their salted hashes.
    expect(leaf.actor!.ipRef).toHaveLength(32);
    expect(leaf.actor!.userAgentRef).toHaveLength(32);
    expect(Buffer.from(row["leaf"] as Buffer).includes("10.0.0.1")).toBe(false);
    expect(leaf.recordedAt!.seconds).toBeGreaterThan(0n);
    expect(row).toMatchObject({ source_topic: audit.eventsTopic, principal_id: "alice" });
  });

  it("stores the consumer's offsets in the database, at the end of each partition it read", async () => {
    const events = Array.from({ length: 40 }, (_, i) => auditEvent({ objectId: `obj-${i}` }));
    const before = await audit.entryCount();
    await audit.publish(events);
    await waitUntil("40 entries", async () => (await audit.entryCount()) === before + 40);
    // Every entry's source offset is below its partition's stored next offset.
    const stored = await offsets();
    const highest = await audit.admin.any(sql.unsafe`
      SELECT source_partition, max(source_offset) AS last FROM audit.entries GROUP BY source_partition
    `);
    for (const row of highest) {
      expect(BigInt(stored.get(row["source_partition"] as number)!)).toBe(BigInt(row["last"] as string) + 1n);
    }
  });

  it("never makes a second row for a duplicate publish or a replayed topic", async () => {
    const events = Array.from({ length: 10 }, () => auditEvent());
    await audit.publish(events);
    await waitUntil(
      "10 more entries",
      async () =>
        Number(
          await audit.admin.oneFirst(sql.unsafe`
          SELECT count(*) FROM audit.entries WHERE event_id = ANY(${sql.array(
            events.map((e) => e.eventId),
            "uuid",
          )})
        `),
        ) === 10,
    );
    const count = await audit.entryCount();
    const size = Number(await audit.admin.oneFirst(sql.unsafe`SELECT max(size) FROM audit.tree_heads`));
    expect(size).toBe(count);

    // The relay publishes at least once: the same events again, at new offsets.
    await audit.publish(events);
    // A second consumer group reading the whole topic from the beginning into
    // the same log: the stored offsets are per consumer, so everything is
    // replayed, and only the event ids stop it.
    const replay = uniqueName("replay");
    const { startIngester } = await import("../src/events/audit-ingester.js");
    const subscription = await startIngester({
      bus: audit.bus,
      pool: audit.service.deps.pool,
      log: audit.service.deps.log,
      topic: audit.eventsTopic,
      consumer: replay,
      maxBatchSize: 7,
    });
    try {
      const end = await offsets(audit.parts.config.consumerGroup);
      await waitUntil("the replay to reach the end of every partition", async () => {
        const replayed = await offsets(replay);
        return [...end].every(([p, next]) => BigInt(replayed.get(p) ?? "0") >= BigInt(next));
      });
    } finally {
      await subscription.stop();
    }
    await waitUntil("the duplicates to be consumed", async () => {
      const stored = await offsets(audit.parts.config.consumerGroup);
      const total = [...stored.values()].reduce((sum, next) => sum + BigInt(next), 0n);
      return total >= BigInt(count + 10);
    });
    expect(await audit.entryCount()).toBe(count);
    expect(
      await audit.admin.oneFirst(
        sql.unsafe`SELECT count(DISTINCT event_id) = count(*) AND max(sequence) + 1 = count(*) FROM audit.entries`,
      ),
    ).toBe(true);
  });

  it("keeps a message that is no audit event aside and moves past it", async () => {
    const good = auditEvent();
    const message = auditMessage(audit.eventsTopic, auditEvent({ objectId: good.objectId }));
    // Same key, so the same partition, in front of a good event.
    await audit.bus.publish([
      { ...message, value: new TextEncoder().encode("not protobuf at all \u0000\u00ff") },
      auditMessage(audit.eventsTopic, good),
    ]);
    await waitUntil("the good event behind it", async () =>
      Boolean(
        await audit.admin.maybeOneFirst(
          sql.unsafe`SELECT 1 FROM audit.entries WHERE event_id = ${good.eventId}`,
        ),
      ),
    );
    const rejected = await audit.admin.one(sql.unsafe`SELECT * FROM audit.rejected_messages`);
    expect(rejected["reason"]).toMatch(/not an EventEnvelope|payload is/);
  });
});
