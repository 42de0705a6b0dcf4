import { randomUUID } from "node:crypto";
import type { CommonQueryMethods, DatabaseTransactionConnection } from "@money/db";
import {
  findLotsDue,
  findLotsSpentBy,
  findLotsToSpend,
  insertLot,
  insertMovements,
  countAsExpired,
  markLotExpired,
  moveRemaining,
  sumOpenLots,
  voidFromLot,
  type LotMovement,
  type NewLot,
  type PointsLot,
} from "../../db/lots-table.js";
import { SYSTEM_ACTING } from "../acting.js";
import type { Card, PointsBreakdown } from "../cards/card.js";
import { addDays } from "../clock.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import type { Program } from "../programs/program.js";
import { postTransaction } from "../transactions/post-transaction.js";

// Points live in lots. Every function here runs under the card's row lock
// (see lockCard), which is what makes reading a lot and then changing it safe.

const min = (a: bigint, b: bigint) => (a < b ? a : b);

/**
 * Puts `points` on the card as a new lot with the program's expiry, locked
 * for the program's return window when they come from a purchase. A debt
 * left by an earlier void is paid back from it first.
 */
export async function creditPoints(
  tx: DatabaseTransactionConnection,
  card: Card,
  program: Program,
  credit: { transactionId: string; points: bigint; at: Date; fromPurchase: boolean },
): Promise<{ card: Card; lotId: string }> {
  const { lot, debtPaid, card: after } = newLot(card, program, credit);
  await insertLot(tx, lot);
  if (debtPaid > 0n) {
    await insertMovements(tx, [{ transactionId: credit.transactionId, lotId: lot.id, points: -debtPaid }]);
  }
  return { card: after, lotId: lot.id };
}

/** The lot creditPoints inserts, the debt it pays back, and the card after it. */
export function newLot(
  card: Card,
  program: Program,
  credit: { transactionId: string; points: bigint; at: Date; fromPurchase: boolean },
): { lot: NewLot; debtPaid: bigint; card: Card } {
  const { transactionId, points, at } = credit;
  const debtPaid = min(points, card.pointsDebt);
  const lot: NewLot = {
    id: randomUUID(),
    cardId: card.id,
    sourceTransactionId: transactionId,
    originalPoints: points,
    remainingPoints: points - debtPaid,
    earnedAt: at,
    availableAt: credit.fromPurchase ? addDays(at, program.pointsLockDays) : at,
    expiresAt: program.pointsExpiry === "after_earning" ? addDays(at, program.pointsExpiryDays) : null,
  };
  return {
    lot,
    debtPaid,
    card: { ...card, pointsBalance: card.pointsBalance + points, pointsDebt: card.pointsDebt - debtPaid },
  };
}

/**
 * Takes up to `points` from the card's unexpired lots, soonest-expiring
 * first; `unlockedOnly` leaves lots still in their return window alone.
 * Returns how much it took: the caller decides what a shortfall means.
 */
export async function spendPoints(
  tx: DatabaseTransactionConnection,
  card: Card,
  spend: { transactionId: string; points: bigint; at: Date; unlockedOnly: boolean },
): Promise<{ card: Card; spent: bigint }> {
  if (spend.points <= 0n) return { card, spent: 0n };
  const lots = await findLotsToSpend(tx, card.id, spend.points, spend.at, spend.unlockedOnly);
  let left = spend.points;
  const movements: LotMovement[] = [];
  for (const lot of lots) {
    const take = min(left, lot.remainingPoints);
    if (take === 0n) break;
    movements.push({ transactionId: spend.transactionId, lotId: lot.id, points: -take });
    left -= take;
  }
  await moveRemaining(tx, movements);
  await insertMovements(tx, movements);
  const spent = spend.points - left;
  return { card: { ...card, pointsBalance: card.pointsBalance - spent }, spent };
}

