import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code } from "@connectrpc/connect";
import fc from "fast-check";
import { sql } from "@money/db";
import { formatAmount, findCurrency } from "@money/money";
import { ReversalOutcome, ShortfallPolicy, TransactionType } from "@money/proto/loyalty/v1/loyalty_pb";
import {
  expectRefusal,
  key,
  LoyaltyHarness,
  type LoyaltyClient,
  type Merchant,
} from "../support/loyalty-harness.js";

let h: LoyaltyHarness;
let m: Merchant;
let saga: LoyaltyClient;

beforeAll(async () => {
  h = await LoyaltyHarness.start("reversal");
  m = await h.merchant({ minimumSpend: "" });
  saga = h.as("service", { sub: "refunds-saga" });
});

afterAll(async () => {
  await h?.stop();
});

const reverse = (
  merchant: Merchant,
  orderReference: string,
  refundedAmount: string,
  originalPurchaseAmount: string,
  idempotencyKey = key(),
) =>
  saga.reverseForOrder({
    idempotencyKey,
    merchantId: merchant.merchantId,
    orderReference,
    refundedAmount,
    originalPurchaseAmount,
    currency: "EUR",
    sagaId: `saga-${orderReference}`,
  });

describe("ReverseForOrder", () => {
  it("reverses a full refund and records the saga on the row", async () => {
    const card = await h.enroll(m);
    const earn = (await h.earn(m, card.id, "80.00", "order-full")).transaction!;
    const reply = await reverse(m, "order-full", "80.00", "80.00");
    expect(reply).toMatchObject({
      outcome: ReversalOutcome.REVERSED,
      pointsCancelled: 80n,
      pointsReversed: 80n,
      orderPointsEarned: 80n,
      orderPointsCancelled: 80n,
      pointsBalanceAfter: 0n,
    });
    expect(reply.transaction).toMatchObject({
      type: TransactionType.POINTS_REVERSED,
      relatedTransactionId: earn.id,
      sagaId: "saga-order-full",
      refundedAmount: "80.00",
      orderReference: "order-full",
      principalId: "refunds-saga",
      actingTerminalDeviceId: "",
    });
  });

  it("reverses partial refunds in proportion, adding up to exactly what the order earned", async () => {
    const card = await h.enroll(m);
    await h.earn(m, card.id, "33.33", "order-parts");
    const shares = [];
    for (const refund of ["10.00", "10.00", "13.33"])
      shares.push((await reverse(m, "order-parts", refund, "33.33")).pointsCancelled);
    expect(shares).toEqual([9n, 10n, 14n]);
    await expectRefusal(
      reverse(m, "order-parts", "0.01", "33.33"),
      Code.FailedPrecondition,
      "REFUND_EXCEEDS_PURCHASE",
    );
    await h.expectLotsAddUp(card.id);
  });

  it("records a refund whose share rounds to nothing, so the next refund's share counts it", async () => {
    const card = await h.enroll(m);
    await h.earn(m, card.id, "1.00", "order-tiny");
    const first = await reverse(m, "order-tiny", "0.50", "1.00");
    expect(first).toMatchObject({ outcome: ReversalOutcome.NOTHING_TO_REVERSE, pointsCancelled: 0n });
    expect(first.transaction?.refundedAmount).toBe("0.50");
    const second = await reverse(m, "order-tiny", "0.50", "1.00");
    expect(second).toMatchObject({
      outcome: ReversalOutcome.REVERSED,
      pointsCancelled: 1n,
      pointsBalanceAfter: 0n,
    });
  });

  it("answers NOTHING_TO_REVERSE for an order that earned nothing here, and writes nothing", async () => {
    const before = await h.footprint();
    const reply = await reverse(m, "order-elsewhere", "5.00", "10.00");
    expect(reply).toMatchObject({ outcome: ReversalOutcome.NOTHING_TO_REVERSE, pointsCancelled: 0n });
    expect(reply.transaction).toBeUndefined();
    const after = await h.footprint();
    expect({ ...after, idempotency_keys: "" }).toEqual({ ...before, idempotency_keys: "" });
  });

  it("takes spent points into a negative balance when the program allows it", async () => {
    const card = await h.enroll(m);
    await h.earn(m, card.id, "20.00", "order-spent");
    await m.till.redeemPoints({
      idempotencyKey: key(),
      cardId: card.id,
      rewardCode: "COFFEE",
      staff: m.staff,
    });
    const reply = await reverse(m, "order-spent", "20.00", "20.00");
    expect(reply).toMatchObject({
      outcome: ReversalOutcome.REVERSED_WITH_NEGATIVE_BALANCE,
      pointsReversed: 20n,
      pointsForgiven: 0n,
      pointsBalanceAfter: -10n,
    });
    await h.expectLotsAddUp(card.id);
  });

  it("reverses what is left and reports the shortfall under the FORGIVE policy", async () => {
    const forgiving = await h.merchant({ shortfallPolicy: ShortfallPolicy.FORGIVE, minimumSpend: "" });
    const card = await h.enroll(forgiving);
    await h.earn(forgiving, card.id, "20.00", "order-forgive");
    await forgiving.till.redeemPoints({
      idempotencyKey: key(),
      cardId: card.id,
      rewardCode: "COFFEE",
      staff: forgiving.staff,
    });
    const reply = await reverse(forgiving, "order-forgive", "20.00", "20.00");
    expect(reply).toMatchObject({
      outcome: ReversalOutcome.REVERSED_WITH_SHORTFALL,
      pointsCancelled: 20n,
      pointsReversed: 10n,
      pointsForgiven: 10n,
      pointsBalanceAfter: 0n,
    });
    await h.expectLotsAddUp(card.id);
  });

  it("counts points a till already voided towards the refund's share", async () => {
    const card = await h.enroll(m);
    const earn = (await h.earn(m, card.id, "100.00", "order-mixed")).transaction!;
    await m.till.voidPoints({ idempotencyKey: key(), transactionId: earn.id, points: 30n, staff: m.staff });
    expect((await reverse(m, "order-mixed", "50.00", "100.00")).pointsCancelled).toBe(20n);
    expect((await reverse(m, "order-mixed", "50.00", "100.00")).orderPointsCancelled).toBe(100n);
  });

  it("replays a redelivered command with the same key and reverses once", async () => {
    const card = await h.enroll(m);
    await h.earn(m, card.id, "60.00", "order-redelivered");
    const commandKey = key();
    const first = await reverse(m, "order-redelivered", "30.00", "60.00", commandKey);
    const again = await reverse(m, "order-redelivered", "30.00", "60.00", commandKey);
    expect(again).toEqual(first);
    expect((await h.card(m, card.id)).points?.balance).toBe(30n);
  });

  it("refuses a wrong amount, currency or purchase, and callers other than the saga, writing nothing", async () => {
    const card = await h.enroll(m);
    await h.earn(m, card.id, "10.00", "order-refused");
    const before = await h.footprint();
    await expectRefusal(reverse(m, "order-refused", "1e1", "10.00"), Code.InvalidArgument, "INVALID_AMOUNT");
    await expectRefusal(
      reverse(m, "order-refused", "5.00", "12.00"),
      Code.FailedPrecondition,
      "ORDER_AMOUNT_MISMATCH",
    );
    await expectRefusal(
      reverse(m, "order-refused", "11.00", "10.00"),
      Code.FailedPrecondition,
      "REFUND_EXCEEDS_PURCHASE",
    );
    await expectRefusal(
      saga.reverseForOrder({
        idempotencyKey: key(),
        merchantId: m.merchantId,
        orderReference: "order-refused",
        refundedAmount: "5.00",
        originalPurchaseAmount: "10.00",
        currency: "USD",
        sagaId: "s",
      }),
      Code.FailedPrecondition,
      "CURRENCY_MISMATCH",
    );
    await expectRefusal(
      m.till.reverseForOrder({
        idempotencyKey: key(),
        orderReference: "order-refused",
        refundedAmount: "5.00",
        originalPurchaseAmount: "10.00",
        currency: "EUR",
        sagaId: "s",
      }),
      Code.PermissionDenied,
      "PERMISSION_DENIED",
    );
    expect(await h.footprint()).toEqual(before);
  });
});

