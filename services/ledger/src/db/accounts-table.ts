import { sql, type CommonQueryMethods } from "@money/db";
import { findCurrency } from "@money/money";
import type { Account, AccountStatus, AccountType } from "../domain/accounts/account.js";

interface AccountRow {
  id: string;
  type: AccountType;
  owner_ref: string;
  currency: string;
  debits_must_not_exceed_credits: boolean;
  credits_must_not_exceed_debits: boolean;
  overdraft_limit_minor: string | null;
  status: AccountStatus;
  metadata: Record<string, string>;
  version: string;
  created_at: Date;
}

function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    type: row.type,
    ownerRef: row.owner_ref,
    currency: findCurrency(row.currency)!,
    debitsMustNotExceedCredits: row.debits_must_not_exceed_credits,
    creditsMustNotExceedDebits: row.credits_must_not_exceed_debits,
    overdraftLimitMinor: row.overdraft_limit_minor === null ? null : BigInt(row.overdraft_limit_minor),
    status: row.status,
    metadata: row.metadata,
    version: BigInt(row.version),
    createdAt: row.created_at,
  };
}

export async function insertAccount(
  db: CommonQueryMethods,
  account: Omit<Account, "version" | "createdAt">,
): Promise<Account> {
  const row = await db.one(sql.unsafe`
    INSERT INTO accounts (id, type, owner_ref, currency, debits_must_not_exceed_credits,
                          credits_must_not_exceed_debits, overdraft_limit_minor, status, metadata)
    VALUES (${account.id}, ${account.type}, ${account.ownerRef}, ${account.currency.code},
            ${account.debitsMustNotExceedCredits}, ${account.creditsMustNotExceedDebits},
            ${account.overdraftLimitMinor?.toString() ?? null}, ${account.status}, ${sql.jsonb(account.metadata)})
    RETURNING *
  `);
  return toAccount(row as unknown as AccountRow);
}

export async function findAccount(db: CommonQueryMethods, id: string): Promise<Account | null> {
  const row = await db.maybeOne(sql.unsafe`SELECT * FROM accounts WHERE id = ${id}`);
  return row ? toAccount(row as unknown as AccountRow) : null;
}
