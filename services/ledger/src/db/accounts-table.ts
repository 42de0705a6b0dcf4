import { sql, type CommonQueryMethods } from "@money/db";
import { findCurrency } from "@money/money";
import type { Account, AccountStatus, AccountType } from "../domain/accounts/account.js";

export interface AccountRow {
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

/** The columns of an account with its version, from `accounts a JOIN balances b`. */
export const ACCOUNT_COLUMNS = sql.fragment`
  a.id, a.type, a.owner_ref, a.currency, a.debits_must_not_exceed_credits, a.credits_must_not_exceed_debits,
  a.overdraft_limit_minor, a.status, a.metadata, b.version, a.created_at`;

export function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    type: row.type,
    ownerRef: row.owner_ref,
    // The currency was checked when the account was opened; the list only grows.
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

/** Inserts the account and its zero balance row. */
export async function insertAccount(
  db: CommonQueryMethods,
  account: Omit<Account, "version" | "createdAt">,
): Promise<Account> {
  const row = await db.one(sql.unsafe`
    WITH a AS (
      INSERT INTO accounts (id, type, owner_ref, currency, debits_must_not_exceed_credits,
                            credits_must_not_exceed_debits, overdraft_limit_minor, status, metadata)
      VALUES (${account.id}, ${account.type}, ${account.ownerRef}, ${account.currency.code},
              ${account.debitsMustNotExceedCredits}, ${account.creditsMustNotExceedDebits},
              ${account.overdraftLimitMinor?.toString() ?? null}, ${account.status}, ${sql.jsonb(account.metadata)})
      RETURNING *
    ), b AS (
      INSERT INTO balances (account_id) SELECT id FROM a RETURNING version
    )
    SELECT ${ACCOUNT_COLUMNS} FROM a, b
  `);
  return toAccount(row as unknown as AccountRow);
}

export async function findAccount(
  db: CommonQueryMethods,
  id: string,
  { forUpdate = false } = {},
): Promise<Account | null> {
  const row = await db.maybeOne(sql.unsafe`
    SELECT ${ACCOUNT_COLUMNS} FROM accounts a JOIN balances b ON b.account_id = a.id
    WHERE a.id = ${id} ${forUpdate ? sql.fragment`FOR UPDATE OF a` : sql.fragment``}
  `);
  return row ? toAccount(row as unknown as AccountRow) : null;
}

/** One page of an owner's accounts, oldest first, after (created_at, id). */
export async function listAccountsOfOwner(
  db: CommonQueryMethods,
  ownerRef: string,
  after: { createdAt: string; id: string } | null,
  limit: number,
): Promise<Account[]> {
  const rows = await db.any(sql.unsafe`
    SELECT ${ACCOUNT_COLUMNS} FROM accounts a JOIN balances b ON b.account_id = a.id
    WHERE a.owner_ref = ${ownerRef}
      ${after ? sql.fragment`AND (a.created_at, a.id) > (${after.createdAt}::timestamptz, ${after.id}::uuid)` : sql.fragment``}
    ORDER BY a.created_at, a.id
    LIMIT ${limit}
  `);
  return rows.map((row) => toAccount(row as unknown as AccountRow));
}

export async function updateAccountStatus(
  db: CommonQueryMethods,
  id: string,
  status: AccountStatus,
): Promise<void> {
  await db.query(sql.unsafe`UPDATE accounts SET status = ${status} WHERE id = ${id}`);
}

export async function updateOverdraftLimit(
  db: CommonQueryMethods,
  id: string,
  limitMinor: bigint | null,
): Promise<void> {
  await db.query(
    sql.unsafe`UPDATE accounts SET overdraft_limit_minor = ${limitMinor?.toString() ?? null} WHERE id = ${id}`,
  );
}
