import { sql, type CommonQueryMethods } from "@money/db";
import type { WalletRecord } from "../domain/wallets/wallet.js";

interface WalletRow {
  id: string;
  owner_ref: string;
  account_id: string;
  mobile_number: string;
  daily_limit_minor: string;
  created_at: Date;
}

function toWallet(row: WalletRow): WalletRecord {
  return {
    id: row.id,
    ownerRef: row.owner_ref,
    accountId: row.account_id,
    mobileNumber: row.mobile_number,
    dailyLimitMinor: BigInt(row.daily_limit_minor),
    createdAt: row.created_at,
  };
}

export async function insertWallet(
  db: CommonQueryMethods,
  wallet: Omit<WalletRecord, "createdAt">,
): Promise<WalletRecord> {
  const row = await db.one(sql.unsafe`
    INSERT INTO wallets (id, owner_ref, account_id, mobile_number, daily_limit_minor)
    VALUES (${wallet.id}, ${wallet.ownerRef}, ${wallet.accountId}, ${wallet.mobileNumber},
            ${wallet.dailyLimitMinor.toString()})
    RETURNING *
  `);
  return toWallet(row as unknown as WalletRow);
}

export async function findWallet(db: CommonQueryMethods, id: string): Promise<WalletRecord | null> {
  const row = await db.maybeOne(sql.unsafe`SELECT * FROM wallets WHERE id = ${id}`);
  return row ? toWallet(row as unknown as WalletRow) : null;
}

export async function findWalletByMobile(
  db: CommonQueryMethods,
  mobileNumber: string,
): Promise<WalletRecord | null> {
  const row = await db.maybeOne(sql.unsafe`SELECT * FROM wallets WHERE mobile_number = ${mobileNumber}`);
  return row ? toWallet(row as unknown as WalletRow) : null;
}

/**
 * Adds `amountMinor` to what the wallet spent on `day` if that stays within
 * `limitMinor`, under the day's row lock (the upsert takes it), so concurrent
 * transfers cannot both fit in the last of the limit. Returns false, and
 * changes nothing, when it would not fit.
 */
export async function spendFromDailyLimit(
  db: CommonQueryMethods,
  walletId: string,
  day: string,
  amountMinor: bigint,
  limitMinor: bigint,
): Promise<boolean> {
  if (amountMinor > limitMinor) return false;
  const spent = await db.maybeOneFirst(sql.unsafe`
    INSERT INTO wallet_daily_usage AS u (wallet_id, day, spent_minor)
    VALUES (${walletId}, ${day}::date, ${amountMinor.toString()})
    ON CONFLICT (wallet_id, day) DO UPDATE SET spent_minor = u.spent_minor + excluded.spent_minor
      WHERE u.spent_minor + excluded.spent_minor <= ${limitMinor.toString()}
    RETURNING spent_minor
  `);
  return spent !== null;
}

export async function spentOn(db: CommonQueryMethods, walletId: string, day: string): Promise<bigint> {
  const spent = await db.maybeOneFirst(sql.unsafe`
    SELECT spent_minor FROM wallet_daily_usage WHERE wallet_id = ${walletId} AND day = ${day}::date
  `);
  return spent === null ? 0n : BigInt(spent as string);
}
