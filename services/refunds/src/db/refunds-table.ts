import { sql, type CommonQueryMethods } from "@money/db";
import { findCurrency } from "@money/money";
import type { ReasonCode, RefundRecord, RefundStatus } from "../domain/refund.js";
import type { StepRecord } from "../domain/saga/saga-definition.js";
import { stepOfJson, STEP_ORDER } from "./saga-steps-table.js";
import type { Write } from "./write-together.js";

interface RefundRow {
  id: string;
  original_transaction_id: string;
  merchant_id: string;
  order_reference: string;
  currency: string;
  amount_minor: string;
  original_amount_minor: string;
  reason_code: ReasonCode;
  note: string;
  status: RefundStatus;
  requested_by: string;
  requested_by_role: string;
  approvals_required: number;
  approval_expires_at: Date | null;
  saga_phase: "forward" | "compensating" | null;
  current_step: string | null;
  reversal_transaction_id: string | null;
  points_reversed: string;
  points_shortfall: string;
  failure_reason: string;
  failure_message: string;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
}

function toRefund(row: RefundRow): RefundRecord {
  return {
    id: row.id,
    originalTransactionId: row.original_transaction_id,
    merchantId: row.merchant_id,
    orderReference: row.order_reference,
    // The currency was checked when the refund was requested; the list only grows.
    currency: findCurrency(row.currency)!,
    amountMinor: BigInt(row.amount_minor),
    originalAmountMinor: BigInt(row.original_amount_minor),
    reasonCode: row.reason_code,
    note: row.note,
    status: row.status,
    requestedBy: row.requested_by,
    requestedByRole: row.requested_by_role,
    approvalsRequired: row.approvals_required,
    approvalExpiresAt: row.approval_expires_at,
    sagaPhase: row.saga_phase,
    currentStep: row.current_step,
    reversalTransactionId: row.reversal_transaction_id,
    pointsReversed: BigInt(row.points_reversed),
    pointsShortfall: BigInt(row.points_shortfall),
    failureReason: row.failure_reason,
    failureMessage: row.failure_message,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    completedAt: row.completed_at,
  };
}

const ts = (date: Date | null) => (date === null ? null : date.toISOString());

/** Inserts the refunds (a write for `writeTogether`); null for none. */
export function insertRefunds(list: readonly RefundRecord[]): Write | null {
  if (list.length === 0) return null;
  const rows = list.map(
    (
      r,
    ) => sql.fragment`(${r.id}, ${r.originalTransactionId}, ${r.merchantId}, ${r.orderReference}, ${r.currency.code},
      ${r.amountMinor.toString()}, ${r.originalAmountMinor.toString()}, ${r.reasonCode}, ${r.note}, ${r.status},
      ${r.requestedBy}, ${r.requestedByRole}, ${r.approvalsRequired}, ${ts(r.approvalExpiresAt)}, ${r.sagaPhase},
      ${r.currentStep}, ${r.reversalTransactionId}, ${r.pointsReversed.toString()}, ${r.pointsShortfall.toString()},
      ${r.failureReason}, ${r.failureMessage}, ${ts(r.createdAt)}, ${ts(r.updatedAt)}, ${ts(r.completedAt)})`,
  );
  return sql.fragment`
    INSERT INTO refunds (id, original_transaction_id, merchant_id, order_reference, currency, amount_minor,
      original_amount_minor, reason_code, note, status, requested_by, requested_by_role, approvals_required,
      approval_expires_at, saga_phase, current_step, reversal_transaction_id, points_reversed, points_shortfall,
      failure_reason, failure_message, created_at, updated_at, completed_at)
    VALUES ${sql.join(rows, sql.fragment`, `)}
  `;
}

/**
 * Writes every field that may change after the refunds were requested (a
 * write for `writeTogether`); null for none.
 */
export function updateRefunds(list: readonly RefundRecord[]): Write | null {
  if (list.length === 0) return null;
  return sql.fragment`
    UPDATE refunds SET status = u.status, approval_expires_at = u.approval_expires_at,
      saga_phase = u.saga_phase, current_step = u.current_step,
      reversal_transaction_id = u.reversal_transaction_id, points_reversed = u.points_reversed,
      points_shortfall = u.points_shortfall, failure_reason = u.failure_reason,
      failure_message = u.failure_message, updated_at = u.updated_at, completed_at = u.completed_at
    FROM ${sql.unnest(
      list.map((r) => [
        r.id,
        r.status,
        ts(r.approvalExpiresAt),
        r.sagaPhase,
        r.currentStep,
        r.reversalTransactionId,
        r.pointsReversed.toString(),
        r.pointsShortfall.toString(),
        r.failureReason,
        r.failureMessage,
        ts(r.updatedAt),
        ts(r.completedAt),
      ]),
      [
        "uuid",
        "text",
        "timestamptz",
        "text",
        "text",
        "uuid",
        "int8",
        "int8",
        "text",
        "text",
        "timestamptz",
        "timestamptz",
      ],
    )} AS u(id, status, approval_expires_at, saga_phase, current_step, reversal_transaction_id, points_reversed,
            points_shortfall, failure_reason, failure_message, updated_at, completed_at)
    WHERE refunds.id = u.id
  `;
}

