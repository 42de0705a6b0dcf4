import type { CommonQueryMethods, DatabaseTransactionConnection } from "@money/db";
import { findCurrency } from "@money/money";
import { actorOf, type Caller } from "@money/rpc";
import { replacePolicy } from "../db/policies-table.js";
import { policyFor, shapePolicy, type ApprovalPolicy, type PolicyInput } from "./approval-policy.js";
import { requireText } from "./input.js";
import { RefundError } from "./refund-error.js";
import type { RefundsContext } from "./refunds-context.js";
import { RefundWriter } from "./refund-writer.js";

/**
 * Replaces the approval bands of a merchant (or, with merchant '', the
 * platform default) for one currency, and records the change with its
 * before and after in the audit trail. Refunds already requested keep the
 * approvals they were asked for.
 *
 * Errors: UNKNOWN_CURRENCY, INVALID_AMOUNT, INVALID_POLICY, REASON_REQUIRED.
 */
export async function setApprovalPolicy(
  tx: DatabaseTransactionConnection,
  context: RefundsContext,
  input: PolicyInput & { reason: string },
  caller: Caller,
): Promise<ApprovalPolicy> {
  const reason = requireText(input.reason, "reason", 500, { required: true });
  const policy = shapePolicy(input);
  const before = await policyFor(tx, policy.merchantId, policy.currency);
  const now = context.clock.now();
  await replacePolicy(
    tx,
    {
      merchantId: policy.merchantId,
      currencyCode: policy.currency.code,
      bands: policy.bands,
      approvalTtlSeconds: policy.approvalTtlSeconds,
    },
    caller.principalId,
    now,
  );
  const writer = new RefundWriter(context, now);
  writer.emit({ type: "policy_set", before, after: policy, actor: actorOf(caller), reason });
  await writer.commit(tx);
  return policy;
}

/** Errors: UNKNOWN_CURRENCY. */
export async function getApprovalPolicy(
  db: CommonQueryMethods,
  merchantId: string,
  currencyCode: string,
): Promise<ApprovalPolicy> {
  const currency = findCurrency(currencyCode);
  if (!currency)
    throw new RefundError("UNKNOWN_CURRENCY", `currency ${JSON.stringify(currencyCode)} is not supported`);
  return policyFor(db, merchantId, currency);
}
