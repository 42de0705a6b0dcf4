import { randomUUID } from "node:crypto";
import type { DatabaseTransactionConnection } from "@money/db";
import { findLotOfTransaction } from "../../db/lots-table.js";
import { findTransaction, sumCancellations } from "../../db/transactions-table.js";
import type { Acting } from "../acting.js";
import { openCardForPosting, viewCard } from "../cards/open-card.js";
import type { Posted } from "../cards/posted.js";
import { requireId, requireText } from "../ids.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import { LoyaltyError } from "../loyalty-error.js";
import { postTransaction } from "../transactions/post-transaction.js";
import { cancelEarnedPoints, restoreSpentPoints } from "./points-lots.js";

export interface VoidPoints {
  transactionId: string;
  /** 0 voids everything the transaction still has to give back. */
  points: bigint;
  notes: string;
}

/**
 * Voids (part of) a posting, linked to it by related_transaction_id; all
 * voids and reversals of one posting together never exceed what it moved.
 * - POINTS_EARNED (a return): the points come off as cancelEarnedPoints
 *   says: the earning's lot first, expired points never taken twice, then
 *   the rest of the card, with the program's shortfall policy.
 * - POINTS_REDEEMED (a reward handed back): the points go back to the lots
 *   they came from, except lots that have expired since.
 *
 * Errors: INVALID_ARGUMENT, TRANSACTION_NOT_FOUND, PERMISSION_DENIED,
 * NOT_VOIDABLE (another type), VOID_EXCEEDS_ORIGINAL.
 */
export async function voidPoints(
  tx: DatabaseTransactionConnection,
  deps: LoyaltyDeps,
  command: VoidPoints,
  acting: Acting,
): Promise<Posted> {
  const originalId = requireId("transaction_id", command.transactionId);
  if (command.points < 0n) throw new LoyaltyError("INVALID_ARGUMENT", "points must be positive");
  requireText("notes", command.notes, 500, false);
  const original = await findTransaction(tx, originalId);
  if (!original) throw new LoyaltyError("TRANSACTION_NOT_FOUND", `no transaction ${originalId}`);
  const { card, program, at } = await openCardForPosting(tx, deps, original.cardId, acting);
  if (original.type !== "points_earned" && original.type !== "points_redeemed") {
    throw new LoyaltyError(
      "NOT_VOIDABLE",
      `VoidPoints takes points_earned or points_redeemed, not ${original.type}`,
    );
  }
  const before = await sumCancellations(tx, originalId);
  const moved = original.pointsDelta < 0n ? -original.pointsDelta : original.pointsDelta;
  const left = moved - before.points;
  const points = command.points || left;
  if (left === 0n || points > left) {
    throw new LoyaltyError(
      "VOID_EXCEEDS_ORIGINAL",
      `transaction ${originalId} has ${left} points left to void`,
    );
  }
  const id = randomUUID();
  const details = {
    relatedTransactionId: originalId,
    orderReference: original.orderReference,
    pointsCancelled: points,
    notes: command.notes,
  };
  let posted;
  if (original.type === "points_earned") {
    const cancelled = await cancelEarnedPoints(tx, card, program, {
      lot: (await findLotOfTransaction(tx, originalId))!,
      points,
      alreadyExpiredBefore: before.pointsAlreadyExpired,
      transactionId: id,
      at,
    });
    posted = await postTransaction(
      tx,
      deps,
      {
        id,
        type: "points_voided",
        before: card,
        after: cancelled.card,
        at,
        details: {
          ...details,
          pointsAlreadyExpired: cancelled.alreadyExpired,
          pointsForgiven: cancelled.forgiven,
        },
      },
      acting,
    );
  } else {
    const restored = await restoreSpentPoints(tx, card, {
      redemptionId: originalId,
      points,
      cancelledBefore: before.points,
      transactionId: id,
    });
    posted = await postTransaction(
      tx,
      deps,
      {
        id,
        type: "points_voided",
        before: card,
        after: restored.card,
        at,
        details: {
          ...details,
          rewardCode: original.rewardCode,
          pointsAlreadyExpired: restored.alreadyExpired,
        },
      },
      acting,
    );
  }
  return { transaction: posted.transaction, card: await viewCard(tx, posted.card, program, at) };
}
