import { sql, type PipelinedTransaction } from "@money/db";
import type { OutboxInsert } from "@money/kafka";
import type { Card } from "../domain/cards/card.js";
import type { Store } from "../domain/stores/store.js";
import type { LoyaltyTransaction } from "../domain/transactions/loyalty-transaction.js";
import { toCard, type CardRow } from "./cards-table.js";
import type { OpenLotSums } from "../domain/points/points-lots.js";
import type { NewLot } from "./lots-table.js";
import { toStore } from "./stores-table.js";

// The two statements of a group commit (see domain/postings/posting-group-commit.ts),
// on a pipelined connection: the lookup goes out with BEGIN, the write with
// COMMIT. Each serves every posting of the batch at once, so a batch of N
// postings costs two round trips rather than N times a dozen. Rows travel as
// one JSON parameter per statement, read back with jsonb_to_recordset.

const json = (value: unknown) => sql.fragment`${JSON.stringify(value)}::jsonb`;
const iso = (at: Date | null) => (at === null ? null : at.toISOString());

/** What one posting of a batch found under its card's lock. */
export interface BatchLookup {
  /** The card, locked until the transaction ends; null when there is no such card. */
  card: Card | null;
  programVersion: bigint | null;
  /** Some lot of the card expires by the horizon (see lockCardForPosting). */
  lotsDueBy: boolean;
  /**
   * Some lot of the card unlocks by the horizon, or leaves "expiring soon"
   * within a minute of it: `lots` could be out of date by the time the
   * transaction commits.
   */
  lotBoundaryNear: boolean;
  /**
   * The card's row changed between the statement's snapshot and its lock (a
   * transaction that held the lock committed meanwhile): `lots` and
   * `lotsDueBy`, read from the snapshot, may miss that transaction's lots.
   */
  changedSinceSnapshot: boolean;
  /** The card's open lots at `at`, as sumOpenLots counts them (horizon of "expiring soon" from the program). */
  lots: OpenLotSums;
  /** The terminal's device with its store; null when there is no such device. */
  device: { id: string; merchantId: string; revoked: boolean; store: Store } | null;
  staff: { id: string; merchantId: string; pinVersion: number; pinLockedUntil: Date | null } | null;
}

/**
 * For each posting, in the order given: its card row locked (all cards in
 * id order, so two batches cannot deadlock), the program's version, the
 * card's open-lot sums at `at` and whether lots are due or near a boundary,
 * the device and its store, the staff member. The device and staff rows
 * are read in the posting's own transaction: a revocation or PIN lock
 * committed before this statement is seen. Earns first take their orders'
 * advisory locks (the lock lockCardForPosting takes), in one fixed order
 * and before any card lock; whether an order earned already is left to the
 * ledger's unique index, in writeBatch. Under READ COMMITTED the lots are
 * read from the statement's snapshot, taken before the locks: a card whose
 * row changed meanwhile says so (changedSinceSnapshot), and its posting
 * must not trust them.
 */
