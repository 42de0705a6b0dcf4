import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  BatchItemResultSchema,
  CreatePendingRequestSchema,
  CreatePendingResponseSchema,
  ItemErrorSchema,
  PostPendingRequestSchema,
  PostPendingResponseSchema,
  PostTransactionRequestSchema,
  PostTransactionResponseSchema,
  PostTransactionsRequestSchema,
  PostTransactionsResponseSchema,
  RecordPaymentRequestSchema,
  RecordPaymentResponseSchema,
  ReverseTransactionRequestSchema,
  ReverseTransactionResponseSchema,
  TransitionTransactionRequestSchema,
  TransitionTransactionResponseSchema,
  VoidPendingRequestSchema,
  VoidPendingResponseSchema,
  type LedgerService,
} from "@money/proto/ledger/v1/ledger_pb";
import { callerOf } from "@money/rpc";
import type { KeyedMutex } from "../concurrency/keyed-mutex.js";
import type { LedgerEventSink } from "../domain/ledger-events.js";
import { transitionTransaction } from "../domain/lifecycle/transition-transaction.js";
import { createPending } from "../domain/pending/create-pending.js";
import { postPending } from "../domain/pending/post-pending.js";
import { voidPending } from "../domain/pending/void-pending.js";
import { postTransaction } from "../domain/posting/post-transaction.js";
import { postTransactions } from "../domain/posting/post-transactions.js";
import { postTransfer } from "../domain/posting/post-transfer.js";
import { reverseTransaction } from "../domain/reversal/reverse-transaction.js";
import type { IdempotentWrite } from "./idempotent-write.js";
import type { TransferGroupCommit } from "./transfer-group-commit.js";
import {
  accountBalanceToWire,
  newTransactionFromWire,
  statusFromWire,
  transactionToWire,
} from "./transaction-mapper.js";

type PostingMethods =
  | "postTransaction"
  | "postTransactions"
  | "recordPayment"
  | "transfer"
  | "createPending"
  | "postPending"
  | "voidPending"
  | "reverseTransaction"
  | "transitionTransaction";

/** Lock-striping keys for the accounts a request names (see KeyedMutex). */
const accountKeys = (ids: readonly string[]) => ids.map((id) => `account:${id.toLowerCase()}`);

