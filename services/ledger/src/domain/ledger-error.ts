import { DomainError, type PlatformReason } from "@money/rpc";

/** Every refusal of the ledger, by name. Mapped to wire codes in rpc/error-codes.ts. */
export type LedgerReason =
  PlatformReason | "INVALID_ARGUMENT" | "INVALID_AMOUNT" | "UNKNOWN_CURRENCY" | "ACCOUNT_NOT_FOUND";

export class LedgerError extends DomainError<LedgerReason> {}