/**
 * Posts one POINTS_EXPIRED row per lot whose time has come, before anything
 * else touches the card, so every balance a posting reports is exact.
 * Lots with an expiry date expire on it whatever the current policy; under
 * expiry after inactivity, every lot expires once the card has been idle
 * for the program's days.
 */
export async function expireDuePoints(
  tx: DatabaseTransactionConnection,
  deps: LoyaltyDeps,
  card: Card,
  program: Program,
  at: Date,
  /** False when the caller knows no lot with a date is due (see lockCardForPosting). */
  { lotsMayBeDue = true }: { lotsMayBeDue?: boolean } = {},
): Promise<{ card: Card; lotsExpired: number; pointsExpired: bigint }> {
  const inactiveSince =
    program.pointsExpiry === "after_inactivity" &&
    addDays(card.lastActivityAt, program.pointsExpiryDays) <= at
      ? card.lastActivityAt
      : null;
  if (!lotsMayBeDue && inactiveSince === null) return { card, lotsExpired: 0, pointsExpired: 0n };
  const lots = await findLotsDue(tx, card.id, at, inactiveSince !== null);
  let current = card;
  let pointsExpired = 0n;
  for (const lot of lots) {
    const id = randomUUID();
    await markLotExpired(tx, lot.id, at);
    await insertMovements(tx, [{ transactionId: id, lotId: lot.id, points: -lot.remainingPoints }]);
    const posted = await postTransaction(
      tx,
      deps,
      {
        id,
        type: "points_expired",
        before: current,
        after: { ...current, pointsBalance: current.pointsBalance - lot.remainingPoints },
        at,
        details: { lotId: lot.id, notes: expiryNote(lot, inactiveSince) },
      },
      SYSTEM_ACTING,
    );
    current = posted.card;
    pointsExpired += lot.remainingPoints;
  }
  return { card: current, lotsExpired: lots.length, pointsExpired };
}

function expiryNote(lot: PointsLot, inactiveSince: Date | null): string {
  if (lot.expiresAt !== null)
    return `lot earned ${lot.earnedAt.toISOString()} expired ${lot.expiresAt.toISOString()}`;
  return `no earn or redemption since ${inactiveSince!.toISOString()}`;
}

/** How a void or reversal of an earning came off the card. */
export interface EarnCancellation {
  card: Card;
  /** Part of the cancelled points that had expired: nothing left to take. */
  alreadyExpired: bigint;
  /** Part the card could not cover, forgiven under the FORGIVE policy. */
  forgiven: bigint;
}

/**
 * Cancels `points` of an earning. They come, in this order, from what is
 * left of the earning's own lot; from the part of it that has expired
 * (gone already, never taken twice); and from the rest of the card, as the
 * customer spent them: soonest-expiring lots first, and what no lot covers
 * becomes a debt (ALLOW_NEGATIVE_BALANCE) or is forgiven (FORGIVE).
 */
export async function cancelEarnedPoints(
  tx: DatabaseTransactionConnection,
  card: Card,
  program: Program,
  cancel: {
    lot: PointsLot;
    points: bigint;
    /** Expired points of the lot that earlier cancellations already counted. */
    alreadyExpiredBefore: bigint;
    transactionId: string;
    at: Date;
  },
): Promise<EarnCancellation> {
  const { lot, transactionId, at } = cancel;
  const fromLot = min(cancel.points, lot.remainingPoints);
  if (fromLot > 0n) {
    await voidFromLot(tx, lot.id, fromLot);
    await insertMovements(tx, [{ transactionId, lotId: lot.id, points: -fromLot }]);
  }
  let rest = cancel.points - fromLot;
  const alreadyExpired = min(rest, lot.expiredPoints - cancel.alreadyExpiredBefore);
  rest -= alreadyExpired;
  const clawed = await spendPoints(
    tx,
    { ...card, pointsBalance: card.pointsBalance - fromLot },
    {
      transactionId,
      points: rest,
      at,
      unlockedOnly: false,
    },
  );
  const shortfall = rest - clawed.spent;
  if (shortfall === 0n || program.shortfallPolicy === "forgive") {
    return { card: clawed.card, alreadyExpired, forgiven: shortfall };
  }
  return {
    card: {
      ...clawed.card,
      pointsBalance: clawed.card.pointsBalance - shortfall,
      pointsDebt: clawed.card.pointsDebt + shortfall,
    },
    alreadyExpired,
    forgiven: 0n,
  };
}

