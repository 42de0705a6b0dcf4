import { randomUUID } from "node:crypto";
import type { DatabaseTransactionConnection } from "@money/db";
import { findCurrency, parseAmount, proportionalShare } from "@money/money";
import { findLotOfTransaction } from "../../db/lots-table.js";
import { findEarnForOrder, sumCancellations } from "../../db/transactions-table.js";
import { merchantFor, type Acting } from "../acting.js";
import { openCardForPosting } from "../cards/open-card.js";
import { requireText } from "../ids.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import { LoyaltyError } from "../loyalty-error.js";
import type { LoyaltyTransaction } from "../transactions/loyalty-transaction.js";
import { postTransaction } from "../transactions/post-transaction.js";
import { cancelEarnedPoints } from "./points-lots.js";

export interface ReverseForOrder {
  merchantId: string;
  orderReference: string;
  /** Decimal strings in `currency`: this refund, and the order's full amount. */
  refundedAmount: string;
  originalPurchaseAmount: string;
  currency: string;
  sagaId: string;
}

/** The participant's reply: a closed set of outcomes, never an exception for a business result. */
export type ReversalOutcome =
  "reversed" | "reversed_with_negative_balance" | "reversed_with_shortfall" | "nothing_to_reverse";

export interface Reversal {
  outcome: ReversalOutcome;
  /** The POINTS_REVERSED row; null when the order earned nothing here. */
  transaction: LoyaltyTransaction | null;
  /** = reversed + alreadyExpired + forgiven. */
  pointsCancelled: bigint;
  pointsReversed: bigint;
  pointsAlreadyExpired: bigint;
  pointsForgiven: bigint;
  orderPointsEarned: bigint;
  orderPointsCancelled: bigint;
  pointsBalanceAfter: bigint;
}

/**
 * The refunds saga's step: cancels the points an order earned in proportion
 * to what has been refunded of it. Each refund records its amount, and the
 * order's cancelled points are brought up to
 * floor(earned × refunded so far / purchase), so any sequence of partial
 * refunds cancels at most what the order earned, and exactly that once it
 * is refunded in full. Points already cancelled by POS voids count towards
 * the share. How the points come off (own lot, already expired, the rest of
 * the card, the shortfall policy) is cancelEarnedPoints's rule.
 *
 * Callable from an RPC (inside runIdempotent) or an event handler (inside
 * the inbox's transaction): it only needs the transaction it is given.
 *
 * Errors: INVALID_ARGUMENT, UNKNOWN_CURRENCY, INVALID_AMOUNT,
 * PERMISSION_DENIED, CURRENCY_MISMATCH, ORDER_AMOUNT_MISMATCH (the order's
 * recorded purchase differs), REFUND_EXCEEDS_PURCHASE (refunds add up to
 * more than the purchase).
 */
export async function reverseForOrder(
  tx: DatabaseTransactionConnection,
  deps: LoyaltyDeps,
  command: ReverseForOrder,
  acting: Acting,
): Promise<Reversal> {
  const merchantId = merchantFor(acting, command.merchantId);
  const orderReference = requireText("order_reference", command.orderReference, 100);
  const sagaId = requireText("saga_id", command.sagaId, 100);
  const currency = findCurrency(command.currency);
  if (!currency)
    throw new LoyaltyError(
      "UNKNOWN_CURRENCY",
      `currency ${JSON.stringify(command.currency)} is not supported`,
    );
  const refunded = parseAmount(command.refundedAmount, currency);
  if (!refunded.ok) {
    throw new LoyaltyError(
      "INVALID_AMOUNT",
      `refunded_amount ${JSON.stringify(command.refundedAmount)}: ${refunded.problem}`,
    );
  }
  const purchase = parseAmount(command.originalPurchaseAmount, currency);
  if (!purchase.ok) {
    throw new LoyaltyError(
      "INVALID_AMOUNT",
      `original_purchase_amount ${JSON.stringify(command.originalPurchaseAmount)}: ${purchase.problem}`,
    );
  }
  const earn = await findEarnForOrder(tx, merchantId, orderReference);
  if (!earn) return nothingEarned();
  if (earn.currency?.code !== currency.code) {
    throw new LoyaltyError("CURRENCY_MISMATCH", `order ${orderReference} was paid in ${earn.currency?.code}`);
  }
  if (earn.purchaseAmountMinor !== purchase.minor) {
    throw new LoyaltyError(
      "ORDER_AMOUNT_MISMATCH",
      `order ${orderReference} earned on a purchase of ${earn.purchaseAmountMinor} minor units, not ${purchase.minor}`,
    );
  }
  const { card, program, at } = await openCardForPosting(tx, deps, earn.cardId, acting);
  const before = await sumCancellations(tx, earn.id);
  const refundedSoFar = before.refundedMinor + refunded.minor;
  if (refundedSoFar > purchase.minor) {
    throw new LoyaltyError(
      "REFUND_EXCEEDS_PURCHASE",
      `refunds of order ${orderReference} would add up to ${refundedSoFar} minor units, more than its ${purchase.minor}`,
    );
  }
  const earned = earn.pointsDelta;
  const share = proportionalShare(earned, refundedSoFar, purchase.minor);
  const points = share > before.points ? share - before.points : 0n;
  const lot = points > 0n ? await findLotOfTransaction(tx, earn.id) : null;
  const id = randomUUID();
  const cancelled = lot
    ? await cancelEarnedPoints(tx, card, program, {
        lot,
        points,
        alreadyExpiredBefore: before.pointsAlreadyExpired,
        transactionId: id,
        at,
      })
    : { card, alreadyExpired: 0n, forgiven: 0n };
  // Posted even when the share rounds to nothing: the refunded amount must
  // count towards the next refund's share.
  const posted = await postTransaction(
    tx,
    deps,
    {
      id,
      type: "points_reversed",
      before: card,
      after: cancelled.card,
      at,
      details: {
        relatedTransactionId: earn.id,
        orderReference,
        currency,
        refundedAmountMinor: refunded.minor,
        sagaId,
        pointsCancelled: points,
        pointsAlreadyExpired: cancelled.alreadyExpired,
        pointsForgiven: cancelled.forgiven,
      },
    },
    acting,
  );
  const reversed = -posted.transaction.pointsDelta;
  return {
    outcome:
      points === 0n
        ? "nothing_to_reverse"
        : cancelled.forgiven > 0n
          ? "reversed_with_shortfall"
          : cancelled.card.pointsDebt > card.pointsDebt
            ? "reversed_with_negative_balance"
            : "reversed",
    transaction: posted.transaction,
    pointsCancelled: points,
    pointsReversed: reversed,
    pointsAlreadyExpired: cancelled.alreadyExpired,
    pointsForgiven: cancelled.forgiven,
    orderPointsEarned: earned,
    orderPointsCancelled: before.points + points,
    pointsBalanceAfter: posted.card.pointsBalance,
  };
}

function nothingEarned(): Reversal {
  return {
    outcome: "nothing_to_reverse",
    transaction: null,
    pointsCancelled: 0n,
    pointsReversed: 0n,
    pointsAlreadyExpired: 0n,
    pointsForgiven: 0n,
    orderPointsEarned: 0n,
    orderPointsCancelled: 0n,
    pointsBalanceAfter: 0n,
  };
}
