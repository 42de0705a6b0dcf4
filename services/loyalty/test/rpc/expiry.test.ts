import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { sql } from "@money/db";
import { PointsExpiry, TransactionType } from "@money/proto/loyalty/v1/loyalty_pb";
import { key, LoyaltyHarness, type Merchant } from "../support/loyalty-harness.js";
import { waitUntil } from "@money/testkit";

let h: LoyaltyHarness;
let m: Merchant;

beforeAll(async () => {
  h = await LoyaltyHarness.start("expiry");
  m = await h.merchant({
    pointsExpiry: PointsExpiry.AFTER_EARNING,
    pointsExpiryDays: 30,
    expiringSoonDays: 7,
    minimumSpend: "",
  });
});

afterAll(async () => {
  await h?.stop();
});

const redeem = (merchant: Merchant, cardId: string, rewardCode = "COFFEE") =>
  merchant.till.redeemPoints({ idempotencyKey: key(), cardId, rewardCode, staff: merchant.staff });

async function rowsOf(cardId: string) {
  const { transactions } = await m.admin.listTransactions({
    subject: { case: "cardId", value: cardId },
    pageSize: 100,
  });
  return transactions.reverse();
}

describe("lots, soonest-expiring first", () => {
  it("redeems from the lot that expires first, then expires each lot on its day with one row per lot", async () => {
    const card = await h.enroll(m);
    const a = (await h.earn(m, card.id, "100.00")).transaction!;
    h.clock.advanceDays(10);
    const b = (await h.earn(m, card.id, "100.00")).transaction!;
    const redeemed = (await redeem(m, card.id)).transaction!;
    const spent = await h.admin.any(sql.unsafe`
      SELECT lot_id, points_delta FROM loyalty.lot_movements WHERE transaction_id = ${redeemed.id}
    `);
    expect(spent).toEqual([{ lot_id: a.lotId, points_delta: "-10" }]);

    h.clock.advanceDays(15); // day 25: lot a (day 30) is expiring soon, lot b (day 40) is not
    expect((await h.card(m, card.id)).points).toMatchObject({ balance: 190n, expiringSoon: 90n });

    h.clock.advanceDays(6); // day 31: lot a is gone, even before the expiry rows are posted
    expect((await h.card(m, card.id)).points).toMatchObject({ balance: 100n, available: 100n });
    const run = await h.as("service").expirePoints({ idempotencyKey: key(), merchantId: m.merchantId });
    expect(run).toMatchObject({ lotsExpired: 1, pointsExpired: 90n });
    const again = await h.as("service").expirePoints({ idempotencyKey: key(), merchantId: m.merchantId });
    expect(again).toMatchObject({ lotsExpired: 0, pointsExpired: 0n });

    const expired = (await rowsOf(card.id)).filter((t) => t.type === TransactionType.POINTS_EXPIRED);
    expect(expired.map((t) => [t.lotId, t.pointsDelta, t.pointsBalanceAfter, t.principalId])).toEqual([
      [a.lotId, -90n, 100n, "loyalty-expiry"],
    ]);

    h.clock.advanceDays(10); // day 41: lot b goes as well
    await h.as("service").expirePoints({ idempotencyKey: key(), merchantId: m.merchantId });
    const all = (await rowsOf(card.id)).filter((t) => t.type === TransactionType.POINTS_EXPIRED);
    expect(all.map((t) => t.lotId)).toEqual([a.lotId, b.lotId]);
    expect((await h.card(m, card.id)).points?.balance).toBe(0n);
    await h.expectLotsAddUp(card.id);
  });

  it("posts what fell due before a posting, so every balance on a row is exact", async () => {
    const card = await h.enroll(m);
    const first = await h.earn(m, card.id, "40.00");
    await h.earn(m, card.id, "2.00");
    h.clock.advanceDays(31);
    const next = await h.earn(m, card.id, "5.00");
    expect(next.transaction?.pointsBalanceAfter).toBe(5n);
    const types = (await rowsOf(card.id)).map((t) => [t.type, t.pointsDelta, t.pointsBalanceAfter]);
    expect(types).toEqual([
      [TransactionType.CARD_ENROLLED, 0n, 0n],
      [TransactionType.POINTS_EARNED, 40n, 40n],
      [TransactionType.POINTS_EARNED, 2n, 42n],
      [TransactionType.POINTS_EXPIRED, -40n, 2n],
      [TransactionType.POINTS_EXPIRED, -2n, 0n],
      [TransactionType.POINTS_EARNED, 5n, 5n],
    ]);
    expect(first.transaction?.lotId).not.toBe("");
    await h.expectLotsAddUp(card.id);
  });
});

