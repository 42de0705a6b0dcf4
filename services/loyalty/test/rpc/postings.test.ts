import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code } from "@connectrpc/connect";
import { sql } from "@money/db";
import { PointsRounding, ShortfallPolicy, TransactionType } from "@money/proto/loyalty/v1/loyalty_pb";
import { expectRefusal, key, LoyaltyHarness, type Merchant } from "../support/loyalty-harness.js";

let h: LoyaltyHarness;
let m: Merchant;

beforeAll(async () => {
  h = await LoyaltyHarness.start("postings");
  m = await h.merchant({ stampCooldownSeconds: 300, minimumSpend: "5.00" });
});

afterAll(async () => {
  await h?.stop();
});

const stamp = (merchant: Merchant, cardId: string, stamps = 1) =>
  merchant.till.addStamp({ idempotencyKey: key(), cardId, stamps, staff: merchant.staff });

describe("stamps", () => {
  it("adds stamps, then refuses another within the cooldown, and accepts it once the cooldown has passed", async () => {
    const card = await h.enroll(m);
    expect((await stamp(m, card.id, 2)).card?.stamps).toBe(2);
    const before = await h.footprint();
    const refused = await expectRefusal(stamp(m, card.id), Code.FailedPrecondition, "STAMP_COOLDOWN");
    expect(refused.rawMessage).toMatch(/next stamp at/);
    await expectRefusal(stamp(m, card.id, 3), Code.FailedPrecondition, "STAMPS_PER_VISIT_EXCEEDED");
    expect(await h.footprint()).toEqual(before);
    h.clock.advanceSeconds(301);
    expect((await stamp(m, card.id)).card?.stamps).toBe(3);
  });

  it("redeems a full card for the stamp reward, and refuses with too few stamps", async () => {
    const quick = await h.merchant({ stampsPerReward: 3, maxStampsPerVisit: 3 });
    const card = await h.enroll(quick);
    await stamp(quick, card.id, 2);
    const before = await h.footprint();
    await expectRefusal(
      quick.till.redeemStamps({ idempotencyKey: key(), cardId: card.id, staff: quick.staff }),
      Code.FailedPrecondition,
      "INSUFFICIENT_STAMPS",
    );
    expect(await h.footprint()).toEqual(before);
    await stamp(quick, card.id, 2);
    const redeemed = await quick.till.redeemStamps({
      idempotencyKey: key(),
      cardId: card.id,
      staff: quick.staff,
    });
    expect(redeemed.transaction).toMatchObject({
      type: TransactionType.STAMPS_REDEEMED,
      stampsDelta: -3,
      stampsBalanceAfter: 1,
      rewardName: "Free coffee",
    });
  });

  it("voids stamps of a return, never past what the transaction gave, never below zero", async () => {
    const quick = await h.merchant({ stampsPerReward: 3, maxStampsPerVisit: 3 });
    const card = await h.enroll(quick);
    const given = (await stamp(quick, card.id, 3)).transaction!;
    const voidStamps = (stamps: number) =>
      quick.till.voidStamps({ idempotencyKey: key(), transactionId: given.id, stamps, staff: quick.staff });
    const first = await voidStamps(1);
    expect(first.transaction).toMatchObject({
      type: TransactionType.STAMPS_VOIDED,
      relatedTransactionId: given.id,
      stampsDelta: -1,
      stampsCancelled: 1,
      stampsBalanceAfter: 2,
    });
    await expectRefusal(voidStamps(3), Code.FailedPrecondition, "VOID_EXCEEDS_ORIGINAL");
    await quick.admin.adjust({
      idempotencyKey: key(),
      cardId: card.id,
      stampsDelta: -2,
      reason: "test: spent",
    });
    await expectRefusal(voidStamps(2), Code.FailedPrecondition, "INSUFFICIENT_STAMPS");
    await expectRefusal(
      quick.till.voidStamps({
        idempotencyKey: key(),
        transactionId: first.transaction!.id,
        staff: quick.staff,
      }),
      Code.FailedPrecondition,
      "NOT_VOIDABLE",
    );
  });

  it("caps stamps per card and per device per business day, writing nothing when refused", async () => {
    const capped = await h.merchant({
      maxStampsPerVisit: 5,
      dailyCaps: { stampsPerCard: 3, stampsPerDevice: 4 },
    });
    const one = await h.enroll(capped);
    const two = await h.enroll(capped);
    await stamp(capped, one.id, 3);
    const before = await h.footprint();
    const refused = await expectRefusal(stamp(capped, one.id), Code.FailedPrecondition, "DAILY_CAP_REACHED");
    expect(refused.rawMessage).toMatch(
      /^DAILY_CAP_REACHED: card .* 4 stamps on \d{4}-\d\d-\d\d; the cap is 3$/,
    );
    expect(await h.footprint()).toEqual(before);
    await stamp(capped, two.id, 1);
    await expectRefusal(stamp(capped, two.id), Code.FailedPrecondition, "DAILY_CAP_REACHED");
    // Another device has its own count; the next business day starts afresh.
    const other = await h.pair(capped.admin, capped.storeId, "Till 2");
    await other.till.addStamp({ idempotencyKey: key(), cardId: two.id, staff: capped.staff });
    h.clock.advanceDays(1);
    expect((await stamp(capped, one.id)).card?.stamps).toBe(4);
  });
});

