import type { CommonQueryMethods, DatabaseTransactionConnection } from "@money/db";
import { lockCardForPosting } from "../../db/cards-table.js";
import { assertActsFor, type Acting } from "../acting.js";
import { requireId } from "../ids.js";
import { addSeconds } from "../clock.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import { LoyaltyError } from "../loyalty-error.js";
import { expireDuePoints, pointsBreakdown } from "../points/points-lots.js";
import type { Program } from "../programs/program.js";
import type { Card, CardView } from "./card.js";

/**
 * The first step of every posting on a card: lock the card row (postings on
 * one card then run one after another), read the clock (after the lock, so
 * a card's postings are in time order), check the caller may act on its
 * merchant and from its store, load the program, and post what expired.
 *
 * Errors: INVALID_ARGUMENT (card id), CARD_NOT_FOUND, PERMISSION_DENIED,
 * STORE_NOT_FOUND (the store is another merchant's).
 */
export async function openCardForPosting(
  tx: DatabaseTransactionConnection,
  deps: LoyaltyDeps,
  cardId: string,
  acting: Acting,
  /** An earn's order: its advisory lock is taken with the card's (see lockCardForPosting). */
  { orderReference = null }: { orderReference?: string | null } = {},
): Promise<{ card: Card; program: Program; at: Date }> {
  const id = requireId("card_id", cardId);
  // The clock is read again once the lock is held; no posting waits a minute
  // for a lock (statements time out sooner), so lots due by then are all seen.
  const found = await lockCardForPosting(tx, id, addSeconds(deps.clock.now(), 60), orderReference);
  if (!found) throw new LoyaltyError("CARD_NOT_FOUND", `no card ${id}`);
  const { card: locked, programVersion, lotsDueBy } = found;
  const at = deps.clock.now();
  assertActsFor(acting, locked.merchantId);
  if (acting.store && acting.store.merchantId !== locked.merchantId) {
    throw new LoyaltyError(
      "STORE_NOT_FOUND",
      `store ${acting.store.id} is not a store of merchant ${locked.merchantId}`,
    );
  }
  const program = await deps.programs.atVersion(tx, locked.merchantId, programVersion);
  const { card } = await expireDuePoints(tx, deps, locked, program, at, { lotsMayBeDue: lotsDueBy });
  return { card, program, at };
}

/** Errors: CARD_INACTIVE: a deactivated card neither earns nor redeems. */
export function assertCardActive(card: Card): void {
  if (card.status !== "active") {
    throw new LoyaltyError("CARD_INACTIVE", `card ${card.id} is deactivated: ${card.statusReason}`);
  }
}

export async function viewCard(
  db: CommonQueryMethods,
  card: Card,
  program: Program,
  at: Date,
): Promise<CardView> {
  return { card, points: await pointsBreakdown(db, card, program, at) };
}