export async function lookUpBatch(
  tx: PipelinedTransaction,
  postings: readonly {
    cardId: string;
    deviceId: string;
    staffId: string;
    /** An earn's order, under the merchant of the terminal's token: its advisory lock is taken first. */
    order: { merchantId: string; orderReference: string } | null;
  }[],
  at: Date,
  horizon: Date,
): Promise<BatchLookup[]> {
  const items = postings.map((p, n) => ({
    n,
    card_id: p.cardId,
    device_id: p.deviceId,
    staff_id: p.staffId,
    order_key: p.order ? `loyalty-order:${p.order.merchantId}:${p.order.orderReference}` : null,
  }));
  const rows = await tx.query(
    sql.unsafe`
    WITH item AS (
      SELECT * FROM jsonb_to_recordset(${json(items)})
        AS i(n int, card_id uuid, device_id uuid, staff_id uuid, order_key text)
    ), order_locks AS MATERIALIZED (
      SELECT pg_advisory_xact_lock(k) FROM (
        SELECT DISTINCT hashtextextended(order_key, 0) AS k FROM item WHERE order_key IS NOT NULL ORDER BY k
      ) keys
    ), locked AS MATERIALIZED (
      -- The uncorrelated count runs first (an InitPlan): the order locks are
      -- taken before any card lock, as the one-posting path takes them.
      SELECT c.*, c.xmin AS locked_xmin FROM cards c
      WHERE c.id IN (SELECT card_id FROM item) AND (SELECT count(*) FROM order_locks) >= 0
      ORDER BY c.id
      FOR UPDATE
    )
    SELECT i.n, c.*, p.version AS program_version,
           (SELECT snapshot.xmin FROM cards snapshot WHERE snapshot.id = c.id) IS DISTINCT FROM c.locked_xmin
             AS changed_since_snapshot,
           lots.*,
           d.id AS device_id, d.merchant_id AS device_merchant_id, d.revoked_at IS NOT NULL AS device_revoked,
           d.store_id, s.name AS store_name, s.time_zone, s.points_per_unit_override, s.created_at AS store_created_at,
           st.id AS staff_id, st.merchant_id AS staff_merchant_id, st.pin_version, st.pin_locked_until
    FROM item i
    LEFT JOIN locked c ON c.id = i.card_id
    LEFT JOIN programs p ON p.merchant_id = c.merchant_id
    CROSS JOIN LATERAL (
      SELECT ${sql.timestamp(at)} + p.expiring_soon_days * interval '86400 seconds' AS soon_until
    ) soon
    LEFT JOIN LATERAL (
      SELECT coalesce(sum(l.remaining_points) FILTER (
               WHERE l.available_at <= ${sql.timestamp(at)}
                 AND (l.expires_at IS NULL OR l.expires_at > ${sql.timestamp(at)})), 0) AS unlocked,
             coalesce(sum(l.remaining_points) FILTER (
               WHERE l.available_at > ${sql.timestamp(at)}
                 AND (l.expires_at IS NULL OR l.expires_at > ${sql.timestamp(at)})), 0) AS locked,
             coalesce(sum(l.remaining_points) FILTER (
               WHERE l.expires_at > ${sql.timestamp(at)} AND l.expires_at <= soon.soon_until), 0) AS expiring,
             coalesce(bool_or(l.expires_at <= ${sql.timestamp(horizon)}), false) AS lots_due_by,
             coalesce(bool_or(
               l.available_at > ${sql.timestamp(at)} AND l.available_at <= ${sql.timestamp(horizon)}
               OR l.expires_at > soon.soon_until
                  AND l.expires_at <= soon.soon_until + (${sql.timestamp(horizon)} - ${sql.timestamp(at)})
             ), false) AS lot_boundary_near
      FROM points_lots l
      WHERE l.card_id = c.id AND l.remaining_points > 0
    ) lots ON true
    LEFT JOIN devices d ON d.id = i.device_id
    LEFT JOIN stores s ON s.id = d.store_id
    LEFT JOIN staff_members st ON st.id = i.staff_id
    ORDER BY i.n
  `,
    // Every row is found by key: a plan made once serves every batch.
    { prepare: true },
  );
  return rows.map((row) => {
    const r = row as unknown as CardRow & {
      program_version: string | null;
      changed_since_snapshot: boolean;
      unlocked: string | null;
      locked: string | null;
      expiring: string | null;
      lots_due_by: boolean | null;
      lot_boundary_near: boolean | null;
      device_id: string | null;
      device_merchant_id: string;
      device_revoked: boolean;
      store_id: string;
      store_name: string;
      time_zone: string;
      points_per_unit_override: string | null;
      store_created_at: Date;
      staff_id: string | null;
      staff_merchant_id: string;
      pin_version: number;
      pin_locked_until: Date | null;
    };
    return {
      card: r.id === null ? null : toCard(r),
      programVersion: r.program_version === null ? null : BigInt(r.program_version),
      lotsDueBy: r.lots_due_by ?? false,
      lotBoundaryNear: r.lot_boundary_near ?? false,
      changedSinceSnapshot: r.changed_since_snapshot,
      lots: {
        unlocked: BigInt(r.unlocked ?? "0"),
        locked: BigInt(r.locked ?? "0"),
        expiringSoon: BigInt(r.expiring ?? "0"),
      },
      device:
        r.device_id === null
          ? null
          : {
              id: r.device_id,
              merchantId: r.device_merchant_id,
              revoked: r.device_revoked,
              store: toStore({
                id: r.store_id,
                merchant_id: r.device_merchant_id,
                name: r.store_name,
                time_zone: r.time_zone,
                points_per_unit_override: r.points_per_unit_override,
                created_at: r.store_created_at,
              }),
            },
      staff:
        r.staff_id === null
          ? null
          : {
              id: r.staff_id,
              merchantId: r.staff_merchant_id,
              pinVersion: r.pin_version,
              pinLockedUntil: r.pin_locked_until,
            },
    };
  });
}

