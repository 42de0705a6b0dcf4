import { sql, type CommonQueryMethods } from "@money/db";
import type { SagaStepName, StepRecord, StepStatus } from "../domain/saga/saga-definition.js";
import type { Write } from "./write-together.js";

interface StepRow {
  refund_id: string;
  step: SagaStepName;
  compensation: boolean;
  status: StepStatus;
  attempts: number;
  attempts_since_retry: number;
  last_error: string;
  deadline_at: Date | null;
  next_attempt_at: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
  result: Record<string, string>;
}

function toStep(row: StepRow): StepRecord {
  return {
    step: row.step,
    compensation: row.compensation,
    status: row.status,
    attempts: row.attempts,
    attemptsSinceRetry: row.attempts_since_retry,
    lastError: row.last_error,
    deadlineAt: row.deadline_at,
    nextAttemptAt: row.next_attempt_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    result: row.result,
  };
}

/** The order steps run in, forward steps first. */
export const STEP_ORDER: readonly SagaStepName[] = [
  "mark_refund_processing",
  "reverse_ledger_transaction",
  "reverse_loyalty_points",
  "complete_ledger_refund",
  "cancel_ledger_reversal",
  "restore_settled",
];

/** A step row as `to_jsonb` renders it (timestamps as text). */
export function stepOfJson(json: Record<string, unknown>): StepRecord {
  const date = (value: unknown) => (value === null || value === undefined ? null : new Date(value as string));
  const row = json as unknown as StepRow;
  return toStep({
    ...row,
    deadline_at: date(json["deadline_at"]),
    next_attempt_at: date(json["next_attempt_at"]),
    started_at: date(json["started_at"]),
    completed_at: date(json["completed_at"]),
  });
}

const ts = (date: Date | null) => (date === null ? null : date.toISOString());

/**
 * Inserts or rewrites the given steps of any number of refunds (a write for
 * `writeTogether`); each (refund, step) at most once; null for none.
 */
export function saveSteps(steps: readonly { refundId: string; step: StepRecord }[]): Write | null {
  if (steps.length === 0) return null;
  return sql.fragment`
    INSERT INTO saga_steps (refund_id, step, compensation, status, attempts, attempts_since_retry, last_error,
      deadline_at, next_attempt_at, started_at, completed_at, result)
    SELECT refund_id, step, compensation, status, attempts, attempts_since_retry, last_error, deadline_at,
      next_attempt_at, started_at, completed_at, result
    FROM ${sql.unnest(
      steps.map(({ refundId, step: s }) => [
        refundId,
        s.step,
        s.compensation,
        s.status,
        s.attempts,
        s.attemptsSinceRetry,
        s.lastError.slice(0, 2000),
        ts(s.deadlineAt),
        ts(s.nextAttemptAt),
        ts(s.startedAt),
        ts(s.completedAt),
        JSON.stringify(s.result),
      ]),
      [
        "uuid",
        "text",
        "bool",
        "text",
        "int4",
        "int4",
        "text",
        "timestamptz",
        "timestamptz",
        "timestamptz",
        "timestamptz",
        "jsonb",
      ],
    )} AS s(refund_id, step, compensation, status, attempts, attempts_since_retry, last_error, deadline_at, next_attempt_at,
            started_at, completed_at, result)
    ON CONFLICT (refund_id, step) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
      attempts_since_retry = excluded.attempts_since_retry, last_error = excluded.last_error,
      deadline_at = excluded.deadline_at, next_attempt_at = excluded.next_attempt_at,
      started_at = excluded.started_at, completed_at = excluded.completed_at, result = excluded.result
  `;
}

/** The saga's steps, forward steps first, each in the order it runs. */
export async function listSteps(db: CommonQueryMethods, refundId: string): Promise<StepRecord[]> {
  const rows = await db.any(sql.unsafe`
    SELECT * FROM saga_steps WHERE refund_id = ${refundId}
    ORDER BY compensation, array_position(${sql.array(STEP_ORDER, "text")}, step)
  `);
  return (rows as unknown as StepRow[]).map(toStep);
}

/** A step whose deadline passed or whose retry is due. */
export interface DueStep {
  refundId: string;
  step: SagaStepName;
  status: "in_flight" | "retry_scheduled";
}

/** Steps due by `now`: in flight past their deadline, or with a retry due. Oldest first. */
export async function findDueSteps(db: CommonQueryMethods, now: Date, limit: number): Promise<DueStep[]> {
  const rows = await db.any(sql.unsafe`
    (SELECT refund_id, step, status, deadline_at AS due FROM saga_steps
      WHERE status = 'in_flight' AND deadline_at <= ${ts(now)} ORDER BY deadline_at LIMIT ${limit})
    UNION ALL
    (SELECT refund_id, step, status, next_attempt_at AS due FROM saga_steps
      WHERE status = 'retry_scheduled' AND next_attempt_at <= ${ts(now)} ORDER BY next_attempt_at LIMIT ${limit})
    ORDER BY due LIMIT ${limit}
  `);
  return rows.map((r) => ({
    refundId: r["refund_id"] as string,
    step: r["step"] as SagaStepName,
    status: r["status"] as DueStep["status"],
  }));
}
