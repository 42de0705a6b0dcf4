import { sql, type CommonQueryMethods } from "@money/db";
import { findProgram } from "../../db/programs-table.js";
import { findStore } from "../../db/stores-table.js";
import { assertActsFor, type Acting } from "../acting.js";
import { requireId } from "../ids.js";
import { LoyaltyError } from "../loyalty-error.js";
import type { Program } from "../programs/program.js";
import type { Store } from "../stores/store.js";

export interface StoreDailySummary {
  store: Store;
  program: Program;
  businessDate: string;
  transactions: bigint;
  cards: bigint;
  cardsEnrolled: bigint;
  stampsAdded: bigint;
  stampRewardsRedeemed: bigint;
  pointsEarned: bigint;
  pointsRedeemed: bigint;
  /** Points taken back by voids and reversals posted at the store. */
  pointsVoided: bigint;
  /** Minor units: purchases of the day's POINTS_EARNED rows. */
  purchaseTotalMinor: bigint;
}

const DATE = /^\d{4}-\d\d-\d\d$/;

/**
 * Totals of one store for one business day, midnight to midnight in the
 * store's time zone (23 or 25 hours on daylight-saving days).
 *
 * Errors: INVALID_ARGUMENT, STORE_NOT_FOUND, PERMISSION_DENIED.
 */
export async function storeDailySummary(
  db: CommonQueryMethods,
  query: { storeId: string; businessDate: string },
  acting: Acting,
): Promise<StoreDailySummary> {
  const storeId = requireId("store_id", query.storeId);
  if (!DATE.test(query.businessDate) || Number.isNaN(Date.parse(query.businessDate))) {
    throw new LoyaltyError("INVALID_ARGUMENT", "business_date must be YYYY-MM-DD");
  }
  const store = await findStore(db, storeId);
  if (!store) throw new LoyaltyError("STORE_NOT_FOUND", `no store ${storeId}`);
  assertActsFor(acting, store.merchantId);
  const row = await db.one(sql.unsafe`
    SELECT count(*) AS transactions,
           count(DISTINCT card_id) AS cards,
           count(*) FILTER (WHERE type = 'card_enrolled') AS cards_enrolled,
           coalesce(sum(stamps_delta) FILTER (WHERE type = 'stamp_added'), 0) AS stamps_added,
           count(*) FILTER (WHERE type = 'stamps_redeemed') AS stamp_rewards_redeemed,
           coalesce(sum(points_delta) FILTER (WHERE type = 'points_earned'), 0) AS points_earned,
           coalesce(-sum(points_delta) FILTER (WHERE type = 'points_redeemed'), 0) AS points_redeemed,
           coalesce(-sum(points_delta) FILTER (WHERE type IN ('points_voided', 'points_reversed') AND points_delta < 0), 0)
             AS points_voided,
           coalesce(sum(purchase_amount_minor) FILTER (WHERE type = 'points_earned'), 0) AS purchase_total_minor
    FROM loyalty_transactions
    WHERE store_id = ${storeId}
      AND transaction_at >= (${query.businessDate}::date::timestamp AT TIME ZONE ${store.timeZone})
      AND transaction_at < ((${query.businessDate}::date + 1)::timestamp AT TIME ZONE ${store.timeZone})
  `);
  const n = (column: string) => BigInt(row[column] as string);
  return {
    store,
    program: (await findProgram(db, store.merchantId))!,
    businessDate: query.businessDate,
    transactions: n("transactions"),
    cards: n("cards"),
    cardsEnrolled: n("cards_enrolled"),
    stampsAdded: n("stamps_added"),
    stampRewardsRedeemed: n("stamp_rewards_redeemed"),
    pointsEarned: n("points_earned"),
    pointsRedeemed: n("points_redeemed"),
    pointsVoided: n("points_voided"),
    purchaseTotalMinor: n("purchase_total_minor"),
  };
}
