import { Code } from "@connectrpc/connect";
import { PLATFORM_CODES, type ErrorCodeTable } from "@money/rpc";
import type { AuditReason } from "../domain/audit-error.js";

/**
 * The one table from audit refusals to Connect codes. INVALID_ARGUMENT: wrong
 * whatever the state; NOT_FOUND: no such entry or checkpoint;
 * FAILED_PRECONDITION: not signed yet (asking again later may succeed).
 */
export const AUDIT_ERROR_CODES: ErrorCodeTable<AuditReason> = {
  ...PLATFORM_CODES,
  INVALID_ARGUMENT: Code.InvalidArgument,
  INVALID_PAGE_TOKEN: Code.InvalidArgument,
  ENTRY_NOT_FOUND: Code.NotFound,
  CHECKPOINT_NOT_FOUND: Code.NotFound,
  ENTRY_NOT_CHECKPOINTED: Code.FailedPrecondition,
  NOTHING_CHECKPOINTED: Code.FailedPrecondition,
  RANGE_EMPTY: Code.FailedPrecondition,
};
