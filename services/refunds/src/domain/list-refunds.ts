import type { CommonQueryMethods } from "@money/db";
import type { Caller } from "@money/rpc";
import { listDecisions } from "../db/decisions-table.js";
import { listRefunds as selectRefunds, type RefundFilter } from "../db/refunds-table.js";
import { decodePageToken, encodePageToken, pageSizeOf, requireUuid } from "./input.js";
import type { Decision, RefundRecord, RefundStatus } from "./refund.js";
import { RefundError } from "./refund-error.js";

export interface RefundQuery {
  originalTransactionId: string;
  merchantId: string;
  status: RefundStatus | null;
  requestedBy: string;
  createdFrom: Date | null;
  createdTo: Date | null;
  pageSize: number;
  pageToken: string;
}

export interface RefundPage {
  refunds: { refund: RefundRecord; decisions: Decision[] }[];
  nextPageToken: string;
}

/**
 * Refunds matching every filter given, newest first. Admins, auditors and
 * approvers (of their merchant, when their token names one) see all; any
 * other caller sees only the refunds it requested, whatever it asks.
 *
 * Errors: INVALID_ARGUMENT, INVALID_PAGE_TOKEN.
 */
export async function listRefunds(
  db: CommonQueryMethods,
  query: RefundQuery,
  caller: Caller,
): Promise<RefundPage> {
  const limit = pageSizeOf(query.pageSize);
  if (query.createdFrom && query.createdTo && query.createdFrom >= query.createdTo) {
    throw new RefundError("INVALID_ARGUMENT", "created_from must be before created_to");
  }
  const overseer = caller.role === "admin" || caller.role === "auditor" || caller.role === "approver";
  const scopedMerchant = caller.role === "approver" ? caller.merchantId : undefined;
  if (scopedMerchant !== undefined && query.merchantId !== "" && query.merchantId !== scopedMerchant) {
    return { refunds: [], nextPageToken: "" };
  }
  const filter: RefundFilter = {
    originalTransactionId:
      query.originalTransactionId === ""
        ? null
        : requireUuid(query.originalTransactionId, "original_transaction_id"),
    merchantId: scopedMerchant ?? (query.merchantId === "" ? null : query.merchantId),
    statuses: query.status === null ? null : [query.status],
    requestedBy: overseer ? (query.requestedBy === "" ? null : query.requestedBy) : caller.principalId,
    notRequestedBy: null,
    createdFrom: query.createdFrom,
    createdTo: query.createdTo,
  };
  return page(db, filter, query.pageToken, limit, false);
}

/**
 * Refunds waiting for approval, oldest (closest to expiring) first, that the
 * caller could decide on: of its merchant when its token names one, and not
 * requested by itself.
 *
 * Errors: INVALID_ARGUMENT, INVALID_PAGE_TOKEN.
 */
export async function listPendingApprovals(
  db: CommonQueryMethods,
  query: { merchantId: string; pageSize: number; pageToken: string },
  caller: Caller,
): Promise<RefundPage> {
  const limit = pageSizeOf(query.pageSize);
  const merchantId = caller.merchantId ?? (query.merchantId === "" ? null : query.merchantId);
  const filter: RefundFilter = {
    originalTransactionId: null,
    merchantId,
    statuses: ["awaiting_approval"],
    requestedBy: null,
    notRequestedBy: caller.principalId,
    createdFrom: null,
    createdTo: null,
  };
  return page(db, filter, query.pageToken, limit, true);
}

async function page(
  db: CommonQueryMethods,
  filter: RefundFilter,
  pageToken: string,
  limit: number,
  oldestFirst: boolean,
): Promise<RefundPage> {
  const rows = await selectRefunds(db, filter, decodePageToken(pageToken), limit + 1, { oldestFirst });
  const refunds = rows.slice(0, limit);
  const decisions = await listDecisions(
    db,
    refunds.map((r) => r.id),
  );
  const last = refunds[refunds.length - 1];
  return {
    refunds: refunds.map((refund) => ({ refund, decisions: decisions.get(refund.id) ?? [] })),
    nextPageToken: rows.length > limit && last ? encodePageToken(last.createdAt, last.id) : "",
  };
}
