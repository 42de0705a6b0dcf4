import { sql, type CommonQueryMethods } from "@money/db";

/** A lot of points on a card; all changes happen under the card's row lock. */
export interface PointsLot {
  id: string;
  cardId: string;
  sourceTransactionId: string;
  originalPoints: bigint;
  remainingPoints: bigint;
  expiredPoints: bigint;
  voidedPoints: bigint;
  earnedAt: Date;
  availableAt: Date;
  expiresAt: Date | null;
  expiredAt: Date | null;
}

interface LotRow {
  id: string;
  card_id: string;
  source_transaction_id: string;
  original_points: string;
  remaining_points: string;
  expired_points: string;
  voided_points: string;
  earned_at: Date;
  available_at: Date;
  expires_at: Date | null;
  expired_at: Date | null;
}

function toLot(row: LotRow): PointsLot {
  return {
    id: row.id,
    cardId: row.card_id,
    sourceTransactionId: row.source_transaction_id,
    originalPoints: BigInt(row.original_points),
    remainingPoints: BigInt(row.remaining_points),
    expiredPoints: BigInt(row.expired_points),
    voidedPoints: BigInt(row.voided_points),
    earnedAt: row.earned_at,
    availableAt: row.available_at,
    expiresAt: row.expires_at,
    expiredAt: row.expired_at,
  };
}

/** A change of one lot by one posting. */
export interface LotMovement {
  transactionId: string;
  lotId: string;
  /** Negative: spent, clawed back, expired, paid a debt. Positive: restored by a voided redemption. */
  points: bigint;
}

/** A lot as a crediting posting inserts it. */
export type NewLot = Omit<PointsLot, "expiredPoints" | "voidedPoints" | "expiredAt">;

export async function insertLot(db: CommonQueryMethods, lot: NewLot): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO points_lots (id, card_id, source_transaction_id, original_points, remaining_points, earned_at,
                             available_at, expires_at)
    VALUES (${lot.id}, ${lot.cardId}, ${lot.sourceTransactionId}, ${lot.originalPoints}, ${lot.remainingPoints},
            ${sql.timestamp(lot.earnedAt)}, ${sql.timestamp(lot.availableAt)},
            ${lot.expiresAt ? sql.timestamp(lot.expiresAt) : null})
  `);
}

export async function insertMovements(
  db: CommonQueryMethods,
  movements: readonly LotMovement[],
): Promise<void> {
  if (movements.length === 0) return;
  await db.query(sql.unsafe`
    INSERT INTO lot_movements (transaction_id, lot_id, points_delta)
    SELECT * FROM ${sql.unnest(
      movements.map((m) => [m.transactionId, m.lotId, m.points.toString()]),
      ["uuid", "uuid", "int8"],
    )}
  `);
}

/** Adds each delta to the lot's remaining points. */
export async function moveRemaining(
  db: CommonQueryMethods,
  movements: readonly LotMovement[],
): Promise<void> {
  if (movements.length === 0) return;
  await db.query(sql.unsafe`
    UPDATE points_lots l SET remaining_points = l.remaining_points + m.points
    FROM ${sql.unnest(
      movements.map((m) => [m.lotId, m.points.toString()]),
      ["uuid", "int8"],
    )} AS m(lot_id, points)
    WHERE l.id = m.lot_id
  `);
}

/**
 * The open lots that cover `needed` points, soonest-expiring first (never-
 * expiring lots last, then oldest): the prefix of the FIFO order whose
 * running total first reaches `needed`, or every lot when they do not.
 */
export async function findLotsToSpend(
  db: CommonQueryMethods,
  cardId: string,
  needed: bigint,
  at: Date,
  unlockedOnly: boolean,
): Promise<PointsLot[]> {
  const rows = await db.any(sql.unsafe`
    SELECT * FROM (
      SELECT *, sum(remaining_points) OVER (ORDER BY expires_at, earned_at, id) - remaining_points AS before
      FROM points_lots
      WHERE card_id = ${cardId} AND remaining_points > 0
        AND (expires_at IS NULL OR expires_at > ${sql.timestamp(at)})
        ${unlockedOnly ? sql.fragment`AND available_at <= ${sql.timestamp(at)}` : sql.fragment``}
    ) l
    WHERE before < ${needed}
    ORDER BY expires_at, earned_at, id
  `);
  return (rows as unknown as LotRow[]).map(toLot);
}

/** Lots with points whose expiry date has come; `allOpen` for expiry after inactivity. */
export async function findLotsDue(
  db: CommonQueryMethods,
  cardId: string,
  at: Date,
  allOpen: boolean,
): Promise<PointsLot[]> {
  const rows = await db.any(sql.unsafe`
    SELECT * FROM points_lots
    WHERE card_id = ${cardId} AND remaining_points > 0
      ${allOpen ? sql.fragment`` : sql.fragment`AND expires_at <= ${sql.timestamp(at)}`}
    ORDER BY expires_at, earned_at, id
  `);
  return (rows as unknown as LotRow[]).map(toLot);
}

export async function markLotExpired(db: CommonQueryMethods, lotId: string, at: Date): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE points_lots
    SET expired_points = expired_points + remaining_points, remaining_points = 0, expired_at = ${sql.timestamp(at)}
    WHERE id = ${lotId}
  `);
}

