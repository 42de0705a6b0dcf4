// The trail end to end: the real ledger and loyalty services write their audit events through their
// outboxes to the real `audit.events` topic; the audit service ingests the whole topic (every test's
// events so far, with a consumer group of its own) and must hold each of this test's changes once, with
// its actor, and have a record for each of their domain events.

import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { randomUUID } from "node:crypto";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createTestDatabase, type TestDatabase } from "@money/db/testing";
import { KafkaBus, TOPICS } from "@money/kafka";
import { testBrokers, uniqueName } from "@money/kafka/testing";
import { ledgerService } from "@money/ledger";
import { AccountType, LedgerService } from "@money/proto/ledger/v1/ledger_pb";
import type { AuditRecord } from "@money/proto/audit/v1/audit_pb";
import { createLogger, mintToken, tokenVerifierFromEnv, type Role } from "@money/rpc";
import { startService, type RunningService } from "@money/runtime";
import { LoyaltyHarness, key } from "../../loyalty/test/support/loyalty-harness.js";
import { startAudit, type AuditHarness } from "./support/audit-harness.js";
import { waitUntil } from "@money/testkit";

// The audit consumer reads audit.events from the start: every event the suite wrote before this file.
jest.setTimeout(300_000);

let bus: KafkaBus;
let audit: AuditHarness;
let ledgerDb: TestDatabase;
let ledger: RunningService;
let loyalty: LoyaltyHarness;

beforeAll(async () => {
  bus = new KafkaBus({ brokers: testBrokers(), clientId: uniqueName("audit-e2e") });
  audit = await startAudit({
    bus,
    eventsTopic: TOPICS.auditEvents.topic,
    env: {
      AUDIT_COMPLETENESS_TOPICS: [
        TOPICS.ledgerTransactions.topic,
        TOPICS.loyaltyTransactions.topic,
        TOPICS.refundsEvents.topic,
      ].join(","),
      AUDIT_COMPLETENESS_GROUP: uniqueName("audit-e2e-completeness"),
    },
  });
  ledgerDb = await createTestDatabase("audit_e2e_ledger");
  ledger = await startService(ledgerService, {
    adminDatabaseUrl: ledgerDb.adminUrl,
    bus,
    verifier: await tokenVerifierFromEnv({}),
    port: 0,
    roles: true,
    servicePassword: "dev",
    poolSize: 4,
    listen: true,
    relayIdlePollMs: 100,
    log: createLogger("ledger-e2e").child({}, { level: "warn" }),
  });
  loyalty = await LoyaltyHarness.start("audit_e2e");
}, 120_000);

afterAll(async () => {
  await ledger?.stop();
  await loyalty?.stop();
  await audit?.stop();
  await bus?.close();
  await ledgerDb?.drop();
});

function ledgerClient(role: Role, sub: string): Client<typeof LedgerService> {
  return createClient(
    LedgerService,
    createConnectTransport({
      baseUrl: ledger.url,
      httpVersion: "1.1",
      interceptors: [
        (next) => async (req) => {
          req.header.set("authorization", `Bearer ${await mintToken({ sub, role })}`);
          req.header.set("user-agent", "checkout-service/4.2");
          return next(req);
        },
      ],
    }),
  );
}

/** The trail's records about one object, once the audit service has them all. */
async function trailOf(objectType: string, objectId: string, atLeast: number): Promise<AuditRecord[]> {
  let records: AuditRecord[] = [];
  await waitUntil(
    `${atLeast} records of ${objectType} ${objectId}`,
    async () => {
      records = (await audit.client().getObjectHistory({ objectType, objectId })).records;
      return records.length >= atLeast;
    },
    // The service reads the whole shared topic first: every test run's events so far.
    { timeoutMs: 240_000, intervalMs: 250 },
  );
  return records;
}

describe("the audit trail of real services", () => {
  let transferId: string;
  let cardId: string;

  it("holds a ledger transfer once, with the service that made it", async () => {
    const admin = ledgerClient("admin", "alice");
    const account = async () =>
      (
        await admin.createAccount({
          idempotencyKey: randomUUID(),
          type: AccountType.LIABILITY,
          ownerRef: `shop-${randomUUID().slice(0, 6)}`,
          currency: "EUR",
        })
      ).account!.id;
    const [from, to] = [await account(), await account()];
    const { transaction } = await ledgerClient("service", "checkout").transfer({
      idempotencyKey: randomUUID(),
      fromAccountId: from,
      toAccountId: to,
      amount: "12.50",
      externalRef: "order-1001",
    });
    transferId = transaction!.id;

    const records = await trailOf("transaction", transferId, 1);
    expect(records.map((r) => r.action)).toEqual(["transaction.posted"]);
    expect(records[0]).toMatchObject({
      service: "ledger",
      actor: { principalId: "checkout", principalRole: "service", userAgent: "checkout-service/4.2" },
    });
    const opened = await trailOf("account", from, 1);
    expect(opened).toEqual([
      expect.objectContaining({
        action: "account.opened",
        actor: expect.objectContaining({ principalId: "alice", principalRole: "admin" }),
      }),
    ]);
  });

  it("holds a loyalty earn at a till once, with the terminal that acted", async () => {
    const merchant = await loyalty.merchant();
    const card = await loyalty.enroll(merchant);
    cardId = card.id;
    await loyalty.earn(merchant, cardId, "12.00");
    const records = await trailOf("loyalty_card", cardId, 2);
    const earns = records.filter((r) => /earn/.test(r.action));
    expect(earns).toHaveLength(1);
    expect(earns[0]).toMatchObject({
      service: "loyalty",
      actor: { principalId: merchant.deviceId, principalRole: "terminal", actingDeviceId: merchant.deviceId },
    });

    // An admin's correction, with the reason it was made.
    const adjustKey = key();
    await merchant.admin.adjust({
      idempotencyKey: adjustKey,
      cardId,
      pointsDelta: 5n,
      reason: "goodwill after complaint 77",
    });
    await merchant.admin.adjust({
      idempotencyKey: adjustKey,
      cardId,
      pointsDelta: 5n,
      reason: "goodwill after complaint 77",
    });
    const after = await trailOf("loyalty_card", cardId, records.length + 1);
    const adjustments = after.filter((r) => /adjust/.test(r.action));
    expect(adjustments).toHaveLength(1);
    expect(adjustments[0]).toMatchObject({
      reason: "goodwill after complaint 77",
      actor: { principalId: `admin-of-${merchant.merchantId}`, principalRole: "admin" },
    });
  });

  it("has a record for each of those changes' domain events", async () => {
    await waitUntil(
      "the domain events of this test",
      async () => {
        const report = await audit
          .client()
          .checkCompleteness({ occurredBefore: timestampFromDate(new Date()) });
        return report.domainEventsChecked > 0n;
      },
      { timeoutMs: 240_000, intervalMs: 500 },
    );
    const report = await audit.client().checkCompleteness({ occurredBefore: timestampFromDate(new Date()) });
    const mine = report.gaps.filter((g) => g.aggregateId === transferId || g.aggregateId === cardId);
    expect(mine).toEqual([]);
  });
});
