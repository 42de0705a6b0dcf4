import { randomUUID } from "node:crypto";
import type { DatabaseTransactionConnection } from "@money/db";
import { insertCard } from "../../db/cards-table.js";
import { findProgram } from "../../db/programs-table.js";
import { merchantFor, type Acting } from "../acting.js";
import { requireText } from "../ids.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import { LoyaltyError } from "../loyalty-error.js";
import { creditPoints } from "../points/points-lots.js";
import type { LoyaltyTransaction } from "../transactions/loyalty-transaction.js";
import { postTransaction } from "../transactions/post-transaction.js";
import type { CardView } from "./card.js";
import { viewCard } from "./open-card.js";

export interface EnrollCard {
  merchantId: string;
  customerRef: string;
  cardNumber: string;
  qrPayload: string;
}

const CARD_NUMBER = /^[A-Za-z0-9-]{4,40}$/;

/**
 * Enrolls a card: a CARD_ENROLLED row, then the program's welcome bonus as
 * its own WELCOME_BONUS row and lot.
 *
 * Errors: INVALID_ARGUMENT, PERMISSION_DENIED, PROGRAM_NOT_FOUND,
 * STORE_NOT_FOUND (another merchant's store), CARD_NUMBER_TAKEN (number or
 * QR payload already on a card of the merchant).
 */
export async function enrollCard(
  tx: DatabaseTransactionConnection,
  deps: LoyaltyDeps,
  command: EnrollCard,
  acting: Acting,
): Promise<{ card: CardView; transactions: LoyaltyTransaction[] }> {
  const merchantId = merchantFor(acting, command.merchantId);
  const customerRef = requireText("customer_ref", command.customerRef, 200);
  if (!CARD_NUMBER.test(command.cardNumber)) {
    throw new LoyaltyError("INVALID_ARGUMENT", "card_number must be 4 to 40 of A-Z a-z 0-9 -");
  }
  const qrPayload = requireText("qr_payload", command.qrPayload, 500);
  const program = await findProgram(tx, merchantId);
  if (!program) throw new LoyaltyError("PROGRAM_NOT_FOUND", `merchant ${merchantId} has no loyalty program`);
  if (acting.store && acting.store.merchantId !== merchantId) {
    throw new LoyaltyError(
      "STORE_NOT_FOUND",
      `store ${acting.store.id} is not a store of merchant ${merchantId}`,
    );
  }
  const at = deps.clock.now();
  const blank = await insertCard(tx, {
    id: randomUUID(),
    merchantId,
    customerRef,
    cardNumber: command.cardNumber,
    qrPayload,
    enrolledAt: at,
  });
  if (!blank) {
    throw new LoyaltyError(
      "CARD_NUMBER_TAKEN",
      "a card of this merchant already has that number or QR payload",
    );
  }
  const enrolled = await postTransaction(
    tx,
    deps,
    { type: "card_enrolled", before: blank, after: blank, at },
    acting,
  );
  const transactions = [enrolled.transaction];
  let card = enrolled.card;
  if (program.welcomeBonusPoints > 0n) {
    const id = randomUUID();
    const credited = await creditPoints(tx, card, program, {
      transactionId: id,
      points: program.welcomeBonusPoints,
      at,
      fromPurchase: false,
    });
    const bonus = await postTransaction(
      tx,
      deps,
      {
        id,
        type: "welcome_bonus",
        before: card,
        after: credited.card,
        at,
        details: { lotId: credited.lotId },
      },
      acting,
    );
    transactions.push(bonus.transaction);
    card = bonus.card;
  }
  return { card: await viewCard(tx, card, program, at), transactions };
}