/** Spent points handed back after their lot expired: they stay gone, as expired. */
export async function countAsExpired(db: CommonQueryMethods, lotId: string, points: bigint): Promise<void> {
  await db.query(
    sql.unsafe`UPDATE points_lots SET expired_points = expired_points + ${points} WHERE id = ${lotId}`,
  );
}

export async function voidFromLot(db: CommonQueryMethods, lotId: string, points: bigint): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE points_lots SET remaining_points = remaining_points - ${points}, voided_points = voided_points + ${points}
    WHERE id = ${lotId}
  `);
}

export async function findLotOfTransaction(
  db: CommonQueryMethods,
  transactionId: string,
): Promise<PointsLot | null> {
  const row = await db.maybeOne(
    sql.unsafe`SELECT * FROM points_lots WHERE source_transaction_id = ${transactionId}`,
  );
  return row ? toLot(row as unknown as LotRow) : null;
}

/** The lots a posting spent, in the order it spent them, with how much it took from each. */
export async function findLotsSpentBy(
  db: CommonQueryMethods,
  transactionId: string,
): Promise<{ lot: PointsLot; spent: bigint }[]> {
  const rows = await db.any(sql.unsafe`
    SELECT l.*, -m.points_delta AS spent
    FROM lot_movements m JOIN points_lots l ON l.id = m.lot_id
    WHERE m.transaction_id = ${transactionId} AND m.points_delta < 0
    ORDER BY l.expires_at, l.earned_at, l.id
  `);
  return (rows as unknown as (LotRow & { spent: string })[]).map((r) => ({
    lot: toLot(r),
    spent: BigInt(r.spent),
  }));
}

/** Sums of a card's unexpired lots at `at`: unlocked, locked, and expiring by `soonUntil`. */
export async function sumOpenLots(
  db: CommonQueryMethods,
  cardId: string,
  at: Date,
  soonUntil: Date,
): Promise<{ unlocked: bigint; locked: bigint; expiringSoon: bigint }> {
  const row = await db.one(sql.unsafe`
    SELECT coalesce(sum(remaining_points) FILTER (WHERE available_at <= ${sql.timestamp(at)}), 0) AS unlocked,
           coalesce(sum(remaining_points) FILTER (WHERE available_at > ${sql.timestamp(at)}), 0) AS locked,
           coalesce(sum(remaining_points) FILTER (WHERE expires_at <= ${sql.timestamp(soonUntil)}), 0) AS expiring
    FROM points_lots
    WHERE card_id = ${cardId} AND remaining_points > 0 AND (expires_at IS NULL OR expires_at > ${sql.timestamp(at)})
  `);
  return {
    unlocked: BigInt(row["unlocked"] as string),
    locked: BigInt(row["locked"] as string),
    expiringSoon: BigInt(row["expiring"] as string),
  };
}
