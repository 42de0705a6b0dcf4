import type { DatabaseTransactionConnection } from "@money/db";
import { findTransaction, sumCancellations } from "../../db/transactions-table.js";
import type { Acting } from "../acting.js";
import { openCardForPosting, viewCard } from "../cards/open-card.js";
import type { Posted } from "../cards/posted.js";
import { requireId, requireText } from "../ids.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import { LoyaltyError } from "../loyalty-error.js";
import { postTransaction } from "../transactions/post-transaction.js";

export interface VoidStamps {
  transactionId: string;
  /** 0 voids everything the transaction still has to give back. */
  stamps: number;
  notes: string;
}

/**
 * Takes back stamps a STAMP_ADDED transaction gave (a return), linked to it.
 * All voids of one transaction together never exceed what it gave, and
 * stamps never go below zero.
 *
 * Errors: INVALID_ARGUMENT, TRANSACTION_NOT_FOUND, PERMISSION_DENIED,
 * NOT_VOIDABLE (not a STAMP_ADDED), VOID_EXCEEDS_ORIGINAL, INSUFFICIENT_STAMPS.
 */
export async function voidStamps(
  tx: DatabaseTransactionConnection,
  deps: LoyaltyDeps,
  command: VoidStamps,
  acting: Acting,
): Promise<Posted> {
  const originalId = requireId("transaction_id", command.transactionId);
  if (command.stamps < 0) throw new LoyaltyError("INVALID_ARGUMENT", "stamps must be positive");
  requireText("notes", command.notes, 500, false);
  const original = await findTransaction(tx, originalId);
  if (!original) throw new LoyaltyError("TRANSACTION_NOT_FOUND", `no transaction ${originalId}`);
  const { card, program, at } = await openCardForPosting(tx, deps, original.cardId, acting);
  if (original.type !== "stamp_added") {
    throw new LoyaltyError(
      "NOT_VOIDABLE",
      `VoidStamps takes a stamp_added transaction, not ${original.type}`,
    );
  }
  const left = original.stampsDelta - (await sumCancellations(tx, originalId)).stamps;
  const stamps = command.stamps || left;
  if (left === 0 || stamps > left) {
    throw new LoyaltyError(
      "VOID_EXCEEDS_ORIGINAL",
      `transaction ${originalId} has ${left} stamps left to void`,
    );
  }
  if (card.stamps < stamps) {
    throw new LoyaltyError(
      "INSUFFICIENT_STAMPS",
      `card ${card.id} has ${card.stamps} stamps; cannot void ${stamps}`,
    );
  }
  const posted = await postTransaction(
    tx,
    deps,
    {
      type: "stamps_voided",
      before: card,
      after: { ...card, stamps: card.stamps - stamps },
      at,
      details: {
        relatedTransactionId: originalId,
        stampsCancelled: stamps,
        orderReference: original.orderReference,
        notes: command.notes,
      },
    },
    acting,
  );
  return { transaction: posted.transaction, card: await viewCard(tx, posted.card, program, at) };
}
