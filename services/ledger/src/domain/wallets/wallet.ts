import { LedgerError } from "../ledger-error.js";

export interface WalletRecord {
  id: string;
  ownerRef: string;
  /** The wallet's liability account: debits may not exceed credits, so it never goes below zero. */
  accountId: string;
  /** E.164. */
  mobileNumber: string;
  /** How much may leave the wallet per UTC day, in minor units of its currency. */
  dailyLimitMinor: bigint;
  createdAt: Date;
}

const E164 = /^\+[1-9]\d{7,14}$/;

/** Errors: INVALID_MOBILE_NUMBER unless E.164 ("+447700900123"): no spaces, dashes or leading zeros. */
export function requireMobileNumber(text: string, field: string): string {
  if (!E164.test(text)) {
    throw new LedgerError("INVALID_MOBILE_NUMBER", `${field} must be an E.164 number such as +447700900123`);
  }
  return text;
}

/** The UTC calendar day of `at`, as the daily limit counts it ("2026-11-22"). */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}
