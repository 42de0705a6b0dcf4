import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { formatAmount } from "@money/money";
import {
  AccountBalanceSchema,
  Direction as WireDirection,
  EntrySchema,
  HoldSchema,
  HoldStatus as WireHoldStatus,
  StatusChangeSchema,
  TransactionKind as WireKind,
  TransactionPurpose as WirePurpose,
  TransactionSchema,
  TransactionStatus as WireStatus,
  type AccountBalance,
  type Entry,
  type Hold,
  type Leg,
  type NewTransaction,
  type StatusChange,
  type Transaction,
} from "@money/proto/ledger/v1/ledger_pb";
import { timestampOf } from "@money/kafka";
import { availableBalance, postedBalance } from "../domain/balances/balance.js";
import type { BookAccount } from "../domain/posting/book.js";
import type { LegInput, NewTransactionInput } from "../domain/posting/new-transaction.js";
import type {
  Direction,
  EntryRecord,
  HoldStatus,
  StatusChangeRecord,
  TransactionKind,
  TransactionPurpose,
  TransactionRecord,
  TransactionStatus,
} from "../domain/transactions/transaction.js";

const DIRECTION_TO_WIRE: Record<Direction, WireDirection> = {
  debit: WireDirection.DEBIT,
  credit: WireDirection.CREDIT,
};
const KIND_TO_WIRE: Record<TransactionKind, WireKind> = {
  posted: WireKind.POSTED,
  pending: WireKind.PENDING,
  reversal: WireKind.REVERSAL,
};
const PURPOSE_TO_WIRE: Record<TransactionPurpose, WirePurpose> = {
  journal: WirePurpose.JOURNAL,
  payment: WirePurpose.PAYMENT,
  transfer: WirePurpose.TRANSFER,
  wallet_top_up: WirePurpose.WALLET_TOP_UP,
  wallet_transfer: WirePurpose.WALLET_TRANSFER,
  reversal: WirePurpose.REVERSAL,
};
const STATUS_TO_WIRE: Record<TransactionStatus, WireStatus> = {
  initiated: WireStatus.INITIATED,
  processing: WireStatus.PROCESSING,
  settled: WireStatus.SETTLED,
  failed: WireStatus.FAILED,
  refund_initiated: WireStatus.REFUND_INITIATED,
  refund_processing: WireStatus.REFUND_PROCESSING,
  refunded: WireStatus.REFUNDED,
  refund_failed: WireStatus.REFUND_FAILED,
};
const HOLD_STATUS_TO_WIRE: Record<HoldStatus, WireHoldStatus> = {
  open: WireHoldStatus.OPEN,
  posted: WireHoldStatus.POSTED,
  voided: WireHoldStatus.VOIDED,
  expired: WireHoldStatus.EXPIRED,
};

function fromWire<T extends string, W>(table: Record<T, W>, wire: W): T | null {
  return (Object.entries(table) as [T, W][]).find(([, w]) => w === wire)?.[0] ?? null;
}

/** Wire status → domain status; UNSPECIFIED and unknown numbers become null. */
export function statusFromWire(status: WireStatus): TransactionStatus | null {
  return fromWire(STATUS_TO_WIRE, status);
}

export function dateFromWire(timestamp: Timestamp | undefined): Date | null {
  return timestamp ? timestampDate(timestamp) : null;
}

export function legFromWire(leg: Leg): LegInput {
  return {
    accountId: leg.accountId,
    direction: fromWire(DIRECTION_TO_WIRE, leg.direction),
    amount: leg.amount,
    currency: leg.currency,
    expectedVersion: leg.expectedVersion,
  };
}

export function newTransactionFromWire(message: NewTransaction | undefined): NewTransactionInput {
  return {
    legs: (message?.legs ?? []).map(legFromWire),
    externalRef: message?.externalRef ?? "",
    description: message?.description ?? "",
    metadata: message?.metadata ?? {},
    effectiveAt: dateFromWire(message?.effectiveAt),
    reason: message?.reason ?? "",
  };
}

// Entries and transactions are built as the literal messages `create` would return (every field
// set, zero values included): each is mapped once for its event and once for the response, and
// `create` walks the schema reflectively for every message and timestamp, which made it a
// large share of a batch's CPU. The mapper test holds these to `create`'s messages.

export function entryToWire(entry: EntryRecord): Entry {
  const money = (minor: bigint) => formatAmount(minor, entry.currency);
  return {
    $typeName: EntrySchema.typeName as Entry["$typeName"],
    transactionId: entry.transactionId,
    accountId: entry.accountId,
    direction: DIRECTION_TO_WIRE[entry.direction],
    amount: money(entry.amountMinor),
    currency: entry.currency.code,
    balanceBefore: money(entry.balanceBeforeMinor),
    balanceAfter: money(entry.balanceAfterMinor),
    accountVersion: entry.accountVersion,
    postedAt: timestampOf(entry.postedAt),
  };
}

export function transactionToWire(t: TransactionRecord): Transaction {
  const money = (minor: bigint | null) =>
    minor === null || t.currency === null ? "" : formatAmount(minor, t.currency);
  const wire: Transaction = {
    $typeName: TransactionSchema.typeName as Transaction["$typeName"],
    id: t.id,
    kind: KIND_TO_WIRE[t.kind],
    purpose: PURPOSE_TO_WIRE[t.purpose],
    status: STATUS_TO_WIRE[t.status],
    currency: t.currency?.code ?? "",
    amount: money(t.amountMinor),
    reversedAmount: money(t.reversedMinor),
    reversesTransactionId: t.reversesTransactionId ?? "",
    externalRef: t.externalRef,
    description: t.description,
    reason: t.reason,
    // A copy, as create makes: the message must not share the record's object.
    metadata: { ...t.metadata },
    effectiveAt: timestampOf(t.effectiveAt),
    createdAt: timestampOf(t.createdAt),
    performedBy: t.performedBy,
    entries: t.entries.map(entryToWire),
  };
  if (t.hold) {
    wire.hold = {
      $typeName: HoldSchema.typeName as Hold["$typeName"],
      debitAccountId: t.hold.debitAccountId,
      creditAccountId: t.hold.creditAccountId,
      amount: money(t.hold.amountMinor),
      postedAmount: money(t.hold.postedMinor),
      status: HOLD_STATUS_TO_WIRE[t.hold.status],
      expiresAt: timestampOf(t.hold.expiresAt),
    };
  }
  return wire;
}

export function statusChangeToWire(change: StatusChangeRecord): StatusChange {
  return create(StatusChangeSchema, {
    fromStatus: change.from === null ? WireStatus.UNSPECIFIED : STATUS_TO_WIRE[change.from],
    toStatus: STATUS_TO_WIRE[change.to],
    performedBy: change.performedBy,
    performedByRole: change.performedByRole,
    reason: change.reason,
    changedAt: timestampFromDate(change.changedAt),
  });
}

export function accountBalanceToWire({ account, figures }: BookAccount): AccountBalance {
  return create(AccountBalanceSchema, {
    accountId: account.id,
    currency: account.currency.code,
    posted: formatAmount(postedBalance(account.type, figures), account.currency),
    available: formatAmount(availableBalance(account.type, figures), account.currency),
    version: figures.version,
  });
}
