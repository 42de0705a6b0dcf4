import { sql, type CommonQueryMethods } from "@money/db";
import type { RefundStatus, TransitionRecord } from "../domain/refund.js";
import type { Write } from "./write-together.js";

interface TransitionRow {
  refund_id: string;
  from_status: RefundStatus | null;
  to_status: RefundStatus;
  actor_id: string;
  actor_role: string;
  reason: string;
  occurred_at: Date;
}

/** Appends transitions, in order (a write for `writeTogether`); null for none. */
export function insertTransitions(list: readonly TransitionRecord[]): Write | null {
  if (list.length === 0) return null;
  return sql.fragment`
    INSERT INTO refund_transitions (refund_id, from_status, to_status, actor_id, actor_role, reason, occurred_at)
    SELECT refund_id, from_status, to_status, actor_id, actor_role, reason, occurred_at FROM ${sql.unnest(
      list.map((t) => [
        t.refundId,
        t.from,
        t.to,
        t.actorId,
        t.actorRole,
        t.reason,
        t.occurredAt.toISOString(),
      ]),
      ["uuid", "text", "text", "text", "text", "text", "timestamptz"],
    )} WITH ORDINALITY AS t(refund_id, from_status, to_status, actor_id, actor_role, reason, occurred_at, n)
    ORDER BY n
  `;
}

/** The refund's history, oldest first. */
export async function listTransitions(db: CommonQueryMethods, refundId: string): Promise<TransitionRecord[]> {
  const rows = await db.any(sql.unsafe`
    SELECT * FROM refund_transitions WHERE refund_id = ${refundId} ORDER BY id
  `);
  return (rows as unknown as TransitionRow[]).map((row) => ({
    refundId: row.refund_id,
    from: row.from_status,
    to: row.to_status,
    actorId: row.actor_id,
    actorRole: row.actor_role,
    reason: row.reason,
    occurredAt: row.occurred_at,
  }));
}
