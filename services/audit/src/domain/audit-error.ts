import { DomainError, type PlatformReason } from "@money/rpc";

/**
 * Every refusal of the audit service, by name; the wire code of each is in
 * rpc/error-codes.ts.
 */
export type AuditReason =
  | PlatformReason
  // Wrong whatever the state.
  | "INVALID_ARGUMENT"
  | "INVALID_PAGE_TOKEN"
  // Not there.
  | "ENTRY_NOT_FOUND"
  | "CHECKPOINT_NOT_FOUND"
  // Not yet: the log has not signed a checkpoint covering it.
  | "ENTRY_NOT_CHECKPOINTED"
  | "NOTHING_CHECKPOINTED"
  | "RANGE_EMPTY";

export class AuditError extends DomainError<AuditReason> {}
