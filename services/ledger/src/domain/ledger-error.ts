import { DomainError, type PlatformReason } from "@money/rpc";

/**
 * Every refusal of the ledger, by name. Each says exactly what failed; the
 * wire code of each is in rpc/error-codes.ts.
 */
export type LedgerReason =
  | PlatformReason
  // Wrong whatever the state.
  | "INVALID_ARGUMENT"
  | "INVALID_AMOUNT"
  | "UNKNOWN_CURRENCY"
  | "INVALID_PAGE_TOKEN"
  | "INVALID_MOBILE_NUMBER"
  | "TOO_FEW_LEGS"
  | "TOO_MANY_ITEMS"
  | "DUPLICATE_LEG_ACCOUNT"
  | "UNBALANCED_TRANSACTION"
  | "AMOUNT_EXCEEDS_PENDING"
  | "REASON_REQUIRED"
  // Not there.
  | "ACCOUNT_NOT_FOUND"
  | "TRANSACTION_NOT_FOUND"
  | "WALLET_NOT_FOUND"
  | "MOBILE_NUMBER_NOT_FOUND"
  // Wrong in the current state.
  | "CURRENCY_MISMATCH"
  | "ACCOUNT_FROZEN"
  | "ACCOUNT_CLOSED"
  | "ACCOUNT_NOT_EMPTY"
  | "INVALID_ACCOUNT_TRANSITION"
  | "INSUFFICIENT_FUNDS"
  | "EXCEEDS_DEBITS"
  | "PENDING_NOT_OPEN"
  | "PENDING_EXPIRED"
  | "NOT_REVERSIBLE"
  | "REVERSAL_EXCEEDS_ORIGINAL"
  | "INVALID_TRANSITION"
  | "REFUND_INCOMPLETE"
  | "DAILY_LIMIT_EXCEEDED"
  // Taken.
  | "MOBILE_NUMBER_TAKEN"
  // Someone else's.
  | "NOT_OWNER"
  // The account moved since the caller looked.
  | "ACCOUNT_VERSION_MISMATCH";

export class LedgerError extends DomainError<LedgerReason> {}