describe("earning points", () => {
  it("earns amount × points per unit with the program's rounding, and the store's rate where it has one", async () => {
    const cases: [PointsRounding, string, string, bigint][] = [
      [PointsRounding.DOWN, "1.5", "10.99", 16n],
      [PointsRounding.UP, "1.5", "10.01", 16n],
      [PointsRounding.HALF_UP, "0.5", "10.00", 5n],
      [PointsRounding.HALF_UP, "0.5", "9.00", 5n],
      [PointsRounding.HALF_EVEN, "0.5", "9.00", 4n],
    ];
    for (const [pointsRounding, pointsPerUnit, amount, points] of cases) {
      const merchant = await h.merchant({ pointsRounding, pointsPerUnit, minimumSpend: "" });
      const card = await h.enroll(merchant);
      const earned = await h.earn(merchant, card.id, amount);
      expect([pointsRounding, amount, earned.transaction?.pointsDelta]).toEqual([
        pointsRounding,
        amount,
        points,
      ]);
      expect(earned.transaction).toMatchObject({
        purchaseAmount: amount,
        currency: "EUR",
        type: TransactionType.POINTS_EARNED,
      });
    }
    const { store } = await m.admin.createStore({
      idempotencyKey: key(),
      name: "Double points",
      timeZone: "UTC",
      pointsPerUnitOverride: "2",
    });
    const card = await h.enroll(m);
    const staffToken = h.as("staff", { merchantId: m.merchantId });
    const earned = await staffToken.earnPoints({
      idempotencyKey: key(),
      cardId: card.id,
      storeId: store!.id,
      orderReference: "double-1",
      purchaseAmount: "10.00",
      currency: "EUR",
    });
    expect(earned.transaction).toMatchObject({ pointsDelta: 20n, storeId: store!.id });
  });

  it("refuses a bad amount, another currency and a purchase below the minimum spend, writing nothing", async () => {
    const card = await h.enroll(m);
    const before = await h.footprint();
    for (const amount of ["1e3", "-5", "10.001", "", "0"]) {
      await expectRefusal(h.earn(m, card.id, amount), Code.InvalidArgument, "INVALID_AMOUNT");
    }
    await expectRefusal(
      m.till.earnPoints({
        idempotencyKey: key(),
        cardId: card.id,
        staff: m.staff,
        orderReference: "o",
        purchaseAmount: "10",
        currency: "USD",
      }),
      Code.FailedPrecondition,
      "CURRENCY_MISMATCH",
    );
    await expectRefusal(h.earn(m, card.id, "4.99"), Code.FailedPrecondition, "BELOW_MINIMUM_SPEND");
    await expectRefusal(h.earn(m, card.id, "10.00", ""), Code.InvalidArgument, "INVALID_ARGUMENT");
    expect(await h.footprint()).toEqual(before);
  });

  it("posts once per order: a retry under a new key returns the original; another card or amount is refused", async () => {
    const card = await h.enroll(m);
    const first = await h.earn(m, card.id, "25.00", "order-once");
    const again = await h.earn(m, card.id, "25.00", "order-once");
    expect(again.transaction?.id).toBe(first.transaction?.id);
    expect(again.card?.points?.balance).toBe(25n);
    const otherCard = await h.enroll(m);
    const before = await h.footprint();
    await expectRefusal(
      h.earn(m, card.id, "26.00", "order-once"),
      Code.AlreadyExists,
      "ORDER_ALREADY_EARNED",
    );
    await expectRefusal(
      h.earn(m, otherCard.id, "25.00", "order-once"),
      Code.AlreadyExists,
      "ORDER_ALREADY_EARNED",
    );
    expect(await h.footprint()).toEqual(before);
    expect(
      await h.admin.oneFirst(
        sql.unsafe`SELECT count(*) FROM loyalty.loyalty_transactions WHERE order_reference = 'order-once'`,
      ),
    ).toBe("1");
  });

  it("replays a POS retry with the same key and posts once", async () => {
    const card = await h.enroll(m);
    const request = {
      idempotencyKey: key(),
      cardId: card.id,
      staff: m.staff,
      orderReference: "order-retry",
      purchaseAmount: "12.00",
      currency: "EUR",
    };
    const first = await m.till.earnPoints(request);
    const retry = await m.till.earnPoints(request);
    expect(retry).toEqual(first);
    await expectRefusal(
      m.till.earnPoints({ ...request, purchaseAmount: "13.00" }),
      Code.AlreadyExists,
      "IDEMPOTENCY_KEY_REUSED",
    );
    expect((await h.card(m, card.id)).points?.balance).toBe(12n);
  });

  it("caps points per card per day", async () => {
    const capped = await h.merchant({ dailyCaps: { pointsPerCard: 100n } });
    const card = await h.enroll(capped);
    await h.earn(capped, card.id, "60.00");
    const before = await h.footprint();
    await expectRefusal(h.earn(capped, card.id, "41.00"), Code.FailedPrecondition, "DAILY_CAP_REACHED");
    expect(await h.footprint()).toEqual(before);
    await h.earn(capped, card.id, "40.00");
  });
});

