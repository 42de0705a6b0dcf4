import type { DatabaseTransactionConnection } from "@money/db";
import type { AuditRecorder } from "@money/kafka";
import { actorOf, type Caller } from "@money/rpc";
import { findAccount, updateOverdraftLimit } from "../../db/accounts-table.js";
import { requireAmountOrZero } from "../input/amount.js";
import { requireReason } from "../input/text-fields.js";
import { requireUuid } from "../input/uuid.js";
import { LedgerError } from "../ledger-error.js";
import { accountAuditView, type Account } from "./account.js";

/**
 * Sets (or, with empty text, removes) how far past its flag's bound an
 * account may go. Lowering it below what the account already uses is
 * allowed: the account then only takes movements that bring it back.
 *
 * Errors: INVALID_ARGUMENT, REASON_REQUIRED, ACCOUNT_NOT_FOUND, ACCOUNT_CLOSED, INVALID_AMOUNT.
 */
export async function setOverdraftLimit(
  tx: DatabaseTransactionConnection,
  audit: AuditRecorder,
  caller: Caller,
  input: { accountId: string; overdraftLimit: string; reason: string },
): Promise<Account> {
  const id = requireUuid(input.accountId, "account_id");
  const reason = requireReason(input.reason);
  const before = await findAccount(tx, id, { forUpdate: true });
  if (!before) throw new LedgerError("ACCOUNT_NOT_FOUND", `no account ${id}`);
  if (before.status === "closed") throw new LedgerError("ACCOUNT_CLOSED", `account ${id} is closed`);
  const limitMinor =
    input.overdraftLimit === ""
      ? null
      : requireAmountOrZero(input.overdraftLimit, before.currency, "overdraft_limit");
  await updateOverdraftLimit(tx, id, limitMinor);
  const after = { ...before, overdraftLimitMinor: limitMinor };
  await audit.record(tx, {
    action: "account.overdraft_limit_changed",
    objectType: "account",
    objectId: id,
    actor: actorOf(caller),
    before: accountAuditView(before),
    after: accountAuditView(after),
    reason,
    occurredAt: new Date(),
  });
  return after;
}
