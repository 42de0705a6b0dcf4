import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { formatAmount } from "@money/money";
import { BalanceSchema, type Balance } from "@money/proto/ledger/v1/ledger_pb";
import { availableBalance, pendingBalance, postedBalance } from "../domain/balances/balance.js";
import type { BalanceView } from "../domain/balances/get-balance.js";

export function balanceToWire(view: BalanceView): Balance {
  const { account } = view;
  const money = (minor: bigint) => formatAmount(minor, account.currency);
  if (view.kind === "historical") {
    return create(BalanceSchema, {
      accountId: account.id,
      currency: account.currency.code,
      posted: money(view.postedMinor),
      version: view.version,
      asOf: timestampFromDate(view.asOf),
    });
  }
  const f = view.figures;
  return create(BalanceSchema, {
    accountId: account.id,
    currency: account.currency.code,
    posted: money(postedBalance(account.type, f)),
    pending: money(pendingBalance(account.type, f)),
    available: money(availableBalance(account.type, f)),
    postedDebits: money(f.postedDebitsMinor),
    postedCredits: money(f.postedCreditsMinor),
    pendingDebits: money(f.pendingDebitsMinor),
    pendingCredits: money(f.pendingCreditsMinor),
    version: f.version,
  });
}
