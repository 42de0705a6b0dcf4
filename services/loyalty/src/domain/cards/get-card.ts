import type { CommonQueryMethods } from "@money/db";
import { findCard, findCardByKey } from "../../db/cards-table.js";
import { findProgram } from "../../db/programs-table.js";
import { assertActsFor, merchantFor, type Acting } from "../acting.js";
import type { Clock } from "../clock.js";
import { requireId, requireText } from "../ids.js";
import { LoyaltyError } from "../loyalty-error.js";
import type { Card, CardView } from "./card.js";
import { viewCard } from "./open-card.js";

/** A customer sees only their own cards; anyone else, only their merchant's. */
function assertMayRead(card: Card | null, acting: Acting, what: string): asserts card is Card {
  // A customer asking for someone else's card learns nothing, not even that it exists.
  if (!card || (acting.actor.role === "user" && card.customerRef !== acting.actor.principalId)) {
    throw new LoyaltyError("CARD_NOT_FOUND", `no card ${what}`);
  }
  if (acting.actor.role !== "user") assertActsFor(acting, card.merchantId);
}

/** Errors: INVALID_ARGUMENT, CARD_NOT_FOUND, PERMISSION_DENIED. */
export async function getCard(
  db: CommonQueryMethods,
  clock: Clock,
  cardId: string,
  acting: Acting,
): Promise<CardView> {
  const id = requireId("card_id", cardId);
  const card = await findCard(db, id);
  assertMayRead(card, acting, id);
  return viewCard(db, card, (await findProgram(db, card.merchantId))!, clock.now());
}

/** Finds a card by its printed number or its QR payload. Errors: INVALID_ARGUMENT, CARD_NOT_FOUND, PERMISSION_DENIED. */
export async function lookupCard(
  db: CommonQueryMethods,
  clock: Clock,
  lookup: { merchantId: string; key: { cardNumber: string } | { qrPayload: string } | null },
  acting: Acting,
): Promise<CardView> {
  const merchantId = merchantFor(acting, lookup.merchantId);
  if (!lookup.key) throw new LoyaltyError("INVALID_ARGUMENT", "give card_number or qr_payload");
  const key = lookup.key;
  requireText("card_number or qr_payload", "cardNumber" in key ? key.cardNumber : key.qrPayload, 500);
  const card = await findCardByKey(db, merchantId, key);
  assertMayRead(card, acting, "with that number or QR payload");
  return viewCard(db, card, (await findProgram(db, card.merchantId))!, clock.now());
}
