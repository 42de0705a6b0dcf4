import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { sql } from "@money/db";
import { decodeEnvelope, KafkaBus, payloadAs, TOPICS, type Subscription } from "@money/kafka";
import { testBrokers, uniqueName } from "@money/kafka/testing";
import { AuditEventSchema, type AuditEvent } from "@money/proto/events/v1/audit_pb";
import type { EventEnvelope } from "@money/proto/events/v1/envelope_pb";
import { TransactionPostedSchema } from "@money/proto/loyalty/v1/events_pb";
import { TransactionType } from "@money/proto/loyalty/v1/loyalty_pb";
import { key, LoyaltyHarness, type Merchant } from "../support/loyalty-harness.js";
import { waitUntil } from "@money/testkit";

let h: LoyaltyHarness;
let m: Merchant;
let consumerBus: KafkaBus;
let subscription: Subscription;
const seen: EventEnvelope[] = [];

beforeAll(async () => {
  h = await LoyaltyHarness.start("events");
  m = await h.merchant({ welcomeBonusPoints: 10n, minimumSpend: "" });
  consumerBus = new KafkaBus({ brokers: testBrokers(), clientId: uniqueName("loyalty-events-test") });
  subscription = await consumerBus.subscribe({
    groupId: uniqueName("loyalty-events-test"),
    topics: [TOPICS.loyaltyTransactions.topic, TOPICS.auditEvents.topic],
    fromBeginning: true,
    handle: async (message) => {
      seen.push(decodeEnvelope(message.value));
    },
  });
});

afterAll(async () => {
  await subscription?.stop();
  await consumerBus?.close();
  await h?.stop();
});

const postedFor = (cardId: string) =>
  seen
    .filter((e) => e.aggregateId === cardId && e.eventType === TransactionPostedSchema.typeName)
    .map((e) => payloadAs(e, TransactionPostedSchema)!.transaction!);

const auditFor = (cardId: string): AuditEvent[] =>
  seen
    .filter((e) => e.aggregateId === cardId && e.eventType === AuditEventSchema.typeName)
    .map((e) => payloadAs(e, AuditEventSchema)!);

it("publishes a domain event and an audit event for every transaction, in order, keyed by card", async () => {
  const card = await h.enroll(m);
  const earned = (await h.earn(m, card.id, "25.00")).transaction!;
  await m.till.redeemPoints({ idempotencyKey: key(), cardId: card.id, rewardCode: "COFFEE", staff: m.staff });

  await waitUntil("four transaction events", () => postedFor(card.id).length >= 4);
  expect(postedFor(card.id).map((t) => [t.type, t.pointsBalanceAfter])).toEqual([
    [TransactionType.CARD_ENROLLED, 0n],
    [TransactionType.WELCOME_BONUS, 10n],
    [TransactionType.POINTS_EARNED, 35n],
    [TransactionType.POINTS_REDEEMED, 25n],
  ]);
  const posted = postedFor(card.id)[2]!;
  expect(posted).toMatchObject({
    id: earned.id,
    actingTerminalDeviceId: m.deviceId,
    purchaseAmount: "25.00",
  });
  const envelope = seen.find((e) => payloadAs(e, TransactionPostedSchema)?.transaction?.id === earned.id)!;
  expect(envelope).toMatchObject({
    producer: "loyalty",
    aggregateType: "loyalty_card",
    aggregateId: card.id,
  });

  await waitUntil("four audit events", () => auditFor(card.id).length >= 4);
  const audit = auditFor(card.id).find((a) => a.action === "loyalty_card.points_earned")!;
  expect(audit).toMatchObject({
    service: "loyalty",
    objectType: "loyalty_card",
    objectId: card.id,
    actor: {
      principalId: m.deviceId,
      principalRole: "terminal",
      actingDeviceId: m.deviceId,
      ip: "127.0.0.1",
    },
  });
  expect(audit.before).toMatchObject({ points_balance: "10" });
  expect(audit.after).toMatchObject({ points_balance: "35", transaction_id: earned.id });
});

it("writes the events in the posting's own transaction: a refused posting leaves none", async () => {
  const card = await h.enroll(m);
  const outbox = () =>
    h.admin.oneFirst(sql.unsafe`SELECT count(*) FROM loyalty.outbox_written WHERE message_key = ${card.id}`);
  const before = await outbox();
  await m.till
    .redeemPoints({ idempotencyKey: key(), cardId: card.id, rewardCode: "CAKE", staff: m.staff })
    .catch(() => undefined);
  expect(await outbox()).toBe(before);
  await h.earn(m, card.id, "5.00");
  expect(Number(await outbox())).toBe(Number(before) + 2);
});
