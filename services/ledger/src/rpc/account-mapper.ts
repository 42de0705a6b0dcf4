import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { formatAmount } from "@money/money";
import {
  AccountSchema,
  AccountStatus,
  AccountType,
  type Account as AccountMessage,
} from "@money/proto/ledger/v1/ledger_pb";
import type { Account } from "../domain/accounts/account.js";

const TYPE_TO_WIRE = {
  asset: AccountType.ASSET,
  liability: AccountType.LIABILITY,
  equity: AccountType.EQUITY,
  revenue: AccountType.REVENUE,
  expense: AccountType.EXPENSE,
} as const;

const STATUS_TO_WIRE = {
  active: AccountStatus.ACTIVE,
  frozen: AccountStatus.FROZEN,
  closed: AccountStatus.CLOSED,
} as const;

/** Wire enum → domain type name; UNSPECIFIED and unknown numbers become "" and are refused by the domain. */
export function accountTypeFromWire(type: AccountType): string {
  return Object.entries(TYPE_TO_WIRE).find(([, wire]) => wire === type)?.[0] ?? "";
}

export function accountTypeToWire(type: keyof typeof TYPE_TO_WIRE): AccountType {
  return TYPE_TO_WIRE[type];
}

export function accountToWire(account: Account): AccountMessage {
  return create(AccountSchema, {
    id: account.id,
    type: TYPE_TO_WIRE[account.type],
    ownerRef: account.ownerRef,
    currency: account.currency.code,
    debitsMustNotExceedCredits: account.debitsMustNotExceedCredits,
    creditsMustNotExceedDebits: account.creditsMustNotExceedDebits,
    overdraftLimit:
      account.overdraftLimitMinor === null ? "" : formatAmount(account.overdraftLimitMinor, account.currency),
    status: STATUS_TO_WIRE[account.status],
    metadata: account.metadata,
    version: account.version,
    createdAt: timestampFromDate(account.createdAt),
  });
}