describe("the proportional reversal, as a property", () => {
  const EUR = findCurrency("EUR")!;

  /** Refund amounts cut from a purchase by weights; `full` gives the last one the rest. */
  const refundPlan = fc
    .record({
      purchaseMinor: fc.integer({ min: 1, max: 100_000 }),
      weights: fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 5 }),
      full: fc.boolean(),
      rate: fc.constantFrom("1", "0.7", "2.5", "0.05"),
      spendFirst: fc.boolean(),
    })
    .map(({ purchaseMinor, weights, full, rate, spendFirst }) => {
      const total = weights.reduce((a, b) => a + b, 0);
      const parts = weights.map((w) => Math.floor((purchaseMinor * w) / total));
      if (full) parts[parts.length - 1]! += purchaseMinor - parts.reduce((a, b) => a + b, 0);
      return { purchaseMinor, refunds: parts.filter((p) => p > 0), full, rate, spendFirst };
    });

  it("never cancels more than the order earned, and exactly its refunded share after each refund", async () => {
    const merchants = new Map<string, Merchant>();
    for (const rate of ["1", "0.7", "2.5", "0.05"]) {
      merchants.set(rate, await h.merchant({ pointsPerUnit: rate, minimumSpend: "" }));
    }
    let order = 0;
    await fc.assert(
      fc.asyncProperty(refundPlan, async ({ purchaseMinor, refunds, full, rate, spendFirst }) => {
        const merchant = merchants.get(rate)!;
        const orderReference = `prop-${order++}`;
        const purchase = formatAmount(BigInt(purchaseMinor), EUR);
        const card = await h.enroll(merchant);
        const earned = (await h.earn(merchant, card.id, purchase, orderReference)).transaction!.pointsDelta;
        if (spendFirst && earned >= 2n) {
          // The customer spent half: the reversal must claw back into a negative balance.
          await merchant.admin.adjust({
            idempotencyKey: key(),
            cardId: card.id,
            pointsDelta: -(earned / 2n),
            reason: "spent",
          });
        }
        let refunded = 0n;
        let cancelled = 0n;
        for (const part of refunds) {
          refunded += BigInt(part);
          const reply = await saga.reverseForOrder({
            idempotencyKey: key(),
            merchantId: merchant.merchantId,
            orderReference,
            refundedAmount: formatAmount(BigInt(part), EUR),
            originalPurchaseAmount: purchase,
            currency: "EUR",
            sagaId: orderReference,
          });
          cancelled += reply.pointsCancelled;
          expect(reply.pointsCancelled).toBe(
            reply.pointsReversed + reply.pointsAlreadyExpired + reply.pointsForgiven,
          );
          expect(reply.orderPointsCancelled).toBe(cancelled);
          expect(cancelled).toBe((earned * refunded) / BigInt(purchaseMinor));
          expect(cancelled).toBeLessThanOrEqual(earned);
        }
        if (full) expect(cancelled).toBe(earned);
        await h.expectLotsAddUp(card.id);
      }),
      { numRuns: 25 },
    );
    // Across every order of the run, no earning was ever cancelled past what it gave.
    const overdrawn = await h.admin.maybeOneFirst(sql.unsafe`
      SELECT e.id FROM loyalty.loyalty_transactions r JOIN loyalty.loyalty_transactions e ON e.id = r.related_transaction_id
      WHERE e.type = 'points_earned'
      GROUP BY e.id HAVING sum(r.points_cancelled) > max(e.points_delta)
      LIMIT 1
    `);
    expect(overdrawn).toBeNull();
  });
});
