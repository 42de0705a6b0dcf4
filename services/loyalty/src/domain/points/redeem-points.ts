import { randomUUID } from "node:crypto";
import type { DatabaseTransactionConnection } from "@money/db";
import { sumOpenLots } from "../../db/lots-table.js";
import { findReward } from "../../db/programs-table.js";
import type { Acting } from "../acting.js";
import { assertCardActive, openCardForPosting, viewCard } from "../cards/open-card.js";
import type { Posted } from "../cards/posted.js";
import { requireText } from "../ids.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import { LoyaltyError } from "../loyalty-error.js";
import { postTransaction } from "../transactions/post-transaction.js";
import { spendPoints } from "./points-lots.js";

export interface RedeemPoints {
  cardId: string;
  rewardCode: string;
  orderReference: string;
  notes: string;
}

/**
 * Redeems a catalog reward from the card's available points (unlocked
 * points minus any debt), spending the soonest-expiring lots first. The
 * card's row lock makes concurrent redemptions on one card run one after
 * another: a card that affords n rewards gives exactly n.
 *
 * Errors: INVALID_ARGUMENT, CARD_NOT_FOUND, PERMISSION_DENIED, CARD_INACTIVE,
 * REWARD_NOT_FOUND (unknown or retired), INSUFFICIENT_POINTS.
 */
export async function redeemPoints(
  tx: DatabaseTransactionConnection,
  deps: LoyaltyDeps,
  command: RedeemPoints,
  acting: Acting,
): Promise<Posted> {
  requireText("reward_code", command.rewardCode, 40);
  requireText("order_reference", command.orderReference, 100, false);
  requireText("notes", command.notes, 500, false);
  const { card, program, at } = await openCardForPosting(tx, deps, command.cardId, acting);
  assertCardActive(card);
  const reward = await findReward(tx, card.merchantId, command.rewardCode);
  if (!reward?.active)
    throw new LoyaltyError("REWARD_NOT_FOUND", `no reward ${command.rewardCode} in the catalog`);
  const lots = await sumOpenLots(tx, card.id, at, at);
  const available = lots.unlocked - card.pointsDebt;
  if (available < reward.pointsCost) {
    throw new LoyaltyError(
      "INSUFFICIENT_POINTS",
      `card ${card.id} has ${available} points available; ${reward.name} costs ${reward.pointsCost}`,
    );
  }
  const id = randomUUID();
  const spent = await spendPoints(tx, card, {
    transactionId: id,
    points: reward.pointsCost,
    at,
    unlockedOnly: true,
  });
  const posted = await postTransaction(
    tx,
    deps,
    {
      id,
      type: "points_redeemed",
      before: card,
      after: { ...spent.card, lastActivityAt: at },
      at,
      details: {
        rewardCode: reward.code,
        rewardName: reward.name,
        orderReference: command.orderReference || null,
        notes: command.notes,
      },
    },
    acting,
  );
  return { transaction: posted.transaction, card: await viewCard(tx, posted.card, program, at) };
}
