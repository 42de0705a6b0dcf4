import { sql, type CommonQueryMethods } from "@money/db";
import type { ApprovalBand } from "../domain/approval-policy.js";

export interface PolicyRecord {
  merchantId: string;
  currencyCode: string;
  bands: ApprovalBand[];
  approvalTtlSeconds: number;
}

/** The policy of exactly this merchant ('' for the platform default) and currency, or null. */
export async function findPolicy(
  db: CommonQueryMethods,
  merchantId: string,
  currencyCode: string,
): Promise<PolicyRecord | null> {
  const policy = await db.maybeOne(sql.unsafe`
    SELECT approval_ttl_seconds FROM approval_policies WHERE merchant_id = ${merchantId} AND currency = ${currencyCode}
  `);
  if (!policy) return null;
  const bands = await db.any(sql.unsafe`
    SELECT min_amount_minor, approvals_required FROM approval_bands
    WHERE merchant_id = ${merchantId} AND currency = ${currencyCode} ORDER BY min_amount_minor
  `);
  return {
    merchantId,
    currencyCode,
    approvalTtlSeconds: policy["approval_ttl_seconds"] as number,
    bands: bands.map((b) => ({
      minAmountMinor: BigInt(b["min_amount_minor"] as string),
      approvalsRequired: b["approvals_required"] as number,
    })),
  };
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
