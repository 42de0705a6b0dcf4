import type { DatabaseTransactionConnection } from "@money/db";
import type { Acting } from "../acting.js";
import type { Card } from "../cards/card.js";
import { chargeDailyCaps } from "../cards/daily-caps.js";
import { assertCardActive, openCardForPosting, viewCard } from "../cards/open-card.js";
import type { Posted } from "../cards/posted.js";
import { addSeconds } from "../clock.js";
import { requireText } from "../ids.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import { LoyaltyError } from "../loyalty-error.js";
import type { Program } from "../programs/program.js";
import { postTransaction } from "../transactions/post-transaction.js";

export interface AddStamp {
  cardId: string;
  /** 0 means 1. */
  stamps: number;
  orderReference: string;
  notes: string;
}

/**
 * Adds stamps for a visit.
 *
 * Errors: INVALID_ARGUMENT, CARD_NOT_FOUND, PERMISSION_DENIED, CARD_INACTIVE,
 * STAMPS_DISABLED, STAMPS_PER_VISIT_EXCEEDED, STAMP_COOLDOWN (the card got a
 * stamp less than the program's cooldown ago), DAILY_CAP_REACHED.
 */
export async function addStamp(
  tx: DatabaseTransactionConnection,
  deps: LoyaltyDeps,
  command: AddStamp,
  acting: Acting,
): Promise<Posted> {
  const stamps = command.stamps || 1;
  if (stamps < 0) throw new LoyaltyError("INVALID_ARGUMENT", "stamps must be positive");
  requireText("order_reference", command.orderReference, 100, false);
  requireText("notes", command.notes, 500, false);
  const { card, program, at } = await openCardForPosting(tx, deps, command.cardId, acting);
  assertStampAllowed(card, program, stamps, at);
  await chargeDailyCaps(tx, program, card, acting, at, { stamps, points: 0n });
  const posted = await postTransaction(
    tx,
    deps,
    {
      type: "stamp_added",
      before: card,
      after: { ...card, stamps: card.stamps + stamps, lastStampAt: at, lastActivityAt: at },
      at,
      details: { orderReference: command.orderReference || null, notes: command.notes },
    },
    acting,
  );
  return { transaction: posted.transaction, card: await viewCard(tx, posted.card, program, at) };
}

/**
 * Whether the card may get `stamps` now, before any daily cap.
 *
 * Errors: CARD_INACTIVE, STAMPS_DISABLED, STAMPS_PER_VISIT_EXCEEDED, STAMP_COOLDOWN.
 */
export function assertStampAllowed(card: Card, program: Program, stamps: number, at: Date): void {
  assertCardActive(card);
  if (program.stampsPerReward === 0) throw new LoyaltyError("STAMPS_DISABLED", "this program has no stamps");
  if (stamps > program.maxStampsPerVisit) {
    throw new LoyaltyError(
      "STAMPS_PER_VISIT_EXCEEDED",
      `at most ${program.maxStampsPerVisit} stamps per visit`,
    );
  }
  if (card.lastStampAt && addSeconds(card.lastStampAt, program.stampCooldownSeconds) > at) {
    const next = addSeconds(card.lastStampAt, program.stampCooldownSeconds);
    throw new LoyaltyError(
      "STAMP_COOLDOWN",
      `card ${card.id} may get its next stamp at ${next.toISOString()}`,
    );
  }
}
