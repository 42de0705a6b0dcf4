import { findCurrency, formatAmount, parseAmount, type Currency } from "@money/money";
import { findPolicies } from "../db/policies-table.js";
import type { CommonQueryMethods } from "@money/db";
import { RefundError } from "./refund-error.js";

/** Refunds of at least `minAmountMinor` need `approvalsRequired` approvers (0: none). */
export interface ApprovalBand {
  minAmountMinor: bigint;
  approvalsRequired: number;
}

export interface ApprovalPolicy {
  /** '' for the platform default. */
  merchantId: string;
  currency: Currency;
  /** Sorted by minAmountMinor; the first starts at 0. */
  bands: ApprovalBand[];
  approvalTtlSeconds: number;
  /** False when the merchant has none of its own and the default applies. */
  merchantSpecific: boolean;
}

/**
 * The platform's policy when neither the merchant nor the platform set one
 * for a currency: every refund needs one approver, within three days. Safe
 * rather than convenient: automatic refunds are a merchant's explicit choice.
 */
const BUILT_IN_BANDS: readonly ApprovalBand[] = [{ minAmountMinor: 0n, approvalsRequired: 1 }];
const BUILT_IN_TTL_SECONDS = 3 * 24 * 3600;
const MAX_BANDS = 20;
const MIN_TTL_SECONDS = 60;
const MAX_TTL_SECONDS = 30 * 24 * 3600;

/** How many approvers a refund of `amountMinor` needs under `policy`. */
export function approvalsFor(policy: ApprovalPolicy, amountMinor: bigint): number {
  let required = policy.bands[0]?.approvalsRequired ?? 1;
  for (const band of policy.bands) {
    if (band.minAmountMinor <= amountMinor) required = band.approvalsRequired;
  }
  return required;
}

/**
 * The policy that applies to a merchant's refunds in a currency: its own,
 * else the platform default set for the currency, else the built-in one.
 */
export async function policyFor(
  db: CommonQueryMethods,
  merchantId: string,
  currency: Currency,
): Promise<ApprovalPolicy> {
  const { own, platform } = await findPolicies(db, merchantId, currency.code);
  const found = own ?? platform;
  if (found) {
    return {
      merchantId: found.merchantId,
      currency,
      bands: found.bands,
      approvalTtlSeconds: found.approvalTtlSeconds,
      merchantSpecific: own !== null,
    };
  }
  return {
    merchantId: "",
    currency,
    bands: [...BUILT_IN_BANDS],
    approvalTtlSeconds: BUILT_IN_TTL_SECONDS,
    merchantSpecific: false,
  };
}

export interface PolicyInput {
  merchantId: string;
  currency: string;
  bands: { minAmount: string; approvalsRequired: number }[];
  approvalTtlSeconds: bigint;
}

/**
 * Checks a policy as an admin set it: bands sorted by a strictly rising
 * minimum, the first at zero, 0 to 2 approvers each, never fewer for a
 * larger amount; a TTL from a minute to 30 days.
 *
 * Errors: UNKNOWN_CURRENCY, INVALID_AMOUNT, INVALID_POLICY.
 */
export function shapePolicy(input: PolicyInput): ApprovalPolicy {
  const currency = findCurrency(input.currency);
  if (!currency)
    throw new RefundError("UNKNOWN_CURRENCY", `currency ${JSON.stringify(input.currency)} is not supported`);
  if (input.merchantId.length > 100)
    throw new RefundError("INVALID_POLICY", "merchant_id is at most 100 characters");
  if (input.bands.length === 0 || input.bands.length > MAX_BANDS) {
    throw new RefundError("INVALID_POLICY", `a policy has 1 to ${MAX_BANDS} bands`);
  }
  const bands = input.bands.map((band, i): ApprovalBand => {
    const parsed = parseAmount(band.minAmount, currency, { allowZero: true });
    if (!parsed.ok) {
      throw new RefundError(
        "INVALID_AMOUNT",
        `bands[${i}].min_amount ${JSON.stringify(band.minAmount)}: ${parsed.problem}`,
      );
    }
    if (
      !Number.isInteger(band.approvalsRequired) ||
      band.approvalsRequired < 0 ||
      band.approvalsRequired > 2
    ) {
      throw new RefundError("INVALID_POLICY", `bands[${i}].approvals_required must be 0, 1 or 2`);
    }
    return { minAmountMinor: parsed.minor, approvalsRequired: band.approvalsRequired };
  });
  if (bands[0]!.minAmountMinor !== 0n) {
    throw new RefundError("INVALID_POLICY", `the first band must start at ${formatAmount(0n, currency)}`);
  }
  for (let i = 1; i < bands.length; i++) {
    if (bands[i]!.minAmountMinor <= bands[i - 1]!.minAmountMinor) {
      throw new RefundError("INVALID_POLICY", "bands must be sorted by a strictly rising min_amount");
    }
    if (bands[i]!.approvalsRequired < bands[i - 1]!.approvalsRequired) {
      throw new RefundError("INVALID_POLICY", "a larger amount may not need fewer approvers");
    }
  }
  if (
    input.approvalTtlSeconds < BigInt(MIN_TTL_SECONDS) ||
    input.approvalTtlSeconds > BigInt(MAX_TTL_SECONDS)
  ) {
    throw new RefundError(
      "INVALID_POLICY",
      `approval_ttl_seconds must be ${MIN_TTL_SECONDS} to ${MAX_TTL_SECONDS}`,
    );
  }
  return {
    merchantId: input.merchantId,
    currency,
    bands,
    approvalTtlSeconds: Number(input.approvalTtlSeconds),
    merchantSpecific: input.merchantId !== "",
  };
}

/** The JSON view of a policy for audit records. */
export function policyAuditView(policy: ApprovalPolicy): Record<string, string | Record<string, string>[]> {
  return {
    merchant_id: policy.merchantId,
    currency: policy.currency.code,
    approval_ttl_seconds: String(policy.approvalTtlSeconds),
    bands: policy.bands.map((b) => ({
      min_amount_minor: b.minAmountMinor.toString(),
      approvals_required: String(b.approvalsRequired),
    })),
  };
}
