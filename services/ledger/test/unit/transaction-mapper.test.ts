import { describe, expect, it } from "@jest/globals";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { findCurrency, formatAmount } from "@money/money";
import {
  Direction,
  EntrySchema,
  HoldSchema,
  HoldStatus,
  TransactionKind,
  TransactionPurpose,
  TransactionSchema,
  TransactionStatus,
} from "@money/proto/ledger/v1/ledger_pb";
import type { EntryRecord, TransactionRecord } from "../../src/domain/transactions/transaction.js";
import { transactionToWire } from "../../src/rpc/transaction-mapper.js";

const EUR = findCurrency("EUR")!;
const at = (ms: number) => new Date(Date.UTC(2026, 0, 2, 3, 4, 5, ms));

function entry(accountId: string, direction: "debit" | "credit", version: bigint): EntryRecord {
  return {
    transactionId: "t-1",
    accountId,
    direction,
    amountMinor: 1_234n,
    currency: EUR,
    balanceBeforeMinor: 0n,
    balanceAfterMinor: direction === "debit" ? -1_234n : 1_234n,
    accountVersion: version,
    postedAt: at(7),
  };
}

const posted: TransactionRecord = {
  id: "t-1",
  kind: "posted",
  purpose: "transfer",
  status: "settled",
  currency: EUR,
  amountMinor: 1_234n,
  reversedMinor: 0n,
  reversesTransactionId: null,
  externalRef: "ref-1",
  description: "rent",
  reason: "",
  metadata: { invoice: "42" },
  effectiveAt: at(1),
  createdAt: at(999),
  performedBy: "user-1",
  performedByRole: "customer",
  entries: [entry("a-1", "debit", 3n), entry("a-2", "credit", 9n)],
  hold: null,
};

/** The message as create() builds it: what transactionToWire's literal must equal. */
function createdWire(t: TransactionRecord) {
  const money = (minor: bigint | null) => (minor === null ? "" : formatAmount(minor, EUR));
  return create(TransactionSchema, {
    id: t.id,
    kind: t.kind === "pending" ? TransactionKind.PENDING : TransactionKind.POSTED,
    purpose: TransactionPurpose.TRANSFER,
    status: t.kind === "pending" ? TransactionStatus.PROCESSING : TransactionStatus.SETTLED,
    currency: "EUR",
    amount: money(t.amountMinor),
    reversedAmount: money(t.reversedMinor),
    reversesTransactionId: "",
    externalRef: t.externalRef,
    description: t.description,
    reason: t.reason,
    metadata: t.metadata,
    effectiveAt: timestampFromDate(t.effectiveAt),
    createdAt: timestampFromDate(t.createdAt),
    performedBy: t.performedBy,
    entries: t.entries.map((e) =>
      create(EntrySchema, {
        transactionId: e.transactionId,
        accountId: e.accountId,
        direction: e.direction === "debit" ? Direction.DEBIT : Direction.CREDIT,
        amount: money(e.amountMinor),
        currency: "EUR",
        balanceBefore: money(e.balanceBeforeMinor),
        balanceAfter: money(e.balanceAfterMinor),
        accountVersion: e.accountVersion,
        postedAt: timestampFromDate(e.postedAt),
      }),
    ),
    ...(t.hold
      ? {
          hold: create(HoldSchema, {
            debitAccountId: t.hold.debitAccountId,
            creditAccountId: t.hold.creditAccountId,
            amount: money(t.hold.amountMinor),
            postedAmount: money(t.hold.postedMinor),
            status: HoldStatus.OPEN,
            expiresAt: timestampFromDate(t.hold.expiresAt),
          }),
        }
      : {}),
  });
}

describe("transactionToWire", () => {
  const pending: TransactionRecord = {
    ...posted,
    kind: "pending",
    status: "processing",
    entries: [],
    hold: {
      debitAccountId: "a-1",
      creditAccountId: "a-2",
      amountMinor: 1_234n,
      postedMinor: null,
      status: "open",
      expiresAt: at(500),
    },
  };

  it.each([
    ["a posted transaction", posted],
    ["a pending one with its hold", pending],
  ])("is the message create() builds, for %s", (_, t) => {
    const wire = transactionToWire(t);
    expect(wire).toStrictEqual(createdWire(t));
    expect(toBinary(TransactionSchema, wire)).toEqual(toBinary(TransactionSchema, createdWire(t)));
  });

  it("does not share the record's metadata", () => {
    const wire = transactionToWire(posted);
    wire.metadata["added"] = "x";
    expect(posted.metadata).toEqual({ invoice: "42" });
  });
});
