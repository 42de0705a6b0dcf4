import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { LoyaltyHarness } from "../support/loyalty-harness.js";

let h: LoyaltyHarness;
beforeAll(async () => {
  h = await LoyaltyHarness.start("smoke");
});
afterAll(async () => {
  await h?.stop();
});

it("enrolls and earns", async () => {
  const m = await h.merchant({ welcomeBonusPoints: 50n });
  const card = await h.enroll(m);
  expect(card.points?.balance).toBe(50n);
  const earned = await h.earn(m, card.id, "12.34");
  expect(earned.transaction?.pointsDelta).toBe(12n);
  expect(earned.card?.points?.balance).toBe(62n);
  await h.expectLotsAddUp(card.id);
});
