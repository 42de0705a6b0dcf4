import { Code } from "@connectrpc/connect";
import { PLATFORM_CODES, type ErrorCodeTable } from "@money/rpc";
import type { LedgerReason } from "../domain/ledger-error.js";

/**
 * The one table from ledger refusals to Connect codes. INVALID_ARGUMENT: wrong
 * whatever the state; FAILED_PRECONDITION: wrong in the current state (retrying
 * the same request later may succeed); ABORTED: lost an optimistic race.
 */
export const LEDGER_ERROR_CODES: ErrorCodeTable<LedgerReason> = {
  ...PLATFORM_CODES,
  INVALID_ARGUMENT: Code.InvalidArgument,
  INVALID_AMOUNT: Code.InvalidArgument,
  UNKNOWN_CURRENCY: Code.InvalidArgument,
  INVALID_PAGE_TOKEN: Code.InvalidArgument,
  INVALID_MOBILE_NUMBER: Code.InvalidArgument,
  TOO_FEW_LEGS: Code.InvalidArgument,
  TOO_MANY_ITEMS: Code.InvalidArgument,
  DUPLICATE_LEG_ACCOUNT: Code.InvalidArgument,
  UNBALANCED_TRANSACTION: Code.InvalidArgument,
  AMOUNT_EXCEEDS_PENDING: Code.InvalidArgument,
  REASON_REQUIRED: Code.InvalidArgument,
  ACCOUNT_NOT_FOUND: Code.NotFound,
  TRANSACTION_NOT_FOUND: Code.NotFound,
  WALLET_NOT_FOUND: Code.NotFound,
  MOBILE_NUMBER_NOT_FOUND: Code.NotFound,
  CURRENCY_MISMATCH: Code.FailedPrecondition,
  ACCOUNT_FROZEN: Code.FailedPrecondition,
  ACCOUNT_CLOSED: Code.FailedPrecondition,
  ACCOUNT_NOT_EMPTY: Code.FailedPrecondition,
  INVALID_ACCOUNT_TRANSITION: Code.FailedPrecondition,
  INSUFFICIENT_FUNDS: Code.FailedPrecondition,
  EXCEEDS_DEBITS: Code.FailedPrecondition,
  PENDING_NOT_OPEN: Code.FailedPrecondition,
  PENDING_EXPIRED: Code.FailedPrecondition,
  NOT_REVERSIBLE: Code.FailedPrecondition,
  REVERSAL_EXCEEDS_ORIGINAL: Code.FailedPrecondition,
  INVALID_TRANSITION: Code.FailedPrecondition,
  REFUND_INCOMPLETE: Code.FailedPrecondition,
  DAILY_LIMIT_EXCEEDED: Code.FailedPrecondition,
  MOBILE_NUMBER_TAKEN: Code.AlreadyExists,
  NOT_OWNER: Code.PermissionDenied,
  ACCOUNT_VERSION_MISMATCH: Code.Aborted,
};
