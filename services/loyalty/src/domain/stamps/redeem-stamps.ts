import type { DatabaseTransactionConnection } from "@money/db";
import type { Acting } from "../acting.js";
import { assertCardActive, openCardForPosting, viewCard } from "../cards/open-card.js";
import type { Posted } from "../cards/posted.js";
import { requireText } from "../ids.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import { LoyaltyError } from "../loyalty-error.js";
import { postTransaction } from "../transactions/post-transaction.js";

export interface RedeemStamps {
  cardId: string;
  notes: string;
}

/**
 * Exchanges one card's worth of stamps (the program's stamps_per_reward)
 * for the program's stamp reward.
 *
 * Errors: INVALID_ARGUMENT, CARD_NOT_FOUND, PERMISSION_DENIED, CARD_INACTIVE, STAMPS_DISABLED, INSUFFICIENT_STAMPS.
 */
export async function redeemStamps(
  tx: DatabaseTransactionConnection,
  deps: LoyaltyDeps,
  command: RedeemStamps,
  acting: Acting,
): Promise<Posted> {
  requireText("notes", command.notes, 500, false);
  const { card, program, at } = await openCardForPosting(tx, deps, command.cardId, acting);
  assertCardActive(card);
  if (program.stampsPerReward === 0) throw new LoyaltyError("STAMPS_DISABLED", "this program has no stamps");
  if (card.stamps < program.stampsPerReward) {
    throw new LoyaltyError(
      "INSUFFICIENT_STAMPS",
      `card ${card.id} has ${card.stamps} stamps; ${program.stampRewardName} needs ${program.stampsPerReward}`,
    );
  }
  const posted = await postTransaction(
    tx,
    deps,
    {
      type: "stamps_redeemed",
      before: card,
      after: { ...card, stamps: card.stamps - program.stampsPerReward, lastActivityAt: at },
      at,
      details: { rewardName: program.stampRewardName, notes: command.notes },
    },
    acting,
  );
  return { transaction: posted.transaction, card: await viewCard(tx, posted.card, program, at) };
}