/** A refund with its saga's steps, forward steps first, each in the order it runs. */
export interface SagaRecord {
  refund: RefundRecord;
  steps: StepRecord[];
}

/**
 * The refunds with their steps, in one statement, locked in id order (so two
 * batches locking overlapping sets cannot deadlock) until the caller's
 * transaction ends; with `skipLocked` a row another transaction holds is
 * left out. Ids with no refund are missing from the map.
 */
export async function lockSagas(
  db: CommonQueryMethods,
  ids: readonly string[],
  { skipLocked = false } = {},
): Promise<Map<string, SagaRecord>> {
  if (ids.length === 0) return new Map();
  const lock = skipLocked ? sql.fragment`FOR UPDATE OF r SKIP LOCKED` : sql.fragment`FOR UPDATE OF r`;
  const rows = await db.any(sql.unsafe`
    SELECT r.*, (SELECT coalesce(jsonb_agg(to_jsonb(s) ORDER BY s.compensation,
                   array_position(${sql.array(STEP_ORDER, "text")}, s.step)), '[]')
                 FROM saga_steps s WHERE s.refund_id = r.id) AS saga_steps
    FROM refunds r WHERE r.id = ANY(${sql.array(ids, "uuid")}) ORDER BY r.id ${lock}
  `);
  return new Map(
    rows.map((row) => {
      const refund = toRefund(row as unknown as RefundRow);
      const steps = (row["saga_steps"] as Record<string, unknown>[]).map(stepOfJson);
      return [refund.id, { refund, steps }];
    }),
  );
}

/**
 * The refund, or null; with `forUpdate` its row stays locked until the
 * caller's transaction ends, and with `skipLocked` a row another transaction
 * holds reads as null.
 */
export async function findRefund(
  db: CommonQueryMethods,
  id: string,
  { forUpdate = false, skipLocked = false } = {},
): Promise<RefundRecord | null> {
  const lock = forUpdate
    ? skipLocked
      ? sql.fragment`FOR UPDATE SKIP LOCKED`
      : sql.fragment`FOR UPDATE`
    : sql.fragment``;
  const row = await db.maybeOne(sql.unsafe`SELECT * FROM refunds WHERE id = ${id} ${lock}`);
  return row ? toRefund(row as unknown as RefundRow) : null;
}

export interface RefundFilter {
  originalTransactionId: string | null;
  merchantId: string | null;
  /** Several statuses: any of them. */
  statuses: readonly RefundStatus[] | null;
  requestedBy: string | null;
  /** Refunds this principal requested are left out (an approver's own requests). */
  notRequestedBy: string | null;
  createdFrom: Date | null;
  createdTo: Date | null;
}

/**
 * One page of refunds matching every filter set, by creation time (newest
 * first unless `oldestFirst`), after the (created_at, id) position.
 */
export async function listRefunds(
  db: CommonQueryMethods,
  filter: RefundFilter,
  after: { createdAt: string; id: string } | null,
  limit: number,
  { oldestFirst = false } = {},
): Promise<RefundRecord[]> {
  const conditions = [sql.fragment`TRUE`];
  if (filter.originalTransactionId !== null) {
    conditions.push(sql.fragment`original_transaction_id = ${filter.originalTransactionId}`);
  }
  if (filter.merchantId !== null) conditions.push(sql.fragment`merchant_id = ${filter.merchantId}`);
  if (filter.statuses !== null)
    conditions.push(sql.fragment`status = ANY(${sql.array(filter.statuses, "text")})`);
  if (filter.requestedBy !== null) conditions.push(sql.fragment`requested_by = ${filter.requestedBy}`);
  if (filter.notRequestedBy !== null) conditions.push(sql.fragment`requested_by <> ${filter.notRequestedBy}`);
  if (filter.createdFrom !== null) conditions.push(sql.fragment`created_at >= ${ts(filter.createdFrom)}`);
  if (filter.createdTo !== null) conditions.push(sql.fragment`created_at < ${ts(filter.createdTo)}`);
  if (after !== null) {
    conditions.push(
      oldestFirst
        ? sql.fragment`(created_at, id) > (${after.createdAt}::timestamptz, ${after.id}::uuid)`
        : sql.fragment`(created_at, id) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`,
    );
  }
  const order = oldestFirst ? sql.fragment`created_at, id` : sql.fragment`created_at DESC, id DESC`;
  const rows = await db.any(sql.unsafe`
    SELECT * FROM refunds WHERE ${sql.join(conditions, sql.fragment` AND `)} ORDER BY ${order} LIMIT ${limit}
  `);
  return (rows as unknown as RefundRow[]).map(toRefund);
}

/** Refunds still awaiting approval past their deadline, locked; rows another sweeper holds are skipped. */
export async function lockExpiredAwaiting(
  db: CommonQueryMethods,
  now: Date,
  limit: number,
): Promise<RefundRecord[]> {
  const rows = await db.any(sql.unsafe`
    SELECT * FROM refunds WHERE status = 'awaiting_approval' AND approval_expires_at <= ${ts(now)}
    ORDER BY approval_expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED
  `);
  return (rows as unknown as RefundRow[]).map(toRefund);
}
