import { sql, type CommonQueryMethods } from "@money/db";
import type { ApprovalBand } from "../domain/approval-policy.js";

export interface PolicyRecord {
  merchantId: string;
  currencyCode: string;
  bands: ApprovalBand[];
  approvalTtlSeconds: number;
}

/**
 * The policies of this merchant and of the platform default ('') for a
 * currency, in one round trip; null for each that was never set.
 */
export async function findPolicies(
  db: CommonQueryMethods,
  merchantId: string,
  currencyCode: string,
): Promise<{ own: PolicyRecord | null; platform: PolicyRecord | null }> {
  const rows = await db.any(sql.unsafe`
    SELECT p.merchant_id, p.approval_ttl_seconds,
           array_agg(b.min_amount_minor::text ORDER BY b.min_amount_minor) AS mins,
           array_agg(b.approvals_required ORDER BY b.min_amount_minor) AS approvals
    FROM approval_policies p JOIN approval_bands b USING (merchant_id, currency)
    WHERE p.currency = ${currencyCode} AND p.merchant_id IN (${merchantId}, '')
    GROUP BY p.merchant_id, p.approval_ttl_seconds
  `);
  const of = (id: string): PolicyRecord | null => {
    const row = rows.find((r) => r["merchant_id"] === id);
    if (!row) return null;
    const mins = row["mins"] as string[];
    const approvals = row["approvals"] as number[];
    return {
      merchantId: id,
      currencyCode,
      approvalTtlSeconds: row["approval_ttl_seconds"] as number,
      bands: mins.map((min, i) => ({ minAmountMinor: BigInt(min), approvalsRequired: approvals[i]! })),
    };
  };
  return { own: merchantId === "" ? null : of(merchantId), platform: of("") };
}

/** Replaces the policy's bands and settings. */
export async function replacePolicy(
  db: CommonQueryMethods,
  policy: PolicyRecord,
  updatedBy: string,
  at: Date,
): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO approval_policies (merchant_id, currency, approval_ttl_seconds, updated_at, updated_by)
    VALUES (${policy.merchantId}, ${policy.currencyCode}, ${policy.approvalTtlSeconds}, ${at.toISOString()}, ${updatedBy})
    ON CONFLICT (merchant_id, currency) DO UPDATE SET approval_ttl_seconds = excluded.approval_ttl_seconds,
      updated_at = excluded.updated_at, updated_by = excluded.updated_by
  `);
  await db.query(sql.unsafe`
    DELETE FROM approval_bands WHERE merchant_id = ${policy.merchantId} AND currency = ${policy.currencyCode}
  `);
  await db.query(sql.unsafe`
    INSERT INTO approval_bands (merchant_id, currency, min_amount_minor, approvals_required)
    SELECT ${policy.merchantId}, ${policy.currencyCode}, min_amount_minor, approvals_required FROM ${sql.unnest(
      policy.bands.map((b) => [b.minAmountMinor.toString(), b.approvalsRequired]),
      ["int8", "int2"],
    )} AS b(min_amount_minor, approvals_required)
  `);
}
