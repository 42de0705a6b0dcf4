import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  GetBalanceResponseSchema,
  GetTransactionResponseSchema,
  ListEntriesResponseSchema,
  ListTransactionHistoryResponseSchema,
  ListTransactionsResponseSchema,
  TransactionStatus as WireStatus,
  type LedgerService,
} from "@money/proto/ledger/v1/ledger_pb";
import { callerOf } from "@money/rpc";
import type { DatabasePool } from "@money/db";
import { getBalance } from "../domain/balances/get-balance.js";
import { listEntries } from "../domain/balances/list-entries.js";
import { LedgerError } from "../domain/ledger-error.js";
import { getTransaction, getTransactionHistory } from "../domain/transactions/get-transaction.js";
import { listTransactions } from "../domain/transactions/list-transactions.js";
import { balanceToWire } from "./balance-mapper.js";
import {
  dateFromWire,
  entryToWire,
  statusChangeToWire,
  statusFromWire,
  transactionToWire,
} from "./transaction-mapper.js";

type QueryMethods =
  "getTransaction" | "listTransactionHistory" | "listTransactions" | "getBalance" | "listEntries";

export function queryHandlers(pool: DatabasePool): Pick<ServiceImpl<typeof LedgerService>, QueryMethods> {
  return {
    async getTransaction(request) {
      const transaction = await getTransaction(pool, request.transactionId);
      return create(GetTransactionResponseSchema, { transaction: transactionToWire(transaction) });
    },

    async listTransactionHistory(request) {
      const changes = await getTransactionHistory(pool, request.transactionId);
      return create(ListTransactionHistoryResponseSchema, { changes: changes.map(statusChangeToWire) });
    },

    async listTransactions(request) {
      const status = statusFromWire(request.status);
      if (status === null && request.status !== WireStatus.UNSPECIFIED) {
        throw new LedgerError("INVALID_ARGUMENT", `status ${request.status} is not a transaction status`);
      }
      const page = await listTransactions(pool, {
        ...request,
        status,
        createdFrom: dateFromWire(request.createdFrom),
        createdTo: dateFromWire(request.createdTo),
      });
      return create(ListTransactionsResponseSchema, {
        transactions: page.transactions.map(transactionToWire),
        nextPageToken: page.nextPageToken,
      });
    },

    async getBalance(request, ctx) {
      const view = await getBalance(pool, callerOf(ctx), {
        accountId: request.accountId,
        asOf: dateFromWire(request.asOf),
      });
      return create(GetBalanceResponseSchema, { balance: balanceToWire(view) });
    },

    async listEntries(request, ctx) {
      const page = await listEntries(pool, callerOf(ctx), {
        accountId: request.accountId,
        from: dateFromWire(request.postedFrom),
        to: dateFromWire(request.postedTo),
        pageSize: request.pageSize,
        pageToken: request.pageToken,
      });
      return create(ListEntriesResponseSchema, {
        entries: page.entries.map(entryToWire),
        nextPageToken: page.nextPageToken,
      });
    },
  };
}
