import type { DatabaseTransactionConnection } from "@money/db";
import type { Acting } from "../acting.js";
import { requireText } from "../ids.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import { LoyaltyError } from "../loyalty-error.js";
import { postTransaction } from "../transactions/post-transaction.js";
import type { CardStatus } from "./card.js";
import { openCardForPosting, viewCard } from "./open-card.js";
import type { Posted } from "./posted.js";

export interface SetCardStatus {
  cardId: string;
  status: CardStatus;
  reason: string;
}

/**
 * Deactivates or reactivates a card, with a reason, as a CARD_DEACTIVATED or
 * CARD_REACTIVATED row. A deactivated card keeps its balances: voids,
 * reversals, adjustments and expiry still apply to it.
 *
 * Errors: INVALID_ARGUMENT, CARD_NOT_FOUND, PERMISSION_DENIED, CARD_ALREADY_INACTIVE, CARD_ALREADY_ACTIVE.
 */
export async function setCardStatus(
  tx: DatabaseTransactionConnection,
  deps: LoyaltyDeps,
  command: SetCardStatus,
  acting: Acting,
): Promise<Posted> {
  const reason = requireText("reason", command.reason, 500);
  const { card, program, at } = await openCardForPosting(tx, deps, command.cardId, acting);
  if (card.status === command.status) {
    throw new LoyaltyError(
      command.status === "inactive" ? "CARD_ALREADY_INACTIVE" : "CARD_ALREADY_ACTIVE",
      `card ${card.id} is already ${command.status}`,
    );
  }
  const posted = await postTransaction(
    tx,
    deps,
    {
      type: command.status === "inactive" ? "card_deactivated" : "card_reactivated",
      before: card,
      after: { ...card, status: command.status, statusReason: reason },
      at,
      details: { notes: reason },
    },
    acting,
  );
  return { transaction: posted.transaction, card: await viewCard(tx, posted.card, program, at) };
}
