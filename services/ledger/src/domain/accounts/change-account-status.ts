import type { DatabaseTransactionConnection } from "@money/db";
import type { AuditRecorder } from "@money/kafka";
import { actorOf, type Caller } from "@money/rpc";
import { findAccount, updateAccountStatus } from "../../db/accounts-table.js";
import { findBalance } from "../../db/balances-table.js";
import { requireReason } from "../input/text-fields.js";
import { requireUuid } from "../input/uuid.js";
import { LedgerError } from "../ledger-error.js";
import { accountAuditView, type Account, type AccountStatus } from "./account.js";

/** Where an account's status may go: closed is final. */
const NEXT: Readonly<Record<AccountStatus, readonly AccountStatus[]>> = {
  active: ["frozen", "closed"],
  frozen: ["active", "closed"],
  closed: [],
};

const ACTIONS: Readonly<Record<AccountStatus, string>> = {
  active: "account.unfrozen",
  frozen: "account.frozen",
  closed: "account.closed",
};

/**
 * Freezes, unfreezes or closes an account, with the admin's reason in the
 * audit trail. Its row is locked first, so a posting in flight either
 * finishes before the change or sees it. Closing requires a zero posted and
 * pending balance.
 *
 * Errors: INVALID_ARGUMENT, REASON_REQUIRED, ACCOUNT_NOT_FOUND, INVALID_ACCOUNT_TRANSITION,
 * ACCOUNT_NOT_EMPTY.
 */
export async function changeAccountStatus(
  tx: DatabaseTransactionConnection,
  audit: AuditRecorder,
  caller: Caller,
  input: { accountId: string; to: AccountStatus; reason: string },
): Promise<Account> {
  const id = requireUuid(input.accountId, "account_id");
  const reason = requireReason(input.reason);
  const before = await findAccount(tx, id, { forUpdate: true });
  if (!before) throw new LedgerError("ACCOUNT_NOT_FOUND", `no account ${id}`);
  if (!NEXT[before.status].includes(input.to)) {
    throw new LedgerError(
      "INVALID_ACCOUNT_TRANSITION",
      `a ${before.status} account cannot become ${input.to}`,
    );
  }
  if (input.to === "closed") {
    const { figures } = (await findBalance(tx, id))!;
    if (
      figures.postedDebitsMinor !== figures.postedCreditsMinor ||
      figures.pendingDebitsMinor !== 0n ||
      figures.pendingCreditsMinor !== 0n
    ) {
      throw new LedgerError("ACCOUNT_NOT_EMPTY", `account ${id} still has a balance or open holds`);
    }
  }
  await updateAccountStatus(tx, id, input.to);
  const after = { ...before, status: input.to };
  await audit.record(tx, {
    action: ACTIONS[input.to],
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
