import type { Currency } from "@money/money";

export const ACCOUNT_TYPES = ["asset", "liability", "equity", "revenue", "expense"] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];
export type AccountStatus = "active" | "frozen" | "closed";

export interface Account {
  id: string;
  type: AccountType;
  ownerRef: string;
  currency: Currency;
  debitsMustNotExceedCredits: boolean;
  creditsMustNotExceedDebits: boolean;
  /** Minor units past its flag's bound the account may go; null for none. */
  overdraftLimitMinor: bigint | null;
  status: AccountStatus;
  metadata: Record<string, string>;
  /** The number of entries posted to the account (from its balance row). */
  version: bigint;
  createdAt: Date;
}

/** The JSON view of an account for audit records: amounts as decimal strings. */
export function accountAuditView(account: Account): Record<string, string | boolean> {
  return {
    id: account.id,
    type: account.type,
    owner_ref: account.ownerRef,
    currency: account.currency.code,
    status: account.status,
    debits_must_not_exceed_credits: account.debitsMustNotExceedCredits,
    credits_must_not_exceed_debits: account.creditsMustNotExceedDebits,
    overdraft_limit_minor: account.overdraftLimitMinor?.toString() ?? "",
  };
}
