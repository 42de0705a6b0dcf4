import { DomainError, type PlatformReason } from "@money/rpc";

/** Every refusal of the loyalty service, by name. Mapped to wire codes in rpc/error-codes.ts. */
export type LoyaltyReason =
  | PlatformReason
  // Wrong whatever the state.
  | "INVALID_ARGUMENT"
  | "INVALID_AMOUNT"
  | "UNKNOWN_CURRENCY"
  | "CURRENCY_MISMATCH"
  | "PIN_REQUIRED"
  // Not there (or not visible to the caller).
  | "PROGRAM_NOT_FOUND"
  | "STORE_NOT_FOUND"
  | "STAFF_NOT_FOUND"
  | "DEVICE_NOT_FOUND"
  | "CARD_NOT_FOUND"
  | "TRANSACTION_NOT_FOUND"
  | "REWARD_NOT_FOUND"
  // Already taken.
  | "CARD_NUMBER_TAKEN"
  | "ORDER_ALREADY_EARNED"
  // Wrong in the current state.
  | "CARD_INACTIVE"
  | "CARD_ALREADY_ACTIVE"
  | "CARD_ALREADY_INACTIVE"
  | "STAMPS_DISABLED"
  | "STAMP_COOLDOWN"
  | "STAMPS_PER_VISIT_EXCEEDED"
  | "DAILY_CAP_REACHED"
  | "BELOW_MINIMUM_SPEND"
  | "INSUFFICIENT_POINTS"
  | "INSUFFICIENT_STAMPS"
  | "NOT_VOIDABLE"
  | "VOID_EXCEEDS_ORIGINAL"
  | "ORDER_AMOUNT_MISMATCH"
  | "REFUND_EXCEEDS_PURCHASE"
  | "PIN_NOT_LOCKED"
  | "DEVICE_ALREADY_REVOKED"
  | "PAIRING_UNAVAILABLE"
  // The credential of the person or device.
  | "PIN_INVALID"
  | "PIN_LOCKED"
  | "DEVICE_REVOKED"
  | "DEVICE_NOT_PAIRED"
  | "PAIRING_CODE_INVALID";

export class LoyaltyError extends DomainError<LoyaltyReason> {}
