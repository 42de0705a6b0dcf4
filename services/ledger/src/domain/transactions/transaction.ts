import type { Currency } from "@money/money";

export type Direction = "debit" | "credit";
export type TransactionKind = "posted" | "pending" | "reversal";
export type TransactionPurpose =
  "journal" | "payment" | "transfer" | "wallet_top_up" | "wallet_transfer" | "reversal";
export type TransactionStatus =
  | "initiated"
  | "processing"
  | "settled"
  | "failed"
  | "refund_initiated"
  | "refund_processing"
  | "refunded"
  | "refund_failed";
export type HoldStatus = "open" | "posted" | "voided" | "expired";

/** A posted line of the journal; it never changes. Amounts in minor units of `currency`. */
export interface EntryRecord {
  transactionId: string;
  accountId: string;
  direction: Direction;
  amountMinor: bigint;
  currency: Currency;
  /** The account's posted balance on its normal side, before and after. */
  balanceBeforeMinor: bigint;
  balanceAfterMinor: bigint;
  /** The account's version after this entry. */
  accountVersion: bigint;
  postedAt: Date;
}

/** What a pending transaction holds. */
export interface HoldRecord {
  debitAccountId: string;
  creditAccountId: string;
  amountMinor: bigint;
  /** What was posted of it; null until posted. */
  postedMinor: bigint | null;
  status: HoldStatus;
  expiresAt: Date;
}

export interface TransactionRecord {
  id: string;
  kind: TransactionKind;
  purpose: TransactionPurpose;
  status: TransactionStatus;
  /** Null when the legs span several currencies (then amountMinor is null too). */
  currency: Currency | null;
  /** The sum of its debit legs; for a pending transaction the amount held, then posted. */
  amountMinor: bigint | null;
  reversedMinor: bigint;
  reversesTransactionId: string | null;
  externalRef: string;
  description: string;
  reason: string;
  metadata: Record<string, string>;
  effectiveAt: Date;
  createdAt: Date;
  performedBy: string;
  performedByRole: string;
  entries: EntryRecord[];
  hold: HoldRecord | null;
}

/** One step of a transaction's lifecycle; `from` is null for the status it was created in. */
export interface StatusChangeRecord {
  transactionId: string;
  from: TransactionStatus | null;
  to: TransactionStatus;
  performedBy: string;
  performedByRole: string;
  reason: string;
  changedAt: Date;
}

/**
 * The JSON view of a transaction for audit records: flat strings, amounts in
 * minor units, each side's legs as "account=minor" pairs. Flat because a
 * batch writes a thousand of them and a nested Struct costs ten times more
 * to encode.
 */
export function transactionAuditView(t: TransactionRecord): Record<string, string> {
  const side = (direction: Direction) =>
    t.entries
      .filter((e) => e.direction === direction)
      .map((e) => `${e.accountId}=${e.amountMinor}`)
      .join(";");
  return {
    id: t.id,
    kind: t.kind,
    purpose: t.purpose,
    status: t.status,
    currency: t.currency?.code ?? "",
    amount_minor: t.amountMinor?.toString() ?? "",
    reversed_minor: t.reversedMinor.toString(),
    reverses_transaction_id: t.reversesTransactionId ?? "",
    external_ref: t.externalRef,
    debits: side("debit"),
    credits: side("credit"),
    ...(t.hold
      ? {
          hold_debit_account_id: t.hold.debitAccountId,
          hold_credit_account_id: t.hold.creditAccountId,
          hold_amount_minor: t.hold.amountMinor.toString(),
          hold_posted_minor: t.hold.postedMinor?.toString() ?? "",
          hold_status: t.hold.status,
        }
      : {}),
  };
}
