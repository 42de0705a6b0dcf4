import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { sql } from "@money/db";
import { key, LoyaltyHarness, outcomeOf, type Merchant } from "../support/loyalty-harness.js";

let h: LoyaltyHarness;
let m: Merchant;

beforeAll(async () => {
  h = await LoyaltyHarness.start("concurrency");
  m = await h.merchant({ minimumSpend: "" });
});

afterAll(async () => {
  await h?.stop();
});

it("gives exactly 10 of 50 concurrent redemptions on a card that affords 10", async () => {
  const card = await h.enroll(m);
  await h.earn(m, card.id, "100.00");
  const results = await Promise.all(
    Array.from({ length: 50 }, () =>
      outcomeOf(
        m.till.redeemPoints({ idempotencyKey: key(), cardId: card.id, rewardCode: "COFFEE", staff: m.staff }),
      ),
    ),
  );
  const counts = results.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r]: (acc[r] ?? 0) + 1 }), {});
  expect(counts).toEqual({ ok: 10, "FailedPrecondition:INSUFFICIENT_POINTS": 40 });
  expect((await h.card(m, card.id)).points).toMatchObject({ balance: 0n, available: 0n });
  expect(
    await h.admin.oneFirst(
      sql.unsafe`SELECT count(*) FROM loyalty.loyalty_transactions WHERE card_id = ${card.id} AND type = 'points_redeemed'`,
    ),
  ).toBe("10");
  await h.expectLotsAddUp(card.id);
});

it("posts once for 20 concurrent retries of one earn with one key", async () => {
  const card = await h.enroll(m);
  const request = {
    idempotencyKey: key(),
    cardId: card.id,
    staff: m.staff,
    orderReference: "order-race-key",
    purchaseAmount: "30.00",
    currency: "EUR",
  };
  const results = await Promise.all(Array.from({ length: 20 }, () => m.till.earnPoints(request)));
  expect(new Set(results.map((r) => r.transaction?.id)).size).toBe(1);
  expect((await h.card(m, card.id)).points?.balance).toBe(30n);
});

it("posts once for concurrent earns of one order under different keys, and all get the original", async () => {
  const card = await h.enroll(m);
  const results = await Promise.all(
    Array.from({ length: 10 }, () => h.earn(m, card.id, "40.00", "order-race-order")),
  );
  expect(new Set(results.map((r) => r.transaction?.id)).size).toBe(1);
  expect((await h.card(m, card.id)).points?.balance).toBe(40n);
  expect(
    await h.admin.oneFirst(
      sql.unsafe`SELECT count(*) FROM loyalty.loyalty_transactions WHERE order_reference = 'order-race-order'`,
    ),
  ).toBe("1");
});

it("keeps stamps exact under concurrent tills on one card", async () => {
  const busy = await h.merchant({ maxStampsPerVisit: 1, stampsPerReward: 100 });
  const card = await h.enroll(busy);
  await Promise.all(
    Array.from({ length: 25 }, () =>
      busy.till.addStamp({ idempotencyKey: key(), cardId: card.id, staff: busy.staff }),
    ),
  );
  const read = await h.card(busy, card.id);
  expect(read.stamps).toBe(25);
  const versions = await h.admin.anyFirst(
    sql.unsafe`SELECT stamps_balance_after FROM loyalty.loyalty_transactions WHERE card_id = ${card.id} AND type = 'stamp_added' ORDER BY seq`,
  );
  expect(versions).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
});
