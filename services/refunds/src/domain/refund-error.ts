import { DomainError, type PlatformReason } from "@money/rpc";

/**
 * Every refusal of the refunds service, by name. Each says exactly what
 * failed; the wire code of each is in rpc/error-codes.ts.
 */
export type RefundReason =
  | PlatformReason
  // Wrong whatever the state.
  | "INVALID_ARGUMENT"
  | "INVALID_AMOUNT"
  | "AMOUNT_NOT_POSITIVE"
  | "UNKNOWN_CURRENCY"
  | "REASON_CODE_REQUIRED"
  | "REASON_REQUIRED"
  | "APPROVAL_AMOUNT_MISMATCH"
  | "INVALID_PAGE_TOKEN"
  | "INVALID_POLICY"
  // Not there (or not the caller's to see).
  | "REFUND_NOT_FOUND"
  | "ORIGINAL_NOT_FOUND"
  // Wrong in the current state.
  | "CURRENCY_MISMATCH"
  | "ORIGINAL_NOT_SETTLED"
  | "ORIGINAL_NOT_REFUNDABLE"
  | "REFUND_IN_PROGRESS"
  | "EXCEEDS_REFUNDABLE"
  | "NOT_AWAITING_APPROVAL"
  | "APPROVAL_EXPIRED"
  | "ALREADY_DECIDED"
  | "NOT_CANCELABLE"
  | "NOT_PARKED"
  // Someone else's, or the caller's own where it must not be.
  | "SELF_APPROVAL"
  | "NOT_YOUR_TRANSACTION"
  | "NOT_YOUR_REFUND"
  | "NOT_YOUR_MERCHANT"
  // A service the request depends on did not answer.
  | "LEDGER_UNAVAILABLE";

export class RefundError extends DomainError<RefundReason> {}