describe("redeeming points", () => {
  it("redeems a catalog reward and refuses with too few points or an unknown reward, writing nothing", async () => {
    const card = await h.enroll(m);
    await h.earn(m, card.id, "15.00");
    const redeem = (rewardCode: string) =>
      m.till.redeemPoints({ idempotencyKey: key(), cardId: card.id, rewardCode, staff: m.staff });
    const before = await h.footprint();
    await expectRefusal(redeem("CAKE"), Code.FailedPrecondition, "INSUFFICIENT_POINTS");
    await expectRefusal(redeem("CAVIAR"), Code.NotFound, "REWARD_NOT_FOUND");
    expect(await h.footprint()).toEqual(before);
    const redeemed = await redeem("COFFEE");
    expect(redeemed.transaction).toMatchObject({
      type: TransactionType.POINTS_REDEEMED,
      pointsDelta: -10n,
      pointsBalanceAfter: 5n,
      rewardCode: "COFFEE",
      rewardName: "Coffee",
    });
    await h.expectLotsAddUp(card.id);
  });

  it("keeps points locked through the return window: balance = available + locked", async () => {
    const windowed = await h.merchant({ pointsLockDays: 14, welcomeBonusPoints: 5n });
    const card = await h.enroll(windowed);
    const earned = await h.earn(windowed, card.id, "30.00");
    expect(earned.card?.points).toMatchObject({ balance: 35n, available: 5n, locked: 30n });
    await expectRefusal(
      windowed.till.redeemPoints({
        idempotencyKey: key(),
        cardId: card.id,
        rewardCode: "COFFEE",
        staff: windowed.staff,
      }),
      Code.FailedPrecondition,
      "INSUFFICIENT_POINTS",
    );
    h.clock.advanceDays(14);
    expect((await h.card(windowed, card.id)).points).toMatchObject({
      balance: 35n,
      available: 35n,
      locked: 0n,
    });
  });
});

