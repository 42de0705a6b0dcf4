import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createDatabasePool, inTransaction, PipelinedConnections, sql, type DatabasePool } from "@money/db";
import type { TestDatabase } from "@money/db/testing";
import { AuditActorSchema, AuditEventSchema, type AuditEvent } from "@money/proto/events/v1/audit_pb";
import type { EventEnvelope } from "@money/proto/events/v1/envelope_pb";
import { AuditRecorder, type AuditEntry } from "../src/audit-recorder.js";
import type { IncomingMessage, Subscription } from "../src/bus/event-bus.js";
import { KafkaBus } from "../src/bus/kafka-bus.js";
import { decodeEnvelope, payloadAs } from "../src/envelope.js";
import { OutboxWriter } from "../src/outbox.js";
import { OutboxRelay } from "../src/relay.js";
import { testBrokers, uniqueName } from "../src/testing/test-broker.js";
import { TOPICS } from "../src/topics.js";
import { waitUntil } from "@money/testkit";
import { createEventsDatabase } from "./support/events-database.js";

/*
 * `audit.events` is one fixed topic that every service and other test files
 * write to, so this file reads it from the beginning in a group of its own
 * and looks only at the event ids it recorded itself.
 */

let db: TestDatabase;
let serviceUrl: string;
let relayConnections: PipelinedConnections;
let pool: DatabasePool;
let bus: KafkaBus;
let relay: OutboxRelay;
let subscription: Subscription | undefined;
const outbox = new OutboxWriter("ledger");
const recorder = new AuditRecorder("ledger", outbox);
/** Every audit.events record seen, by the event id in its headers. */
const received = new Map<string, { message: IncomingMessage; envelope: EventEnvelope }[]>();

beforeAll(async () => {
  ({ db, serviceUrl } = await createEventsDatabase("audit_recorder", "ledger"));
  pool = await createDatabasePool(serviceUrl);
  relayConnections = new PipelinedConnections(serviceUrl, { size: 1 });
  bus = new KafkaBus({ brokers: testBrokers(), clientId: uniqueName("audit-recorder") });
  // Idempotent: the topic is shared, and may already exist with its platform partition count.
  await bus.ensureTopics([TOPICS.auditEvents]);
  subscription = await bus.subscribe({
    groupId: uniqueName("audit-recorder-test"),
    topics: [TOPICS.auditEvents.topic],
    handle: async (message) => {
      const eventId = message.headers["event-id"] ?? "";
      const copies = received.get(eventId) ?? [];
      received.set(eventId, [...copies, { message, envelope: decodeEnvelope(message.value) }]);
    },
  });
  relay = new OutboxRelay({
    connections: relayConnections,
    bus,
    schema: "ledger",
    wakeOn: outbox,
    idlePollMs: 250,
  });
  await relay.start();
}, 60_000);

afterAll(async () => {
  await relay?.stop();
  await relayConnections?.end();
  await subscription?.stop();
  await bus?.close();
  await pool?.end();
  await db?.drop();
});

async function outboxRows(eventId: string): Promise<number> {
  return Number(
    await pool.oneFirst(sql.unsafe`SELECT count(*) FROM outbox_events WHERE event_id = ${eventId}`),
  );
}

async function delivered(eventId: string): Promise<{ message: IncomingMessage; envelope: EventEnvelope }> {
  await waitUntil(`audit event ${eventId} on ${TOPICS.auditEvents.topic}`, () => received.has(eventId));
  return received.get(eventId)![0]!;
}

/** The event as create() builds it from an entry: what the recorder's literal message must equal. */
function createdEvent(eventId: string, entry: AuditEntry): AuditEvent {
  return create(AuditEventSchema, {
    eventId,
    service: "ledger",
    action: entry.action,
    objectType: entry.objectType,
    objectId: entry.objectId,
    actor: create(AuditActorSchema, {
      principalId: entry.actor.principalId,
      principalRole: entry.actor.role,
      actingDeviceId: entry.actor.actingDeviceId ?? "",
      ip: entry.actor.ip ?? "",
      userAgent: entry.actor.userAgent ?? "",
    }),
    reason: entry.reason ?? "",
    approvalReference: entry.approvalReference ?? "",
    occurredAt: timestampFromDate(entry.occurredAt),
    correlationId: entry.correlationId ?? "",
    ...(entry.before ? { before: entry.before } : {}),
    ...(entry.after ? { after: entry.after } : {}),
  });
}

