import { sql, type CommonQueryMethods } from "@money/db";
import { findCurrency } from "@money/money";
import type { LoyaltyTransaction, TransactionType } from "../domain/transactions/loyalty-transaction.js";

interface TransactionRow {
  id: string;
  seq: string;
  type: TransactionType;
  merchant_id: string;
  store_id: string | null;
  card_id: string;
  staff_id: string | null;
  acting_terminal_device_id: string | null;
  principal_id: string;
  principal_role: string;
  ip: string | null;
  user_agent: string | null;
  order_reference: string | null;
  currency: string | null;
  purchase_amount_minor: string | null;
  refunded_amount_minor: string | null;
  reward_code: string | null;
  reward_name: string | null;
  notes: string | null;
  related_transaction_id: string | null;
  saga_id: string | null;
  transaction_at: Date;
  stamps_delta: number;
  points_delta: string;
  stamps_balance_after: number;
  points_balance_after: string;
  stamps_cancelled: number;
  points_cancelled: string;
  points_already_expired: string;
  points_forgiven: string;
  lot_id: string | null;
}

const bigintOrNull = (text: string | null) => (text === null ? null : BigInt(text));

function toTransaction(row: TransactionRow): LoyaltyTransaction {
  return {
    id: row.id,
    type: row.type,
    merchantId: row.merchant_id,
    storeId: row.store_id,
    cardId: row.card_id,
    staffId: row.staff_id,
    actingTerminalDeviceId: row.acting_terminal_device_id,
    principalId: row.principal_id,
    principalRole: row.principal_role,
    ip: row.ip,
    userAgent: row.user_agent,
    orderReference: row.order_reference,
    currency: row.currency === null ? null : findCurrency(row.currency.trim())!,
    purchaseAmountMinor: bigintOrNull(row.purchase_amount_minor),
    refundedAmountMinor: bigintOrNull(row.refunded_amount_minor),
    rewardCode: row.reward_code,
    rewardName: row.reward_name,
    notes: row.notes,
    relatedTransactionId: row.related_transaction_id,
    sagaId: row.saga_id,
    transactionAt: row.transaction_at,
    stampsDelta: row.stamps_delta,
    pointsDelta: BigInt(row.points_delta),
    stampsBalanceAfter: row.stamps_balance_after,
    pointsBalanceAfter: BigInt(row.points_balance_after),
    stampsCancelled: row.stamps_cancelled,
    pointsCancelled: BigInt(row.points_cancelled),
    pointsAlreadyExpired: BigInt(row.points_already_expired),
    pointsForgiven: BigInt(row.points_forgiven),
    lotId: row.lot_id,
  };
}