describe("voids never bring expired points back to life", () => {
  it("voids a redemption whose lot has expired without restoring, and a later void of the earning takes nothing twice", async () => {
    const card = await h.enroll(m);
    const earned = (await h.earn(m, card.id, "50.00")).transaction!;
    const redeemed = (await redeem(m, card.id)).transaction!;
    h.clock.advanceDays(31);
    await h.earn(m, card.id, "20.00");

    const handedBack = await m.till.voidPoints({
      idempotencyKey: key(),
      transactionId: redeemed.id,
      staff: m.staff,
    });
    expect(handedBack.transaction).toMatchObject({
      pointsDelta: 0n,
      pointsCancelled: 10n,
      pointsAlreadyExpired: 10n,
      pointsBalanceAfter: 20n,
    });
    const returned = await m.till.voidPoints({
      idempotencyKey: key(),
      transactionId: earned.id,
      staff: m.staff,
    });
    expect(returned.transaction).toMatchObject({
      pointsDelta: 0n,
      pointsCancelled: 50n,
      pointsAlreadyExpired: 50n,
      pointsBalanceAfter: 20n,
    });
    await h.expectLotsAddUp(card.id);
  });

  it("reverses an order whose points partly expired: the expired part is reported, not taken again", async () => {
    const card = await h.enroll(m);
    await h.earn(m, card.id, "30.00", "order-expired");
    h.clock.advanceDays(31);
    await h.earn(m, card.id, "100.00");
    const reversal = await h.as("service").reverseForOrder({
      idempotencyKey: key(),
      merchantId: m.merchantId,
      orderReference: "order-expired",
      refundedAmount: "30.00",
      originalPurchaseAmount: "30.00",
      currency: "EUR",
      sagaId: "saga-expired",
    });
    expect(reversal).toMatchObject({
      pointsCancelled: 30n,
      pointsReversed: 0n,
      pointsAlreadyExpired: 30n,
      pointsBalanceAfter: 100n,
    });
    await h.expectLotsAddUp(card.id);
  });
});

describe("expiry after inactivity", () => {
  it("expires every lot once the card has been idle for the program's days; activity restarts the count", async () => {
    const idle = await h.merchant({
      pointsExpiry: PointsExpiry.AFTER_INACTIVITY,
      pointsExpiryDays: 60,
      minimumSpend: "",
    });
    const card = await h.enroll(idle);
    await h.earn(idle, card.id, "10.00");
    h.clock.advanceDays(59);
    await h.earn(idle, card.id, "20.00");
    h.clock.advanceDays(59);
    expect((await h.card(idle, card.id)).points).toMatchObject({ balance: 30n, expiringSoon: 30n });
    h.clock.advanceDays(2);
    expect((await h.card(idle, card.id)).points?.balance).toBe(0n);
    const run = await h.as("service").expirePoints({ idempotencyKey: key(), merchantId: idle.merchantId });
    expect(run).toMatchObject({ lotsExpired: 2, pointsExpired: 30n });
    const { transactions } = await idle.admin.listTransactions({
      subject: { case: "cardId", value: card.id },
    });
    expect(transactions.filter((t) => t.type === TransactionType.POINTS_EXPIRED).map((t) => t.notes)).toEqual(
      [
        expect.stringMatching(/^no earn or redemption since /),
        expect.stringMatching(/^no earn or redemption since /),
      ],
    );
    await h.expectLotsAddUp(card.id);
  });
});

describe("the scheduled job", () => {
  it("posts due expiries on its own, every LOYALTY_EXPIRY_INTERVAL_MS", async () => {
    const scheduled = await LoyaltyHarness.start("expiry_job", { LOYALTY_EXPIRY_INTERVAL_MS: "200" });
    try {
      const merchant = await scheduled.merchant({
        pointsExpiry: PointsExpiry.AFTER_EARNING,
        pointsExpiryDays: 1,
        minimumSpend: "",
      });
      const card = await scheduled.enroll(merchant);
      await scheduled.earn(merchant, card.id, "10.00");
      scheduled.clock.advanceDays(2);
      await waitUntil(
        "the job to expire the lot",
        async () =>
          (await scheduled.admin.oneFirst(sql.unsafe`
            SELECT count(*) FROM loyalty.loyalty_transactions WHERE card_id = ${card.id} AND type = 'points_expired'
          `)) === "1",
        { timeoutMs: 10_000 },
      );
    } finally {
      await scheduled.stop();
    }
  });
});