describe("AuditRecorder", () => {
  it("puts the whole AuditEvent on audit.events through the outbox when the change commits", async () => {
    const occurredAt = new Date("2026-11-22T10:15:30.123Z");
    const objectId = uniqueName("account");
    const entry: AuditEntry = {
      action: "account.frozen",
      objectType: "account",
      objectId,
      actor: {
        principalId: "staff-42",
        role: "staff",
        actingDeviceId: "terminal-7",
        ip: "203.0.113.9",
        userAgent: "backoffice/3.1 (Firefox)",
      },
      before: { status: "active", balance: "120.50", limits: { daily: "500.00" }, tags: ["vip"] },
      after: { status: "frozen", balance: "120.50", limits: { daily: "0.00" }, tags: ["vip", "review"] },
      reason: "suspected card fraud",
      approvalReference: "approval-2026-0042",
      correlationId: uniqueName("request"),
      occurredAt,
    };

    const recorded: AuditEvent = await inTransaction(pool, (tx) => recorder.record(tx, entry));
    expect(recorded).toStrictEqual(createdEvent(recorded.eventId, entry));
    const { message, envelope } = await delivered(recorded.eventId);

    const event = payloadAs(envelope, AuditEventSchema);
    expect(event).toBeDefined();
    expect(event!.eventId).toBe(recorded.eventId);
    expect(event!.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(event!.service).toBe("ledger");
    expect(event!.action).toBe("account.frozen");
    expect(event!.objectType).toBe("account");
    expect(event!.objectId).toBe(objectId);
    expect(event!.actor).toMatchObject({
      principalId: "staff-42",
      principalRole: "staff",
      actingDeviceId: "terminal-7",
      ip: "203.0.113.9",
      userAgent: "backoffice/3.1 (Firefox)",
    });
    expect(event!.before).toEqual(entry.before);
    expect(event!.after).toEqual(entry.after);
    expect(event!.reason).toBe("suspected card fraud");
    expect(event!.approvalReference).toBe("approval-2026-0042");
    expect(event!.correlationId).toBe(entry.correlationId);
    expect(timestampDate(event!.occurredAt!).toISOString()).toBe("2026-11-22T10:15:30.123Z");

    // The envelope and the record around it: keyed by the object, so one object's events stay in order.
    expect(message.topic).toBe("audit.events");
    expect(message.key).toBe(objectId);
    expect(message.headers).toMatchObject({
      "event-id": recorded.eventId,
      "event-type": "events.v1.AuditEvent",
    });
    expect(envelope).toMatchObject({
      eventId: recorded.eventId,
      eventType: "events.v1.AuditEvent",
      producer: "ledger",
      aggregateType: "account",
      aggregateId: objectId,
      correlationId: entry.correlationId,
    });
    expect(timestampDate(envelope.occurredAt!).toISOString()).toBe("2026-11-22T10:15:30.123Z");
    expect(received.get(recorded.eventId)).toHaveLength(1);
  });

  it("leaves optional fields empty and `before` absent for an object that did not exist", async () => {
    const objectId = uniqueName("account");
    const entry: AuditEntry = {
      action: "account.created",
      objectType: "account",
      objectId,
      actor: { principalId: "user-1", role: "user" },
      after: { status: "active", balance: "0.00" },
      occurredAt: new Date(),
    };
    const recorded = await inTransaction(pool, (tx) => recorder.record(tx, entry));
    expect(recorded).toStrictEqual(createdEvent(recorded.eventId, entry));
    const event = payloadAs((await delivered(recorded.eventId)).envelope, AuditEventSchema)!;

    expect(event.before).toBeUndefined();
    expect(event.after).toEqual({ status: "active", balance: "0.00" });
    expect(event.actor).toMatchObject({
      principalId: "user-1",
      principalRole: "user",
      actingDeviceId: "",
      ip: "",
      userAgent: "",
    });
    expect([event.reason, event.approvalReference, event.correlationId]).toEqual(["", "", ""]);
  });

  it("records nothing when the transaction rolls back", async () => {
    const objectId = uniqueName("account");
    const entry = (action: string): AuditEntry => ({
      action,
      objectType: "account",
      objectId,
      actor: { principalId: "staff-42", role: "staff" },
      occurredAt: new Date(),
    });
    let rolledBack: AuditEvent | undefined;
    await expect(
      inTransaction(pool, async (tx) => {
        rolledBack = await recorder.record(tx, entry("account.closed"));
        throw new Error("balance is not zero");
      }),
    ).rejects.toThrow("balance is not zero");
    expect(rolledBack).toBeDefined();
    expect(await outboxRows(rolledBack!.eventId)).toBe(0);

    // The next event of the same object shares its partition and comes after
    // it: once that one is here, the rolled-back one would be too.
    const later = await inTransaction(pool, (tx) => recorder.record(tx, entry("account.reviewed")));
    await delivered(later.eventId);
    expect(received.has(rolledBack!.eventId)).toBe(false);
    const forObject = [...received.values()].flat().filter((r) => r.message.key === objectId);
    expect(forObject.map((r) => payloadAs(r.envelope, AuditEventSchema)!.action)).toEqual([
      "account.reviewed",
    ]);
  });
});
