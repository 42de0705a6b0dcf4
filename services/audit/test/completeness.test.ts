import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { StringValueSchema, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { sql } from "@money/db";
import { encodeEnvelope, envelopeOf, type OutgoingMessage } from "@money/kafka";
import { uniqueName } from "@money/kafka/testing";
import { auditEvent } from "./support/audit-events.js";
import { startAudit, type AuditHarness } from "./support/audit-harness.js";
import { waitUntil } from "@money/testkit";

let audit: AuditHarness;
const topics = {
  ledger: uniqueName("ledger-transactions"),
  loyalty: uniqueName("loyalty-transactions"),
  refunds: uniqueName("refunds-events"),
};

beforeAll(async () => {
  audit = await startAudit({
    env: {
      AUDIT_COMPLETENESS_TOPICS: Object.values(topics).join(","),
      AUDIT_COMPLETENESS_GROUP: uniqueName("completeness"),
    },
  });
});

afterAll(async () => {
  await audit?.stop();
});

/** A domain event as a service's relay publishes it, in the platform's envelope. */
function domainEvent(
  topic: string,
  producer: string,
  aggregateType: string,
  aggregateId: string,
  at: Date,
): OutgoingMessage {
  const envelope = envelopeOf(producer, {
    topic,
    schema: StringValueSchema,
    payload: create(StringValueSchema, { value: `${aggregateType} ${aggregateId}` }),
    aggregateType,
    aggregateId,
    occurredAt: at,
  });
  return { topic, key: aggregateId, value: encodeEnvelope(envelope) };
}

describe("completeness", () => {
  it("reports each domain event whose change has no audit record", async () => {
    const t = (ms: number) => new Date(Date.UTC(2026, 5, 1, 12, 0, 0, ms));
    await audit.bus.publish([
      domainEvent(topics.ledger, "ledger", "transaction", "tx-audited", t(1)),
      domainEvent(topics.ledger, "ledger", "transaction", "tx-silent", t(2)),
      domainEvent(topics.loyalty, "loyalty", "loyalty_card", "card-1", t(3)),
      domainEvent(topics.loyalty, "loyalty", "loyalty_card", "card-1", t(4)),
      domainEvent(topics.refunds, "refunds", "refund", "refund-1", t(5)),
      // A reversal is keyed by the transaction it reverses; its audit record names it as correlation.
      domainEvent(topics.ledger, "ledger", "transaction", "tx-audited", t(6)),
    ]);
    await audit.publish([
      auditEvent({ service: "ledger", objectType: "transaction", objectId: "tx-audited", occurredAt: t(1) }),
      auditEvent({
        service: "loyalty",
        action: "loyalty_card.earn",
        objectType: "loyalty_card",
        objectId: "card-1",
        occurredAt: t(3),
      }),
      auditEvent({
        service: "refunds",
        action: "refund.requested",
        objectType: "refund",
        objectId: "refund-1",
        occurredAt: t(5),
      }),
      auditEvent({
        service: "ledger",
        action: "transaction.reversed",
        objectType: "transaction",
        objectId: "tx-reversal",
        correlationId: "tx-audited",
        occurredAt: t(6),
      }),
    ]);
    await waitUntil(
      "the monitor to see the six domain events",
      async () =>
        Number(await audit.admin.oneFirst(sql.unsafe`SELECT count(*) FROM audit.domain_events`)) === 6,
    );
    await waitUntil("the four audit events", async () => (await audit.entryCount()) >= 4);

    const report = await audit.client().checkCompleteness({ occurredBefore: timestampFromDate(new Date()) });
    expect(report.domainEventsChecked).toBe(6n);
    expect(
      report.gaps.map((g) => [g.topic, g.producer, g.aggregateType, g.aggregateId, g.occurredAt]),
    ).toEqual([
      [topics.ledger, "ledger", "transaction", "tx-silent", timestampFromDate(t(2))],
      [topics.loyalty, "loyalty", "loyalty_card", "card-1", timestampFromDate(t(4))],
    ]);
  });

  it("leaves out events too recent for their audit record to have arrived", async () => {
    const report = await audit
      .client()
      .checkCompleteness({ occurredBefore: timestampFromDate(new Date(Date.UTC(2026, 5, 1, 12))) });
    expect(report).toMatchObject({ domainEventsChecked: 0n, gaps: [] });
  });
});