export function postingHandlers(
  events: LedgerEventSink,
  write: IdempotentWrite,
  accounts: KeyedMutex,
  transfers: TransferGroupCommit,
): Pick<ServiceImpl<typeof LedgerService>, PostingMethods> {
  return {
    async postTransaction(request, ctx) {
      const caller = callerOf(ctx);
      const input = newTransactionFromWire(request.transaction);
      return accounts.run(accountKeys(input.legs.map((leg) => leg.accountId)), () =>
        write(
          {
            method: "PostTransaction",
            requestSchema: PostTransactionRequestSchema,
            request,
            responseSchema: PostTransactionResponseSchema,
            caller,
          },
          async (tx) => {
            const posted = await postTransaction(tx, { caller, events }, input);
            return create(PostTransactionResponseSchema, {
              transaction: transactionToWire(posted.transaction),
              balances: posted.balances.map(accountBalanceToWire),
            });
          },
        ),
      );
    },

    async postTransactions(request, ctx) {
      const caller = callerOf(ctx);
      const inputs = request.transactions.map(newTransactionFromWire);
      return accounts.run(
        accountKeys(inputs.flatMap((input) => input.legs.map((leg) => leg.accountId))),
        () =>
          write(
            {
              method: "PostTransactions",
              requestSchema: PostTransactionsRequestSchema,
              request,
              responseSchema: PostTransactionsResponseSchema,
              caller,
            },
            async (tx) => {
              const outcomes = await postTransactions(tx, { caller, events }, inputs, request.atomic);
              const posted = outcomes.filter((o) => o.ok).length;
              return create(PostTransactionsResponseSchema, {
                postedCount: posted,
                failedCount: outcomes.length - posted,
                results: outcomes.map((outcome, index) =>
                  create(BatchItemResultSchema, {
                    index,
                    outcome: outcome.ok
                      ? { case: "transactionId", value: outcome.transaction.id }
                      : {
                          case: "error",
                          value: create(ItemErrorSchema, {
                            reason: outcome.error.reason,
                            message: `${outcome.error.reason}: ${outcome.error.message}`,
                          }),
                        },
                  }),
                ),
              });
            },
          ),
      );
    },

    async recordPayment(request, ctx) {
      const caller = callerOf(ctx);
      return accounts.run(accountKeys([request.payerAccountId, request.payeeAccountId]), () =>
        write(
          {
            method: "RecordPayment",
            requestSchema: RecordPaymentRequestSchema,
            request,
            responseSchema: RecordPaymentResponseSchema,
            caller,
          },
          async (tx) => {
            const posted = await postTransfer(
              tx,
              { caller, events },
              { ...request, fromAccountId: request.payerAccountId, toAccountId: request.payeeAccountId },
              "payment",
            );
            return create(RecordPaymentResponseSchema, {
              transaction: transactionToWire(posted.transaction),
              balances: posted.balances.map(accountBalanceToWire),
            });
          },
        ),
      );
    },

    async transfer(request, ctx) {
      const caller = callerOf(ctx);
      // Holding the accounts' mutex while queued is what keeps a group's members disjoint.
      return accounts.run(accountKeys([request.fromAccountId, request.toAccountId]), () =>
        transfers.submit(caller, request),
      );
    },

    async createPending(request, ctx) {
      const caller = callerOf(ctx);
      return accounts.run(accountKeys([request.debitAccountId, request.creditAccountId]), () =>
        write(
          {
            method: "CreatePending",
            requestSchema: CreatePendingRequestSchema,
            request,
            responseSchema: CreatePendingResponseSchema,
            caller,
          },
          async (tx) => {
            const held = await createPending(tx, { caller, events }, request);
            return create(CreatePendingResponseSchema, {
              transaction: transactionToWire(held.transaction),
              balances: held.balances.map(accountBalanceToWire),
            });
          },
        ),
      );
    },

    async postPending(request, ctx) {
      const caller = callerOf(ctx);
      return write(
        {
          method: "PostPending",
          requestSchema: PostPendingRequestSchema,
          request,
          responseSchema: PostPendingResponseSchema,
          caller,
        },
        async (tx) => {
          const posted = await postPending(tx, { caller, events }, request);
          return create(PostPendingResponseSchema, {
            transaction: transactionToWire(posted.transaction),
            balances: posted.balances.map(accountBalanceToWire),
          });
        },
      );
    },

    async voidPending(request, ctx) {
      const caller = callerOf(ctx);
      return write(
        {
          method: "VoidPending",
          requestSchema: VoidPendingRequestSchema,
          request,
          responseSchema: VoidPendingResponseSchema,
          caller,
        },
        async (tx) => {
          const voided = await voidPending(tx, { caller, events }, request);
          return create(VoidPendingResponseSchema, {
            transaction: transactionToWire(voided.transaction),
            balances: voided.balances.map(accountBalanceToWire),
          });
        },
      );
    },

    async reverseTransaction(request, ctx) {
      const caller = callerOf(ctx);
      return write(
        {
          method: "ReverseTransaction",
          requestSchema: ReverseTransactionRequestSchema,
          request,
          responseSchema: ReverseTransactionResponseSchema,
          caller,
        },
        async (tx) => {
          const reversed = await reverseTransaction(tx, { caller, events }, request);
          return create(ReverseTransactionResponseSchema, {
            reversal: transactionToWire(reversed.reversal),
            original: transactionToWire(reversed.original),
            balances: reversed.balances.map(accountBalanceToWire),
          });
        },
      );
    },

    async transitionTransaction(request, ctx) {
      const caller = callerOf(ctx);
      return write(
        {
          method: "TransitionTransaction",
          requestSchema: TransitionTransactionRequestSchema,
          request,
          responseSchema: TransitionTransactionResponseSchema,
          caller,
        },
        async (tx) => {
          const moved = await transitionTransaction(
            tx,
            { caller, events },
            {
              transactionId: request.transactionId,
              to: statusFromWire(request.toStatus),
              reason: request.reason,
            },
          );
          return create(TransitionTransactionResponseSchema, { transaction: transactionToWire(moved) });
        },
      );
    },
  };
}
