import { Code } from "@connectrpc/connect";
import { PLATFORM_CODES, type ErrorCodeTable } from "@money/rpc";
import type { RefundReason } from "../domain/refund-error.js";

/** The one place a refunds refusal becomes a wire code. */
export const REFUNDS_ERROR_CODES: ErrorCodeTable<RefundReason> = {
  ...PLATFORM_CODES,
  INVALID_ARGUMENT: Code.InvalidArgument,
  INVALID_AMOUNT: Code.InvalidArgument,
  AMOUNT_NOT_POSITIVE: Code.InvalidArgument,
  UNKNOWN_CURRENCY: Code.InvalidArgument,
  REASON_CODE_REQUIRED: Code.InvalidArgument,
  REASON_REQUIRED: Code.InvalidArgument,
  APPROVAL_AMOUNT_MISMATCH: Code.InvalidArgument,
  INVALID_PAGE_TOKEN: Code.InvalidArgument,
  INVALID_POLICY: Code.InvalidArgument,
  REFUND_NOT_FOUND: Code.NotFound,
  ORIGINAL_NOT_FOUND: Code.NotFound,
  CURRENCY_MISMATCH: Code.FailedPrecondition,
  ORIGINAL_NOT_SETTLED: Code.FailedPrecondition,
  ORIGINAL_NOT_REFUNDABLE: Code.FailedPrecondition,
  REFUND_IN_PROGRESS: Code.FailedPrecondition,
  EXCEEDS_REFUNDABLE: Code.FailedPrecondition,
  NOT_AWAITING_APPROVAL: Code.FailedPrecondition,
  APPROVAL_EXPIRED: Code.FailedPrecondition,
  ALREADY_DECIDED: Code.FailedPrecondition,
  NOT_CANCELABLE: Code.FailedPrecondition,
  NOT_PARKED: Code.FailedPrecondition,
  SELF_APPROVAL: Code.PermissionDenied,
  NOT_YOUR_TRANSACTION: Code.PermissionDenied,
  NOT_YOUR_REFUND: Code.PermissionDenied,
  NOT_YOUR_MERCHANT: Code.PermissionDenied,
  LEDGER_UNAVAILABLE: Code.Unavailable,
};
