import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code } from "@connectrpc/connect";
import type { ListTransactionsRequest } from "@money/proto/loyalty/v1/loyalty_pb";
import { expectRefusal, key, LoyaltyHarness, type Merchant } from "../support/loyalty-harness.js";

let h: LoyaltyHarness;
let m: Merchant;
let cardIds: string[];

beforeAll(async () => {
  h = await LoyaltyHarness.start("reports");
  m = await h.merchant({ minimumSpend: "", maxStampsPerVisit: 3 });
  cardIds = [];
  for (let i = 0; i < 3; i++) {
    const card = await h.enroll(m);
    cardIds.push(card.id);
    await h.earn(m, card.id, "12.30");
    await m.till.addStamp({ idempotencyKey: key(), cardId: card.id, stamps: 2, staff: m.staff });
  }
});

afterAll(async () => {
  await h?.stop();
});

type Subject = ListTransactionsRequest["subject"];

async function listAll(subject: Subject, pageSize: number, extra: Partial<ListTransactionsRequest> = {}) {
  const pages: string[][] = [];
  let pageToken = "";
  do {
    const page = await m.admin.listTransactions({ subject, pageSize, pageToken, ...extra });
    pages.push(page.transactions.map((t) => t.id));
    pageToken = page.nextPageToken;
  } while (pageToken && pages.length < 50);
  return pages;
}

describe("ListTransactions", () => {
  it("pages through a merchant's transactions newest first, each row once", async () => {
    const pages = await listAll({ case: "merchantId", value: m.merchantId }, 4);
    const ids = pages.flat();
    expect(pages.map((p) => p.length)).toEqual([4, 4, 1]);
    expect(new Set(ids).size).toBe(9);
    const { transactions } = await m.admin.listTransactions({
      subject: { case: "merchantId", value: m.merchantId },
      pageSize: 500,
    });
    expect(transactions.map((t) => t.id)).toEqual(ids);
    const times = transactions.map((t) => t.transactionAt!.seconds);
    expect([...times].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0))).toEqual(times);
  });

  it("lists by card, store, device and staff member", async () => {
    const count = async (subject: Subject) =>
      (await m.admin.listTransactions({ subject, pageSize: 500 })).transactions.length;
    expect(await count({ case: "cardId", value: cardIds[0]! })).toBe(3);
    expect(await count({ case: "storeId", value: m.storeId })).toBe(9);
    expect(await count({ case: "deviceId", value: m.deviceId })).toBe(9);
    expect(await count({ case: "staffId", value: m.staff.staffId })).toBe(9);
  });

  it("filters by a half-open time range", async () => {
    const card = await h.enroll(m);
    h.clock.advanceDays(2);
    const later = await h.earn(m, card.id, "5.00");
    const from = later.transaction!.transactionAt!;
    const { transactions } = await m.admin.listTransactions({
      subject: { case: "cardId", value: card.id },
      from,
    });
    expect(transactions.map((t) => t.id)).toEqual([later.transaction!.id]);
    const before = await m.admin.listTransactions({ subject: { case: "cardId", value: card.id }, to: from });
    expect(before.transactions).toHaveLength(1);
  });

  it("keeps an auditor of another merchant out, and refuses a bad page token or size", async () => {
    const outsider = h.as("auditor", { merchantId: "m-elsewhere" });
    await expectRefusal(
      outsider.listTransactions({ subject: { case: "storeId", value: m.storeId } }),
      Code.PermissionDenied,
      "PERMISSION_DENIED",
    );
    const platformAuditor = h.as("auditor");
    const seen = await platformAuditor.listTransactions({
      subject: { case: "merchantId", value: m.merchantId },
      pageSize: 1,
    });
    expect(seen.transactions).toHaveLength(1);
    await expectRefusal(
      m.admin.listTransactions({
        subject: { case: "merchantId", value: m.merchantId },
        pageToken: "not-a-token",
      }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
    await expectRefusal(
      m.admin.listTransactions({ subject: { case: "merchantId", value: m.merchantId }, pageSize: 501 }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
    await expectRefusal(m.admin.listTransactions({}), Code.InvalidArgument, "INVALID_ARGUMENT");
    await expectRefusal(
      m.till.listTransactions({ subject: { case: "merchantId", value: m.merchantId } }),
      Code.PermissionDenied,
      "PERMISSION_DENIED",
    );
  });
});

describe("GetStoreDailySummary", () => {
  it("totals one store's business day in its time zone", async () => {
    const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Paris" }).format(h.clock.now());
    const store = await h.merchant({ minimumSpend: "", maxStampsPerVisit: 3 });
    const card = await h.enroll(store);
    await h.earn(store, card.id, "10.50");
    await h.earn(store, card.id, "20.25");
    await store.till.addStamp({ idempotencyKey: key(), cardId: card.id, stamps: 3, staff: store.staff });
    await store.till.redeemPoints({
      idempotencyKey: key(),
      cardId: card.id,
      rewardCode: "COFFEE",
      staff: store.staff,
    });
    const summary = await store.admin.getStoreDailySummary({ storeId: store.storeId, businessDate: today });
    expect(summary).toMatchObject({
      businessDate: today,
      timeZone: "Europe/Paris",
      transactions: 5n,
      cards: 1n,
      cardsEnrolled: 1n,
      stampsAdded: 3n,
      pointsEarned: 30n,
      pointsRedeemed: 10n,
      purchaseTotal: "30.75",
      currency: "EUR",
    });
    const yesterday = await store.admin.getStoreDailySummary({
      storeId: store.storeId,
      businessDate: "2000-01-01",
    });
    expect(yesterday).toMatchObject({ transactions: 0n, purchaseTotal: "0.00" });
    await expectRefusal(
      store.admin.getStoreDailySummary({ storeId: store.storeId, businessDate: "yesterday" }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
  });
});
