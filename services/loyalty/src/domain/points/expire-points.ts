import type { DatabaseTransactionConnection } from "@money/db";
import { findCardsWithPointsDue, lockCard } from "../../db/cards-table.js";
import { findProgram } from "../../db/programs-table.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import { expireDuePoints } from "./points-lots.js";

export interface ExpiryRun {
  cards: number;
  lotsExpired: number;
  pointsExpired: bigint;
}

/**
 * Posts the expiry of up to `maxCards` cards with points due: one
 * POINTS_EXPIRED row per lot (see expireDuePoints), by the service itself
 * whoever asked. Cards are locked in id order, so concurrent runs cannot
 * deadlock. Postings expire their own card first, so this catches up with
 * idle cards.
 *
 * Errors: none of its own; the caller has scoped the merchant (merchantFor).
 */
export async function expirePoints(
  tx: DatabaseTransactionConnection,
  deps: LoyaltyDeps,
  scope: { merchantId: string | undefined; maxCards: number },
): Promise<ExpiryRun> {
  const run: ExpiryRun = { cards: 0, lotsExpired: 0, pointsExpired: 0n };
  for (const cardId of await findCardsWithPointsDue(tx, scope.merchantId, deps.clock.now(), scope.maxCards)) {
    const card = (await lockCard(tx, cardId))!;
    const program = (await findProgram(tx, card.merchantId))!;
    // Read after the lock, as every posting does, so a card's rows stay in time order.
    const expired = await expireDuePoints(tx, deps, card, program, deps.clock.now());
    run.cards += 1;
    run.lotsExpired += expired.lotsExpired;
    run.pointsExpired += expired.pointsExpired;
  }
  return run;
}
