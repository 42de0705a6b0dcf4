import { sql, type CommonQueryMethods } from "@money/db";
import type { Decision } from "../domain/refund.js";

interface DecisionRow {
  refund_id: string;
  approver_id: string;
  approver_role: string;
  approved: boolean;
  amount_minor: string;
  reason: string;
  decided_at: Date;
}

/** Records a decision; false when this approver already decided on the refund. */
export async function insertDecision(
  db: CommonQueryMethods,
  refundId: string,
  d: Decision,
): Promise<boolean> {
  const inserted = await db.maybeOneFirst(sql.unsafe`
    INSERT INTO refund_decisions (refund_id, approver_id, approver_role, approved, amount_minor, reason, decided_at)
    VALUES (${refundId}, ${d.approverId}, ${d.approverRole}, ${d.approved}, ${d.amountMinor.toString()},
            ${d.reason}, ${d.decidedAt.toISOString()})
    ON CONFLICT (refund_id, approver_id) DO NOTHING RETURNING 1
  `);
  return inserted !== null;
}

/** The decisions on each refund, in the order they were taken. */
export async function listDecisions(
  db: CommonQueryMethods,
  refundIds: readonly string[],
): Promise<Map<string, Decision[]>> {
  const byRefund = new Map<string, Decision[]>();
  if (refundIds.length === 0) return byRefund;
  const rows = await db.any(sql.unsafe`
    SELECT * FROM refund_decisions WHERE refund_id = ANY(${sql.array(refundIds, "uuid")})
    ORDER BY decided_at, approver_id
  `);
  for (const row of rows as unknown as DecisionRow[]) {
    const list = byRefund.get(row.refund_id) ?? [];
    list.push({
      approverId: row.approver_id,
      approverRole: row.approver_role,
      approved: row.approved,
      amountMinor: BigInt(row.amount_minor),
      reason: row.reason,
      decidedAt: row.decided_at,
    });
    byRefund.set(row.refund_id, list);
  }
  return byRefund;
}
