import { sql, type CommonQueryMethods } from "@money/db";
import type { Card, CardStatus } from "../domain/cards/card.js";

export interface CardRow {
  id: string;
  merchant_id: string;
  customer_ref: string;
  card_number: string;
  qr_payload: string;
  status: CardStatus;
  status_reason: string;
  stamps: number;
  points_balance: string;
  points_debt: string;
  last_stamp_at: Date | null;
  last_activity_at: Date;
  enrolled_at: Date;
  version: string;
}

export function toCard(row: CardRow): Card {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    customerRef: row.customer_ref,
    cardNumber: row.card_number,
    qrPayload: row.qr_payload,
    status: row.status,
    statusReason: row.status_reason,
    stamps: row.stamps,
    pointsBalance: BigInt(row.points_balance),
    pointsDebt: BigInt(row.points_debt),
    lastStampAt: row.last_stamp_at,
    lastActivityAt: row.last_activity_at,
    enrolledAt: row.enrolled_at,
    version: BigInt(row.version),
  };
}

/** Inserts the card, or returns null when its number or QR payload is taken at the merchant. */
export async function insertCard(
  db: CommonQueryMethods,
  card: Pick<Card, "id" | "merchantId" | "customerRef" | "cardNumber" | "qrPayload" | "enrolledAt">,
): Promise<Card | null> {
  const row = await db.maybeOne(sql.unsafe`
    INSERT INTO cards (id, merchant_id, customer_ref, card_number, qr_payload, enrolled_at, last_activity_at)
    VALUES (${card.id}, ${card.merchantId}, ${card.customerRef}, ${card.cardNumber}, ${card.qrPayload},
            ${sql.timestamp(card.enrolledAt)}, ${sql.timestamp(card.enrolledAt)})
    ON CONFLICT DO NOTHING
    RETURNING *
  `);
  return row ? toCard(row as unknown as CardRow) : null;
}

export async function findCard(db: CommonQueryMethods, id: string): Promise<Card | null> {
  const row = await db.maybeOne(sql.unsafe`SELECT * FROM cards WHERE id = ${id}`);
  return row ? toCard(row as unknown as CardRow) : null;
}

/**
 * The card row, locked until the transaction ends. Every posting on a card
 * takes this lock first, so postings on one card run one after another and
 * its lots change only under it.
 */
export async function lockCard(db: CommonQueryMethods, id: string): Promise<Card | null> {
  const row = await db.maybeOne(sql.unsafe`SELECT * FROM cards WHERE id = ${id} FOR UPDATE`);
  return row ? toCard(row as unknown as CardRow) : null;
}

/**
 * lockCard for a posting, which also learns its program's version and
 * whether any of the card's lots expires by `horizon`: most postings then
 * need neither the program row nor a look at the lots. With
 * `orderReference`, it first takes that order's advisory lock (held until
 * the transaction ends), so that two earns of one order, on any cards,
 * check for each other one at a time; no lock is taken after a card's, so
 * this order of locks cannot deadlock.
 */
export async function lockCardForPosting(
  db: CommonQueryMethods,
  id: string,
  horizon: Date,
  orderReference: string | null,
): Promise<{ card: Card; programVersion: bigint; lotsDueBy: boolean } | null> {
  const orderLock =
    orderReference === null
      ? sql.fragment``
      : sql.fragment`, pg_advisory_xact_lock(hashtextextended('loyalty-order:' || c.merchant_id || ':' || ${orderReference}, 0))`;
  const row = await db.maybeOne(sql.unsafe`
    SELECT c.*, p.version AS program_version,
           EXISTS (
             SELECT FROM points_lots l
             WHERE l.card_id = c.id AND l.remaining_points > 0 AND l.expires_at <= ${sql.timestamp(horizon)}
           ) AS lots_due_by
           ${orderLock}
    FROM cards c JOIN programs p USING (merchant_id)
    WHERE c.id = ${id}
    FOR UPDATE OF c
  `);
  if (!row) return null;
  return {
    card: toCard(row as unknown as CardRow),
    programVersion: BigInt(row["program_version"] as string),
    lotsDueBy: row["lots_due_by"] as boolean,
  };
}

export async function findCardByKey(
  db: CommonQueryMethods,
  merchantId: string,
  key: { cardNumber: string } | { qrPayload: string },
): Promise<Card | null> {
  const where =
    "cardNumber" in key
      ? sql.fragment`card_number = ${key.cardNumber}`
      : sql.fragment`qr_payload = ${key.qrPayload}`;
  const row = await db.maybeOne(
    sql.unsafe`SELECT * FROM cards WHERE merchant_id = ${merchantId} AND ${where}`,
  );
  return row ? toCard(row as unknown as CardRow) : null;
}

/** Writes a posting's effect on the card: balances, status and the version. */
export async function updateCard(db: CommonQueryMethods, card: Card): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE cards SET
      status = ${card.status}, status_reason = ${card.statusReason}, stamps = ${card.stamps},
      points_balance = ${card.pointsBalance}, points_debt = ${card.pointsDebt},
      last_stamp_at = ${card.lastStampAt ? sql.timestamp(card.lastStampAt) : null},
      last_activity_at = ${sql.timestamp(card.lastActivityAt)}, version = ${card.version}
    WHERE id = ${card.id}
  `);
}

/**
 * Cards with points due to expire at `at`: a lot past its date, or a card
 * idle past its program's inactivity limit. In id order, so a batch locks
 * its cards in one fixed order.
 */
export async function findCardsWithPointsDue(
  db: CommonQueryMethods,
  merchantId: string | undefined,
  at: Date,
  limit: number,
): Promise<string[]> {
  const ofMerchant = (alias: string) =>
    merchantId === undefined
      ? sql.fragment``
      : sql.fragment`AND ${sql.identifier([alias, "merchant_id"])} = ${merchantId}`;
  const rows = await db.anyFirst(sql.unsafe`
    SELECT id FROM (
      SELECT l.card_id AS id FROM points_lots l JOIN cards c ON c.id = l.card_id
      WHERE l.remaining_points > 0 AND l.expires_at <= ${sql.timestamp(at)} ${ofMerchant("c")}
      UNION
      SELECT c.id FROM cards c JOIN programs p USING (merchant_id)
      WHERE p.points_expiry = 'after_inactivity' AND c.points_balance + c.points_debt > 0
        AND c.last_activity_at + make_interval(days => p.points_expiry_days) <= ${sql.timestamp(at)} ${ofMerchant("c")}
    ) due
    ORDER BY id
    LIMIT ${limit}
  `);
  return rows as string[];
}
