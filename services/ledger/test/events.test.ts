import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { decodeEnvelope, KafkaBus, payloadAs, TOPICS, type Subscription } from "@money/kafka";
import { testBrokers, uniqueName } from "@money/kafka/testing";
import { AuditEventSchema } from "@money/proto/events/v1/audit_pb";
import type { EventEnvelope } from "@money/proto/events/v1/envelope_pb";
import {
  PendingCreatedSchema,
  PendingVoidedSchema,
  TransactionPostedSchema,
  TransactionReversedSchema,
  TransactionStatus,
  TransactionStatusChangedSchema,
} from "@money/proto/ledger/v1/ledger_pb";
import { key, LedgerHarness } from "./support/ledger-harness.js";
import { waitUntil } from "@money/testkit";

/*
 * Every posted, pending, voided or reversed transaction and every status
 * change reaches Kafka as a domain event on ledger.transactions and an audit
 * event on audit.events, through the outbox and its relay, on a real broker.
 */

let ledger: LedgerHarness;
let consumerBus: KafkaBus;
let subscription: Subscription;
/** Every envelope received, with the Kafka key it came under. */
const received: { topic: string; key: string; envelope: EventEnvelope }[] = [];

beforeAll(async () => {
  ledger = await LedgerHarness.start("events");
  consumerBus = new KafkaBus({ brokers: testBrokers(), clientId: "ledger-events-test" });
  // The topics are shared with every other test: a fresh group reads from now on and filters by id.
  subscription = await consumerBus.subscribe({
    groupId: uniqueName("ledger-events-test"),
    topics: [TOPICS.ledgerTransactions.topic, TOPICS.auditEvents.topic],
    fromBeginning: false,
    handle: async (message) => {
      received.push({ topic: message.topic, key: message.key, envelope: decodeEnvelope(message.value) });
    },
  });
  // A fresh group starts at the end of the log once it has joined; post until an event arrives.
  const from = await ledger.fundedAccount("1000.00");
  const to = await ledger.openAccount();
  await waitUntil(
    "the consumer group to join",
    async () => {
      const { transaction } = await ledger.adminClient.transfer({
        idempotencyKey: key(),
        fromAccountId: from.id,
        toAccountId: to.id,
        amount: "0.01",
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      return received.some((r) => r.key === transaction!.id);
    },
    { timeoutMs: 60_000, intervalMs: 0 },
  );
}, 90_000);

afterAll(async () => {
  await subscription?.stop();
  await consumerBus?.close();
  await ledger?.stop();
});

const eventsOf = (aggregateId: string, topic: string = TOPICS.ledgerTransactions.topic) =>
  received.filter((r) => r.topic === topic && r.key === aggregateId).map((r) => r.envelope);

async function eventually(
  aggregateId: string,
  count: number,
  topic: string = TOPICS.ledgerTransactions.topic,
) {
  await waitUntil(
    `${count} events for ${aggregateId} on ${topic}`,
    () => eventsOf(aggregateId, topic).length >= count,
  );
  return eventsOf(aggregateId, topic);
}

describe("domain and audit events", () => {
  it("publishes TransactionPosted for a transfer, keyed by the transaction, with its audit event", async () => {
    const from = await ledger.fundedAccount("10.00");
    const to = await ledger.openAccount();
    const { transaction } = await ledger.as("service", "checkout").transfer({
      idempotencyKey: key(),
      fromAccountId: from.id,
      toAccountId: to.id,
      amount: "4.20",
    });
    const [event] = await eventually(transaction!.id, 1);
    expect(event).toMatchObject({
      eventType: "ledger.v1.TransactionPosted",
      producer: "ledger",
      aggregateType: "transaction",
      aggregateId: transaction!.id,
    });
    const posted = payloadAs(event!, TransactionPostedSchema)!;
    expect(posted.transaction).toMatchObject({
      id: transaction!.id,
      amount: "4.20",
      status: TransactionStatus.SETTLED,
    });
    expect(posted.transaction?.entries).toHaveLength(2);

    const [audit] = await eventually(transaction!.id, 1, TOPICS.auditEvents.topic);
    expect(payloadAs(audit!, AuditEventSchema)).toMatchObject({
      service: "ledger",
      action: "transaction.posted",
      objectType: "transaction",
      objectId: transaction!.id,
      actor: { principalId: "checkout", principalRole: "service" },
    });
  });

  it("publishes PendingCreated, then TransactionStatusChanged and PendingVoided in order", async () => {
    const from = await ledger.fundedAccount("10.00");
    const to = await ledger.openAccount();
    const { transaction } = await ledger.adminClient.createPending({
      idempotencyKey: key(),
      debitAccountId: from.id,
      creditAccountId: to.id,
      amount: "3.00",
      timeoutSeconds: 600n,
    });
    await ledger.adminClient.voidPending({
      idempotencyKey: key(),
      transactionId: transaction!.id,
      reason: "cancelled",
    });
    const events = await eventually(transaction!.id, 3);
    expect(events.map((e) => e.eventType)).toEqual([
      "ledger.v1.PendingCreated",
      "ledger.v1.TransactionStatusChanged",
      "ledger.v1.PendingVoided",
    ]);
    expect(payloadAs(events[0]!, PendingCreatedSchema)?.transaction?.hold?.amount).toBe("3.00");
    expect(payloadAs(events[1]!, TransactionStatusChangedSchema)?.change).toMatchObject({
      fromStatus: TransactionStatus.PROCESSING,
      toStatus: TransactionStatus.FAILED,
      reason: "cancelled",
    });
    expect(payloadAs(events[2]!, PendingVoidedSchema)?.transaction?.status).toBe(TransactionStatus.FAILED);
    const audits = await eventually(transaction!.id, 3, TOPICS.auditEvents.topic);
    expect(audits.map((a) => payloadAs(a, AuditEventSchema)?.action)).toEqual([
      "transaction.pending_created",
      "transaction.status_changed",
      "transaction.pending_voided",
    ]);
  });

  it("publishes TransactionPosted when a pending transaction is posted", async () => {
    const from = await ledger.fundedAccount("10.00");
    const to = await ledger.openAccount();
    const { transaction } = await ledger.adminClient.createPending({
      idempotencyKey: key(),
      debitAccountId: from.id,
      creditAccountId: to.id,
      amount: "3.00",
      timeoutSeconds: 600n,
    });
    await ledger.adminClient.postPending({
      idempotencyKey: key(),
      transactionId: transaction!.id,
      amount: "2.00",
    });
    const events = await eventually(transaction!.id, 3);
    expect(events.map((e) => e.eventType)).toEqual([
      "ledger.v1.PendingCreated",
      "ledger.v1.TransactionStatusChanged",
      "ledger.v1.TransactionPosted",
    ]);
    expect(payloadAs(events[2]!, TransactionPostedSchema)?.transaction?.amount).toBe("2.00");
  });

  it("publishes TransactionReversed under the original's key, and every status change of a refund", async () => {
    const from = await ledger.fundedAccount("10.00");
    const to = await ledger.openAccount();
    const { transaction } = await ledger.adminClient.recordPayment({
      idempotencyKey: key(),
      payerAccountId: from.id,
      payeeAccountId: to.id,
      amount: "9.00",
    });
    const saga = ledger.as("service", "refunds-saga");
    const id = transaction!.id;
    await saga.transitionTransaction({
      idempotencyKey: key(),
      transactionId: id,
      toStatus: TransactionStatus.REFUND_INITIATED,
      reason: "asked",
    });
    await saga.transitionTransaction({
      idempotencyKey: key(),
      transactionId: id,
      toStatus: TransactionStatus.REFUND_PROCESSING,
      reason: "ok",
    });
    const { reversal } = await saga.reverseTransaction({
      idempotencyKey: key(),
      transactionId: id,
      amount: "9.00",
      reason: "refund",
    });
    await saga.transitionTransaction({
      idempotencyKey: key(),
      transactionId: id,
      toStatus: TransactionStatus.REFUNDED,
      reason: "done",
    });
    const events = await eventually(id, 5);
    expect(events.map((e) => e.eventType)).toEqual([
      "ledger.v1.TransactionPosted",
      "ledger.v1.TransactionStatusChanged",
      "ledger.v1.TransactionStatusChanged",
      "ledger.v1.TransactionReversed",
      "ledger.v1.TransactionStatusChanged",
    ]);
    expect(payloadAs(events[3]!, TransactionReversedSchema)).toMatchObject({
      originalTransactionId: id,
      originalReversedAmount: "9.00",
      reversal: { id: reversal!.id, reason: "refund" },
    });
    const audits = await eventually(reversal!.id, 1, TOPICS.auditEvents.topic);
    expect(payloadAs(audits[0]!, AuditEventSchema)).toMatchObject({
      action: "transaction.reversed",
      reason: "refund",
      correlationId: id,
      actor: { principalId: "refunds-saga" },
    });
  });

  it("publishes nothing for a refused request", async () => {
    const from = await ledger.fundedAccount("1.00");
    const to = await ledger.openAccount();
    const before = await ledger.footprint();
    await ledger.adminClient
      .transfer({ idempotencyKey: key(), fromAccountId: from.id, toAccountId: to.id, amount: "2.00" })
      .catch(() => undefined);
    expect((await ledger.footprint()).outbox).toBe(before.outbox);
  });
});