/**
 * Gives back `points` of a redemption to the lots it spent, in the order it
 * spent them, after the `cancelledBefore` points earlier voids gave back.
 * A lot that has expired since is not brought back to life: its share is
 * reported as already expired and counted among the lot's expired points,
 * so a later void of the lot's earning does not take it again.
 */
export async function restoreSpentPoints(
  tx: DatabaseTransactionConnection,
  card: Card,
  restore: { redemptionId: string; points: bigint; cancelledBefore: bigint; transactionId: string },
): Promise<{ card: Card; alreadyExpired: bigint }> {
  let skip = restore.cancelledBefore;
  let left = restore.points;
  let alreadyExpired = 0n;
  const movements: LotMovement[] = [];
  for (const { lot, spent } of await findLotsSpentBy(tx, restore.redemptionId)) {
    const skipped = min(skip, spent);
    skip -= skipped;
    const take = min(left, spent - skipped);
    if (take === 0n) continue;
    left -= take;
    if (lot.expiredAt === null) {
      movements.push({ transactionId: restore.transactionId, lotId: lot.id, points: take });
    } else {
      await countAsExpired(tx, lot.id, take);
      alreadyExpired += take;
    }
  }
  await moveRemaining(tx, movements);
  await insertMovements(tx, movements);
  const restored = movements.reduce((sum, m) => sum + m.points, 0n);
  return { card: { ...card, pointsBalance: card.pointsBalance + restored }, alreadyExpired };
}

/** What a card's open lots hold at an instant (see sumOpenLots). */
export interface OpenLotSums {
  unlocked: bigint;
  locked: bigint;
  expiringSoon: bigint;
}

/**
 * The card's points at `at`, computed from its lots, so it is exact even
 * when the expiry job has not yet posted what fell due.
 */
export async function pointsBreakdown(
  db: CommonQueryMethods,
  card: Card,
  program: Program,
  at: Date,
): Promise<PointsBreakdown> {
  if (pointsAllExpired(card, program, at)) return breakdownOf(card, program, at, null);
  const lots = await sumOpenLots(db, card.id, at, addDays(at, program.expiringSoonDays));
  return breakdownOf(card, program, at, lots);
}

/** True when expiry after inactivity has taken every lot of the card by `at`. */
export function pointsAllExpired(card: Card, program: Program, at: Date): boolean {
  return (
    program.pointsExpiry === "after_inactivity" &&
    addDays(card.lastActivityAt, program.pointsExpiryDays) <= at
  );
}

/**
 * pointsBreakdown from the sums of the card's open lots at `at` (null when
 * pointsAllExpired): the arithmetic alone, for callers that summed the lots
 * themselves.
 */
export function breakdownOf(
  card: Card,
  program: Program,
  at: Date,
  lots: OpenLotSums | null,
): PointsBreakdown {
  const expiringSoonUntil = addDays(at, program.expiringSoonDays);
  if (lots === null) {
    const balance = -card.pointsDebt;
    return { balance, available: balance, locked: 0n, expiringSoon: 0n, expiringSoonUntil };
  }
  const inactivityExpiry =
    program.pointsExpiry === "after_inactivity"
      ? addDays(card.lastActivityAt, program.pointsExpiryDays)
      : null;
  const available = lots.unlocked - card.pointsDebt;
  const expiringSoon =
    inactivityExpiry !== null && inactivityExpiry <= expiringSoonUntil
      ? lots.unlocked + lots.locked
      : lots.expiringSoon;
  return {
    balance: available + lots.locked,
    available,
    locked: lots.locked,
    expiringSoon,
    expiringSoonUntil,
  };
}