describe("voiding points", () => {
  it("voids an earning in parts, never past what it gave", async () => {
    const card = await h.enroll(m);
    const earn = (await h.earn(m, card.id, "40.00")).transaction!;
    const voidPoints = (points: bigint) =>
      m.till.voidPoints({
        idempotencyKey: key(),
        transactionId: earn.id,
        points,
        staff: m.staff,
        notes: "returned",
      });
    const first = await voidPoints(15n);
    expect(first.transaction).toMatchObject({
      type: TransactionType.POINTS_VOIDED,
      relatedTransactionId: earn.id,
      orderReference: earn.orderReference,
      pointsDelta: -15n,
      pointsCancelled: 15n,
      pointsBalanceAfter: 25n,
    });
    const before = await h.footprint();
    await expectRefusal(voidPoints(26n), Code.FailedPrecondition, "VOID_EXCEEDS_ORIGINAL");
    expect(await h.footprint()).toEqual(before);
    expect((await voidPoints(0n)).transaction?.pointsCancelled).toBe(25n);
    await expectRefusal(voidPoints(0n), Code.FailedPrecondition, "VOID_EXCEEDS_ORIGINAL");
    await h.expectLotsAddUp(card.id);
  });

  it("takes spent points from the rest of the card, then into a negative balance the next earning pays back", async () => {
    const card = await h.enroll(m);
    const earn = (await h.earn(m, card.id, "20.00")).transaction!;
    await m.till.redeemPoints({
      idempotencyKey: key(),
      cardId: card.id,
      rewardCode: "COFFEE",
      staff: m.staff,
    });
    const voided = await m.till.voidPoints({ idempotencyKey: key(), transactionId: earn.id, staff: m.staff });
    expect(voided.transaction).toMatchObject({
      pointsDelta: -20n,
      pointsCancelled: 20n,
      pointsBalanceAfter: -10n,
    });
    expect(voided.card?.points).toMatchObject({ balance: -10n, available: -10n });
    await h.expectLotsAddUp(card.id);
    const next = await h.earn(m, card.id, "15.00");
    expect(next.card?.points).toMatchObject({ balance: 5n, available: 5n });
    await h.expectLotsAddUp(card.id);
  });

  it("forgives what the card cannot cover under the FORGIVE policy, and says so on the row", async () => {
    const forgiving = await h.merchant({ shortfallPolicy: ShortfallPolicy.FORGIVE, minimumSpend: "" });
    const card = await h.enroll(forgiving);
    const earn = (await h.earn(forgiving, card.id, "20.00")).transaction!;
    await forgiving.till.redeemPoints({
      idempotencyKey: key(),
      cardId: card.id,
      rewardCode: "COFFEE",
      staff: forgiving.staff,
    });
    const voided = await forgiving.till.voidPoints({
      idempotencyKey: key(),
      transactionId: earn.id,
      staff: forgiving.staff,
    });
    expect(voided.transaction).toMatchObject({
      pointsDelta: -10n,
      pointsCancelled: 20n,
      pointsForgiven: 10n,
      pointsBalanceAfter: 0n,
    });
    await h.expectLotsAddUp(card.id);
  });

  it("voids a redemption: the points go back to the lots they came from", async () => {
    const card = await h.enroll(m);
    await h.earn(m, card.id, "12.00");
    const redeemed = (
      await m.till.redeemPoints({
        idempotencyKey: key(),
        cardId: card.id,
        rewardCode: "COFFEE",
        staff: m.staff,
      })
    ).transaction!;
    const voided = await m.till.voidPoints({
      idempotencyKey: key(),
      transactionId: redeemed.id,
      staff: m.staff,
    });
    expect(voided.transaction).toMatchObject({
      pointsDelta: 10n,
      pointsCancelled: 10n,
      pointsBalanceAfter: 12n,
      rewardCode: "COFFEE",
    });
    await h.expectLotsAddUp(card.id);
  });
});

describe("adjustments", () => {
  it("needs a reason and never takes a balance below zero", async () => {
    const card = await h.enroll(m);
    const before = await h.footprint();
    await expectRefusal(
      m.admin.adjust({ idempotencyKey: key(), cardId: card.id, pointsDelta: 5n, reason: "" }),
      Code.InvalidArgument,
      "INVALID_ARGUMENT",
    );
    await expectRefusal(
      m.admin.adjust({ idempotencyKey: key(), cardId: card.id, pointsDelta: -1n, reason: "oops" }),
      Code.FailedPrecondition,
      "INSUFFICIENT_POINTS",
    );
    await expectRefusal(
      m.admin.adjust({ idempotencyKey: key(), cardId: card.id, stampsDelta: -1, reason: "oops" }),
      Code.FailedPrecondition,
      "INSUFFICIENT_STAMPS",
    );
    await expectRefusal(
      m.till.adjust({ idempotencyKey: key(), cardId: card.id, pointsDelta: 5n, reason: "x" }),
      Code.PermissionDenied,
      "PERMISSION_DENIED",
    );
    expect(await h.footprint()).toEqual(before);
    const adjusted = await m.admin.adjust({
      idempotencyKey: key(),
      cardId: card.id,
      pointsDelta: 30n,
      stampsDelta: 2,
      reason: "migration",
    });
    expect(adjusted.transaction).toMatchObject({
      type: TransactionType.ADJUSTED,
      pointsDelta: 30n,
      stampsDelta: 2,
      notes: "migration",
    });
    const taken = await m.admin.adjust({
      idempotencyKey: key(),
      cardId: card.id,
      pointsDelta: -30n,
      reason: "reverted",
    });
    expect(taken.card?.points?.balance).toBe(0n);
    await h.expectLotsAddUp(card.id);
  });
});
