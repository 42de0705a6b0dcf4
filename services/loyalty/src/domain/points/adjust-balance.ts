import { randomUUID } from "node:crypto";
import type { DatabaseTransactionConnection } from "@money/db";
import type { Acting } from "../acting.js";
import { openCardForPosting, viewCard } from "../cards/open-card.js";
import type { Posted } from "../cards/posted.js";
import { requireText } from "../ids.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import { LoyaltyError } from "../loyalty-error.js";
import { postTransaction } from "../transactions/post-transaction.js";
import { creditPoints, spendPoints } from "./points-lots.js";

export interface AdjustBalance {
  cardId: string;
  stampsDelta: number;
  pointsDelta: bigint;
  reason: string;
}

const MAX_ADJUSTMENT = 1_000_000_000n;

/**
 * An admin's correction, as an ADJUSTED row with its reason. Points added
 * form a new lot under the program's terms; points taken come off the
 * soonest-expiring lots, locked or not. An adjustment never takes a balance
 * below zero.
 *
 * Errors: INVALID_ARGUMENT (no reason, nothing to adjust, too large),
 * CARD_NOT_FOUND, PERMISSION_DENIED, INSUFFICIENT_STAMPS, INSUFFICIENT_POINTS.
 */
export async function adjustBalance(
  tx: DatabaseTransactionConnection,
  deps: LoyaltyDeps,
  command: AdjustBalance,
  acting: Acting,
): Promise<Posted> {
  const reason = requireText("reason", command.reason, 500);
  if (command.stampsDelta === 0 && command.pointsDelta === 0n) {
    throw new LoyaltyError("INVALID_ARGUMENT", "an adjustment moves stamps, points or both");
  }
  if (command.pointsDelta > MAX_ADJUSTMENT || command.pointsDelta < -MAX_ADJUSTMENT) {
    throw new LoyaltyError("INVALID_ARGUMENT", `an adjustment moves at most ${MAX_ADJUSTMENT} points`);
  }
  const { card, program, at } = await openCardForPosting(tx, deps, command.cardId, acting);
  if (card.stamps + command.stampsDelta < 0) {
    throw new LoyaltyError("INSUFFICIENT_STAMPS", `card ${card.id} has ${card.stamps} stamps`);
  }
  const id = randomUUID();
  let after = { ...card, stamps: card.stamps + command.stampsDelta };
  let lotId: string | null = null;
  if (command.pointsDelta > 0n) {
    const credited = await creditPoints(tx, after, program, {
      transactionId: id,
      points: command.pointsDelta,
      at,
      fromPurchase: false,
    });
    after = credited.card;
    lotId = credited.lotId;
  } else if (command.pointsDelta < 0n) {
    const taken = await spendPoints(tx, after, {
      transactionId: id,
      points: -command.pointsDelta,
      at,
      unlockedOnly: false,
    });
    if (taken.spent !== -command.pointsDelta || taken.card.pointsBalance < 0n) {
      throw new LoyaltyError(
        "INSUFFICIENT_POINTS",
        `card ${card.id} holds fewer than ${-command.pointsDelta} points`,
      );
    }
    after = taken.card;
  }
  const posted = await postTransaction(
    tx,
    deps,
    { id, type: "adjusted", before: card, after, at, details: { notes: reason, lotId } },
    acting,
  );
  return { transaction: posted.transaction, card: await viewCard(tx, posted.card, program, at) };
}
