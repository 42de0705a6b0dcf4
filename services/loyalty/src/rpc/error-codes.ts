import { Code } from "@connectrpc/connect";
import { PLATFORM_CODES, type ErrorCodeTable } from "@money/rpc";
import type { LoyaltyReason } from "../domain/loyalty-error.js";

/**
 * The one table from loyalty refusals to Connect codes.
 *
 * A wrong or locked staff PIN is PERMISSION_DENIED, not UNAUTHENTICATED: the
 * terminal's own credential is fine, and a POS treats UNAUTHENTICATED as
 * "pair me again". A revoked or unknown device is UNAUTHENTICATED: its token
 * is no longer a valid credential, exactly like an expired one.
 */
export const LOYALTY_ERROR_CODES: ErrorCodeTable<LoyaltyReason> = {
  ...PLATFORM_CODES,
  INVALID_ARGUMENT: Code.InvalidArgument,
  INVALID_AMOUNT: Code.InvalidArgument,
  UNKNOWN_CURRENCY: Code.InvalidArgument,
  PIN_REQUIRED: Code.InvalidArgument,
  PROGRAM_NOT_FOUND: Code.NotFound,
  STORE_NOT_FOUND: Code.NotFound,
  STAFF_NOT_FOUND: Code.NotFound,
  DEVICE_NOT_FOUND: Code.NotFound,
  CARD_NOT_FOUND: Code.NotFound,
  TRANSACTION_NOT_FOUND: Code.NotFound,
  REWARD_NOT_FOUND: Code.NotFound,
  CARD_NUMBER_TAKEN: Code.AlreadyExists,
  ORDER_ALREADY_EARNED: Code.AlreadyExists,
  CURRENCY_MISMATCH: Code.FailedPrecondition,
  CARD_INACTIVE: Code.FailedPrecondition,
  CARD_ALREADY_ACTIVE: Code.FailedPrecondition,
  CARD_ALREADY_INACTIVE: Code.FailedPrecondition,
  STAMPS_DISABLED: Code.FailedPrecondition,
  STAMP_COOLDOWN: Code.FailedPrecondition,
  STAMPS_PER_VISIT_EXCEEDED: Code.FailedPrecondition,
  DAILY_CAP_REACHED: Code.FailedPrecondition,
  BELOW_MINIMUM_SPEND: Code.FailedPrecondition,
  INSUFFICIENT_POINTS: Code.FailedPrecondition,
  INSUFFICIENT_STAMPS: Code.FailedPrecondition,
  NOT_VOIDABLE: Code.FailedPrecondition,
  VOID_EXCEEDS_ORIGINAL: Code.FailedPrecondition,
  ORDER_AMOUNT_MISMATCH: Code.FailedPrecondition,
  REFUND_EXCEEDS_PURCHASE: Code.FailedPrecondition,
  PIN_NOT_LOCKED: Code.FailedPrecondition,
  DEVICE_ALREADY_REVOKED: Code.FailedPrecondition,
  PAIRING_UNAVAILABLE: Code.FailedPrecondition,
  PIN_INVALID: Code.PermissionDenied,
  PIN_LOCKED: Code.PermissionDenied,
  DEVICE_REVOKED: Code.Unauthenticated,
  DEVICE_NOT_PAIRED: Code.Unauthenticated,
  // The code is the pairing call's only credential.
  PAIRING_CODE_INVALID: Code.Unauthenticated,
};
