import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { sql } from "@money/db";
import { PointsExpiry } from "@money/proto/loyalty/v1/loyalty_pb";
import {
  key,
  LoyaltyHarness,
  outcomeOf,
  type LoyaltyClient,
  type Merchant,
} from "../support/loyalty-harness.js";

// Terminals' EarnPoints and AddStamp calls that arrive together share one
// transaction (the group commit); each keeps its own outcome and balances.

let h: LoyaltyHarness;
let m: Merchant;

beforeAll(async () => {
  h = await LoyaltyHarness.start("group_commit");
  m = await h.merchant({ minimumSpend: "" });
});

afterAll(async () => {
  await h?.stop();
});

it("posts concurrent earns and stamps of several tills in shared transactions, with exact balances", async () => {
  const tills: LoyaltyClient[] = [m.till, (await h.pair(m.admin, m.storeId, "Till 2")).till];
  const cards = await Promise.all(Array.from({ length: 4 }, () => h.enroll(m)));
  // One posting per till first, so the PIN is verified (scrypt) before the rush.
  for (const till of tills) {
    await till.addStamp({ idempotencyKey: key(), cardId: cards[0]!.id, staff: m.staff });
  }
  const calls = Array.from({ length: 40 }, (_, i) => {
    const till = tills[i % 2]!;
    const cardId = cards[i % 4]!.id;
    return i % 3 === 0
      ? till.addStamp({ idempotencyKey: key(), cardId, staff: m.staff })
      : till.earnPoints({
          idempotencyKey: key(),
          cardId,
          staff: m.staff,
          orderReference: `order-${key()}`,
          purchaseAmount: `${i + 1}.00`,
          currency: "EUR",
        });
  });
  const responses = await Promise.all(calls);
  for (const r of responses) {
    expect(r.card?.points?.balance).toBe(r.transaction?.pointsBalanceAfter);
    expect(r.card?.stamps).toBe(r.transaction?.stampsBalanceAfter);
  }
  const ids = cards.map((c) => c.id);
  const rows = await h.admin.any(sql.unsafe`
    SELECT card_id, points_delta, points_balance_after, stamps_delta, stamps_balance_after, xmin::text AS xid
    FROM loyalty.loyalty_transactions
    WHERE card_id = ANY(${sql.array(ids, "uuid")}) ORDER BY card_id, seq
  `);
  // Each card's rows chain: every balance after is the previous one plus the row's delta.
  const last = new Map<string, { points: bigint; stamps: number }>();
  for (const row of rows) {
    const before = last.get(row["card_id"] as string) ?? { points: 0n, stamps: 0 };
    const after = {
      points: before.points + BigInt(row["points_delta"] as string),
      stamps: before.stamps + (row["stamps_delta"] as number),
    };
    expect({
      points: BigInt(row["points_balance_after"] as string),
      stamps: row["stamps_balance_after"],
    }).toEqual(after);
    last.set(row["card_id"] as string, after);
  }
  for (const card of cards) {
    const now = await h.card(m, card.id);
    expect({ points: now.points?.balance, stamps: now.stamps }).toEqual(last.get(card.id));
    await h.expectLotsAddUp(card.id);
  }
  const posted = rows.filter(
    (r) => Number(r["stamps_delta"]) !== 0 || BigInt(r["points_delta"] as string) !== 0n,
  );
  expect(posted.length).toBe(42);
  // Fewer transactions than rows: concurrent calls were committed together.
  expect(new Set(posted.map((r) => r["xid"])).size).toBeLessThan(posted.length);
});

it("refuses the calls of a batch that may not post and posts the others", async () => {
  const card = await h.enroll(m);
  await h.earn(m, card.id, "1.00");
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      outcomeOf(
        m.till.earnPoints({
          idempotencyKey: key(),
          cardId: card.id,
          staff: m.staff,
          orderReference: `order-${key()}`,
          purchaseAmount: "10.00",
          currency: i < 3 ? "USD" : "EUR",
        }),
      ),
    ),
  );
  const counts = results.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r]: (acc[r] ?? 0) + 1 }), {});
  expect(counts).toEqual({ ok: 7, "FailedPrecondition:CURRENCY_MISMATCH": 3 });
  expect((await h.card(m, card.id)).points?.balance).toBe(71n);
  await h.expectLotsAddUp(card.id);
});

it("replays a key already used, from inside a batch, and refuses it for another request", async () => {
  const card = await h.enroll(m);
  const request = {
    idempotencyKey: key(),
    cardId: card.id,
    staff: m.staff,
    orderReference: `order-${key()}`,
    purchaseAmount: "5.00",
    currency: "EUR",
  };
  const first = await m.till.earnPoints(request);
  const [again, other] = await Promise.all([
    m.till.earnPoints(request),
    outcomeOf(m.till.earnPoints({ ...request, purchaseAmount: "6.00" })),
    h.earn(m, card.id, "2.00"),
  ]);
  expect(again.transaction?.id).toBe(first.transaction?.id);
  expect(other).toBe("AlreadyExists:IDEMPOTENCY_KEY_REUSED");
  expect((await h.card(m, card.id)).points?.balance).toBe(7n);
});

it("replies to batched earns with the card's open lots as GetCard counts them: unlocked, locked, expiring soon", async () => {
  const lots = await h.merchant({
    minimumSpend: "",
    pointsLockDays: 14,
    pointsExpiry: PointsExpiry.AFTER_EARNING,
    pointsExpiryDays: 40,
    expiringSoonDays: 30,
  });
  const card = await h.enroll(lots);
  await h.earn(lots, card.id, "5.00");
  // The first lot is out of its return window and within 30 days of expiry; the new ones are neither.
  h.clock.advanceDays(15);
  const responses = await Promise.all(
    Array.from({ length: 8 }, (_, i) => h.earn(lots, card.id, `${i + 1}.00`)),
  );
  for (const r of responses) {
    const points = r.card!.points!;
    expect(points.available + points.locked).toBe(points.balance);
    expect(points.available).toBe(5n);
    expect(points.expiringSoon).toBe(5n);
    expect(points.balance).toBe(r.transaction!.pointsBalanceAfter);
  }
  const last = responses.reduce((a, b) =>
    a.transaction!.pointsBalanceAfter > b.transaction!.pointsBalanceAfter ? a : b,
  );
  const now = (await h.card(lots, card.id)).points!;
  expect({ ...last.card!.points!, expiringSoonUntil: undefined }).toEqual({
    ...now,
    expiringSoonUntil: undefined,
  });
  expect(now).toMatchObject({ balance: 41n, available: 5n, locked: 36n, expiringSoon: 5n });
  await h.expectLotsAddUp(card.id);
});
