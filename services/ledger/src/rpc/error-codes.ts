import { Code } from "@connectrpc/connect";
import { PLATFORM_CODES, type ErrorCodeTable } from "@money/rpc";
import type { LedgerReason } from "../domain/ledger-error.js";

/** The one table from ledger refusals to Connect codes. */
export const LEDGER_ERROR_CODES: ErrorCodeTable<LedgerReason> = {
  ...PLATFORM_CODES,
  INVALID_ARGUMENT: Code.InvalidArgument,
  INVALID_AMOUNT: Code.InvalidArgument,
  UNKNOWN_CURRENCY: Code.InvalidArgument,
  ACCOUNT_NOT_FOUND: Code.NotFound,
};