export interface BatchWrites {
  lots: readonly NewLot[];
  /** In posting order: a card's rows get increasing seq. */
  transactions: readonly LoyaltyTransaction[];
  /** Each card once, as the batch leaves it. */
  cards: readonly Card[];
  idempotencyKeys: readonly { scope: string; key: string; requestHash: Buffer; response: Uint8Array }[];
  /** The batch's audit records and events (OutboxWriter.capture). */
  outbox: OutboxInsert;
}

/** SQLSTATE of writeBatchAndCommit's failure when a key or an order of the batch was taken. */
export const BATCH_KEY_TAKEN = "LY001";

/**
 * Writes a batch's lots, ledger rows, cards, idempotency records and outbox
 * events in one statement, and commits. When a row or a key was not written
 * because its unique key was taken (an idempotency key used meanwhile, an
 * order that earned already), the statement fails with BATCH_KEY_TAKEN and
 * nothing commits. A key or an order that another transaction is writing
 * makes this statement wait for it.
 */
export async function writeBatchAndCommit(tx: PipelinedTransaction, writes: BatchWrites): Promise<void> {
  const lots = writes.lots.map((l) => ({
    id: l.id,
    card_id: l.cardId,
    source_transaction_id: l.sourceTransactionId,
    original_points: l.originalPoints.toString(),
    remaining_points: l.remainingPoints.toString(),
    earned_at: iso(l.earnedAt),
    available_at: iso(l.availableAt),
    expires_at: iso(l.expiresAt),
  }));
  const transactions = writes.transactions.map((t) => ({
    id: t.id,
    type: t.type,
    merchant_id: t.merchantId,
    store_id: t.storeId,
    card_id: t.cardId,
    staff_id: t.staffId,
    acting_terminal_device_id: t.actingTerminalDeviceId,
    principal_id: t.principalId,
    principal_role: t.principalRole,
    ip: t.ip,
    user_agent: t.userAgent,
    order_reference: t.orderReference,
    currency: t.currency?.code ?? null,
    purchase_amount_minor: t.purchaseAmountMinor?.toString() ?? null,
    refunded_amount_minor: t.refundedAmountMinor?.toString() ?? null,
    reward_code: t.rewardCode,
    reward_name: t.rewardName,
    notes: t.notes,
    related_transaction_id: t.relatedTransactionId,
    saga_id: t.sagaId,
    transaction_at: iso(t.transactionAt),
    stamps_delta: t.stampsDelta,
    points_delta: t.pointsDelta.toString(),
    stamps_balance_after: t.stampsBalanceAfter,
    points_balance_after: t.pointsBalanceAfter.toString(),
    stamps_cancelled: t.stampsCancelled,
    points_cancelled: t.pointsCancelled.toString(),
    points_already_expired: t.pointsAlreadyExpired.toString(),
    points_forgiven: t.pointsForgiven.toString(),
    lot_id: t.lotId,
  }));
  const cards = writes.cards.map((c) => ({
    id: c.id,
    status: c.status,
    status_reason: c.statusReason,
    stamps: c.stamps,
    points_balance: c.pointsBalance.toString(),
    points_debt: c.pointsDebt.toString(),
    last_stamp_at: iso(c.lastStampAt),
    last_activity_at: iso(c.lastActivityAt),
    version: c.version.toString(),
  }));
  const keys = writes.idempotencyKeys.map((k) => ({
    scope: k.scope,
    key: k.key,
    request_hash: k.requestHash.toString("hex"),
    response: Buffer.from(k.response).toString("base64"),
  }));
  await tx.commitWith(
    sql.unsafe`
    WITH new_lots AS (
      INSERT INTO points_lots (id, card_id, source_transaction_id, original_points, remaining_points, earned_at,
                               available_at, expires_at)
      SELECT * FROM jsonb_to_recordset(${json(lots)})
        AS l(id uuid, card_id uuid, source_transaction_id uuid, original_points int8, remaining_points int8,
             earned_at timestamptz, available_at timestamptz, expires_at timestamptz)
    ), new_rows AS (
      INSERT INTO loyalty_transactions (
        id, type, merchant_id, store_id, card_id, staff_id, acting_terminal_device_id, principal_id, principal_role,
        ip, user_agent, order_reference, currency, purchase_amount_minor, refunded_amount_minor, reward_code,
        reward_name, notes, related_transaction_id, saga_id, transaction_at, stamps_delta, points_delta,
        stamps_balance_after, points_balance_after, stamps_cancelled, points_cancelled, points_already_expired,
        points_forgiven, lot_id)
      SELECT * FROM jsonb_to_recordset(${json(transactions)})
        AS t(id uuid, type text, merchant_id text, store_id uuid, card_id uuid, staff_id uuid,
             acting_terminal_device_id uuid, principal_id text, principal_role text, ip text, user_agent text,
             order_reference text, currency char(3), purchase_amount_minor int8, refunded_amount_minor int8,
             reward_code text, reward_name text, notes text, related_transaction_id uuid, saga_id text,
             transaction_at timestamptz, stamps_delta int4, points_delta int8, stamps_balance_after int4,
             points_balance_after int8, stamps_cancelled int4, points_cancelled int8, points_already_expired int8,
             points_forgiven int8, lot_id uuid)
      ON CONFLICT DO NOTHING
      RETURNING 1
    ), updated_cards AS (
      UPDATE cards c SET
        status = u.status, status_reason = u.status_reason, stamps = u.stamps, points_balance = u.points_balance,
        points_debt = u.points_debt, last_stamp_at = u.last_stamp_at, last_activity_at = u.last_activity_at,
        version = u.version
      FROM jsonb_to_recordset(${json(cards)})
        AS u(id uuid, status text, status_reason text, stamps int4, points_balance int8, points_debt int8,
             last_stamp_at timestamptz, last_activity_at timestamptz, version int8)
      WHERE c.id = u.id
    ), recorded_keys AS (
      INSERT INTO idempotency_keys (scope, key, request_hash, response)
      SELECT k.scope, k.key, decode(k.request_hash, 'hex'), decode(k.response, 'base64')
      FROM jsonb_to_recordset(${json(keys)}) AS k(scope text, key text, request_hash text, response text)
      ON CONFLICT DO NOTHING
      RETURNING 1
    ), events AS (
      ${writes.outbox.sql}
    )
    SELECT assert_batch_written(
      (SELECT count(*) FROM new_rows) = ${transactions.length} AND (SELECT count(*) FROM recorded_keys) = ${keys.length}
    )
  `,
    { prepare: true },
  );
}
