import { randomUUID } from "node:crypto";
import type { DatabaseTransactionConnection } from "@money/db";
import { findCurrency, formatAmount, multiplyToInteger, parseAmount, type Currency } from "@money/money";
import { findEarnForOrder } from "../../db/transactions-table.js";
import type { Acting } from "../acting.js";
import { chargeDailyCaps } from "../cards/daily-caps.js";
import { assertCardActive, openCardForPosting, viewCard } from "../cards/open-card.js";
import type { Posted } from "../cards/posted.js";
import { requireText } from "../ids.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import { LoyaltyError } from "../loyalty-error.js";
import type { Program } from "../programs/program.js";
import type { Store } from "../stores/store.js";
import { postTransaction } from "../transactions/post-transaction.js";
import { creditPoints } from "./points-lots.js";

export interface EarnPoints {
  cardId: string;
  orderReference: string;
  /** Decimal string in `currency`. */
  purchaseAmount: string;
  currency: string;
  notes: string;
}

/**
 * Posts the points a purchase earns: amount × the store's (else the
 * program's) points per unit, rounded by the program's rule, as a new lot.
 *
 * Once per (merchant, order reference): the same order again for the same
 * card and amount returns the original posting (a POS retrying under a new
 * key gets what the first attempt did); for another card or amount it is
 * refused. The order's advisory lock makes two such calls take turns, and
 * a unique index on the order stands behind it.
 *
 * Errors: INVALID_ARGUMENT, UNKNOWN_CURRENCY, INVALID_AMOUNT, CARD_NOT_FOUND,
 * PERMISSION_DENIED, ORDER_ALREADY_EARNED, CARD_INACTIVE, CURRENCY_MISMATCH,
 * BELOW_MINIMUM_SPEND, DAILY_CAP_REACHED.
 */
export async function earnPoints(
  tx: DatabaseTransactionConnection,
  deps: LoyaltyDeps,
  command: EarnPoints,
  acting: Acting,
): Promise<Posted> {
  const { orderReference, currency, amountMinor } = parsePurchase(command);
  const { card, program, at } = await openCardForPosting(tx, deps, command.cardId, acting, {
    orderReference,
  });

  const earlier = await findEarnForOrder(tx, card.merchantId, orderReference);
  if (earlier) {
    if (
      earlier.cardId !== card.id ||
      earlier.purchaseAmountMinor !== amountMinor ||
      earlier.currency?.code !== currency.code
    ) {
      throw new LoyaltyError(
        "ORDER_ALREADY_EARNED",
        `order ${orderReference} already earned points as transaction ${earlier.id}, for another card or amount`,
      );
    }
    return { transaction: earlier, card: await viewCard(tx, card, program, at) };
  }
  assertCardActive(card);
  const points = pointsForPurchase(program, acting.store, currency, amountMinor);
  await chargeDailyCaps(tx, program, card, acting, at, { stamps: 0, points });

  const id = randomUUID();
  // A purchase too small to earn a whole point still claims its order.
  const credited =
    points > 0n
      ? await creditPoints(tx, card, program, { transactionId: id, points, at, fromPurchase: true })
      : null;
  const posted = await postTransaction(
    tx,
    deps,
    {
      id,
      type: "points_earned",
      before: card,
      after: { ...(credited?.card ?? card), lastActivityAt: at },
      at,
      details: {
        orderReference,
        currency,
        purchaseAmountMinor: amountMinor,
        notes: command.notes,
        lotId: credited?.lotId ?? null,
      },
    },
    acting,
  );
  return { transaction: posted.transaction, card: await viewCard(tx, posted.card, program, at) };
}

/**
 * The request's order, currency and amount in minor units.
 *
 * Errors: INVALID_ARGUMENT, UNKNOWN_CURRENCY, INVALID_AMOUNT.
 */
export function parsePurchase(command: EarnPoints): {
  orderReference: string;
  currency: Currency;
  amountMinor: bigint;
} {
  const orderReference = requireText("order_reference", command.orderReference, 100);
  requireText("notes", command.notes, 500, false);
  const currency = findCurrency(command.currency);
  if (!currency)
    throw new LoyaltyError(
      "UNKNOWN_CURRENCY",
      `currency ${JSON.stringify(command.currency)} is not supported`,
    );
  const amount = parseAmount(command.purchaseAmount, currency);
  if (!amount.ok) {
    throw new LoyaltyError(
      "INVALID_AMOUNT",
      `purchase_amount ${JSON.stringify(command.purchaseAmount)}: ${amount.problem}`,
    );
  }
  return { orderReference, currency, amountMinor: amount.minor };
}

/**
 * The points a purchase earns: amount × the store's (else the program's)
 * points per unit, rounded by the program's rule.
 *
 * Errors: CURRENCY_MISMATCH, BELOW_MINIMUM_SPEND.
 */
export function pointsForPurchase(
  program: Program,
  store: Store | null,
  currency: Currency,
  amountMinor: bigint,
): bigint {
  if (currency.code !== program.currency.code) {
    throw new LoyaltyError(
      "CURRENCY_MISMATCH",
      `the program earns on ${program.currency.code} purchases, not ${currency.code}`,
    );
  }
  if (amountMinor < program.minimumSpendMinor) {
    throw new LoyaltyError(
      "BELOW_MINIMUM_SPEND",
      `purchases below ${formatAmount(program.minimumSpendMinor, currency)} ${currency.code} earn no points`,
    );
  }
  const rate = store?.pointsPerUnitOverride ?? program.pointsPerUnit;
  return multiplyToInteger(formatAmount(amountMinor, currency), rate, program.pointsRounding);
}