export async function insertTransaction(db: CommonQueryMethods, t: LoyaltyTransaction): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO loyalty_transactions (
      id, type, merchant_id, store_id, card_id, staff_id, acting_terminal_device_id, principal_id, principal_role,
      ip, user_agent, order_reference, currency, purchase_amount_minor, refunded_amount_minor, reward_code,
      reward_name, notes, related_transaction_id, saga_id, transaction_at, stamps_delta, points_delta,
      stamps_balance_after, points_balance_after, stamps_cancelled, points_cancelled, points_already_expired,
      points_forgiven, lot_id)
    VALUES (
      ${t.id}, ${t.type}, ${t.merchantId}, ${t.storeId}, ${t.cardId}, ${t.staffId}, ${t.actingTerminalDeviceId},
      ${t.principalId}, ${t.principalRole}, ${t.ip}, ${t.userAgent}, ${t.orderReference},
      ${t.currency?.code ?? null}, ${t.purchaseAmountMinor}, ${t.refundedAmountMinor}, ${t.rewardCode},
      ${t.rewardName}, ${t.notes}, ${t.relatedTransactionId}, ${t.sagaId}, ${sql.timestamp(t.transactionAt)},
      ${t.stampsDelta}, ${t.pointsDelta}, ${t.stampsBalanceAfter}, ${t.pointsBalanceAfter}, ${t.stampsCancelled},
      ${t.pointsCancelled}, ${t.pointsAlreadyExpired}, ${t.pointsForgiven}, ${t.lotId})
  `);
}

export async function findTransaction(
  db: CommonQueryMethods,
  id: string,
): Promise<LoyaltyTransaction | null> {
  const row = await db.maybeOne(sql.unsafe`SELECT * FROM loyalty_transactions WHERE id = ${id}`);
  return row ? toTransaction(row as unknown as TransactionRow) : null;
}

/** The one POINTS_EARNED row of an order, if any. */
export async function findEarnForOrder(
  db: CommonQueryMethods,
  merchantId: string,
  orderReference: string,
): Promise<LoyaltyTransaction | null> {
  const row = await db.maybeOne(sql.unsafe`
    SELECT * FROM loyalty_transactions
    WHERE merchant_id = ${merchantId} AND order_reference = ${orderReference} AND type = 'points_earned'
  `);
  return row ? toTransaction(row as unknown as TransactionRow) : null;
}

/** How much of a transaction the voids and reversals posted so far have cancelled. */
export interface Cancellations {
  stamps: number;
  points: bigint;
  pointsAlreadyExpired: bigint;
  /** Reversals only: the refunded amounts they were posted for, in minor units. */
  refundedMinor: bigint;
}

export async function sumCancellations(db: CommonQueryMethods, relatedId: string): Promise<Cancellations> {
  const row = await db.one(sql.unsafe`
    SELECT coalesce(sum(stamps_cancelled), 0) AS stamps, coalesce(sum(points_cancelled), 0) AS points,
           coalesce(sum(points_already_expired), 0) AS already_expired,
           coalesce(sum(refunded_amount_minor), 0) AS refunded
    FROM loyalty_transactions WHERE related_transaction_id = ${relatedId}
  `);
  return {
    stamps: Number(row["stamps"]),
    points: BigInt(row["points"] as string),
    pointsAlreadyExpired: BigInt(row["already_expired"] as string),
    refundedMinor: BigInt(row["refunded"] as string),
  };
}

export type TransactionSubject =
  | { cardId: string }
  | { storeId: string }
  | { merchantId: string }
  | { deviceId: string }
  | { staffId: string };

export interface TransactionPageQuery {
  subject: TransactionSubject;
  from: Date | null;
  to: Date | null;
  /** Keyset: the last row of the previous page. */
  after: { transactionAt: Date; seq: bigint } | null;
  limit: number;
}

function subjectCondition(subject: TransactionSubject) {
  if ("cardId" in subject) return sql.fragment`card_id = ${subject.cardId}`;
  if ("storeId" in subject) return sql.fragment`store_id = ${subject.storeId}`;
  if ("merchantId" in subject) return sql.fragment`merchant_id = ${subject.merchantId}`;
  if ("deviceId" in subject) return sql.fragment`acting_terminal_device_id = ${subject.deviceId}`;
  return sql.fragment`staff_id = ${subject.staffId}`;
}

/** Newest first, by (transaction_at, seq): stable under concurrent inserts of the same instant. */
export async function listTransactions(
  db: CommonQueryMethods,
  query: TransactionPageQuery,
): Promise<{ transactions: LoyaltyTransaction[]; seqs: bigint[] }> {
  const conditions = [subjectCondition(query.subject)];
  if (query.from) conditions.push(sql.fragment`transaction_at >= ${sql.timestamp(query.from)}`);
  if (query.to) conditions.push(sql.fragment`transaction_at < ${sql.timestamp(query.to)}`);
  if (query.after) {
    conditions.push(
      sql.fragment`(transaction_at, seq) < (${sql.timestamp(query.after.transactionAt)}, ${query.after.seq})`,
    );
  }
  const rows = await db.any(sql.unsafe`
    SELECT * FROM loyalty_transactions WHERE ${sql.join(conditions, sql.fragment` AND `)}
    ORDER BY transaction_at DESC, seq DESC
    LIMIT ${query.limit}
  `);
  const typed = rows as unknown as TransactionRow[];
  return { transactions: typed.map(toTransaction), seqs: typed.map((r) => BigInt(r.seq)) };
}
