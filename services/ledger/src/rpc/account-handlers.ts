import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  CloseAccountRequestSchema,
  CloseAccountResponseSchema,
  CreateAccountRequestSchema,
  CreateAccountResponseSchema,
  FreezeAccountRequestSchema,
  FreezeAccountResponseSchema,
  GetAccountResponseSchema,
  ListAccountsResponseSchema,
  SetOverdraftLimitRequestSchema,
  SetOverdraftLimitResponseSchema,
  UnfreezeAccountRequestSchema,
  UnfreezeAccountResponseSchema,
  type LedgerService,
} from "@money/proto/ledger/v1/ledger_pb";
import { actorOf, callerOf } from "@money/rpc";
import type { ServiceDeps } from "@money/runtime";
import { changeAccountStatus } from "../domain/accounts/change-account-status.js";
import { getAccount } from "../domain/accounts/get-account.js";
import { listAccounts } from "../domain/accounts/list-accounts.js";
import { openAccount } from "../domain/accounts/open-account.js";
import { setOverdraftLimit } from "../domain/accounts/set-overdraft-limit.js";
import { accountToWire, accountTypeFromWire } from "./account-mapper.js";
import type { IdempotentWrite } from "./idempotent-write.js";

type AccountMethods =
  | "createAccount"
  | "getAccount"
  | "listAccounts"
  | "freezeAccount"
  | "unfreezeAccount"
  | "closeAccount"
  | "setOverdraftLimit";

export function accountHandlers(
  { pool, audit }: ServiceDeps,
  write: IdempotentWrite,
): Pick<ServiceImpl<typeof LedgerService>, AccountMethods> {
  return {
    async createAccount(request, ctx) {
      const caller = callerOf(ctx);
      return write(
        {
          method: "CreateAccount",
          requestSchema: CreateAccountRequestSchema,
          request,
          responseSchema: CreateAccountResponseSchema,
          caller,
        },
        async (tx) => {
          const account = await openAccount(
            tx,
            audit,
            {
              type: accountTypeFromWire(request.type),
              ownerRef: request.ownerRef,
              currency: request.currency,
              debitsMustNotExceedCredits: request.debitsMustNotExceedCredits,
              creditsMustNotExceedDebits: request.creditsMustNotExceedDebits,
              overdraftLimit: request.overdraftLimit,
              metadata: request.metadata,
            },
            actorOf(caller),
          );
          return create(CreateAccountResponseSchema, { account: accountToWire(account) });
        },
      );
    },

    async getAccount(request, ctx) {
      const account = await getAccount(pool, request.accountId, callerOf(ctx));
      return create(GetAccountResponseSchema, { account: accountToWire(account) });
    },

    async listAccounts(request, ctx) {
      const page = await listAccounts(pool, callerOf(ctx), request);
      return create(ListAccountsResponseSchema, {
        accounts: page.accounts.map(accountToWire),
        nextPageToken: page.nextPageToken,
      });
    },

    async freezeAccount(request, ctx) {
      const caller = callerOf(ctx);
      return write(
        {
          method: "FreezeAccount",
          requestSchema: FreezeAccountRequestSchema,
          request,
          responseSchema: FreezeAccountResponseSchema,
          caller,
        },
        async (tx) => {
          const account = await changeAccountStatus(tx, audit, caller, { ...request, to: "frozen" });
          return create(FreezeAccountResponseSchema, { account: accountToWire(account) });
        },
      );
    },

    async unfreezeAccount(request, ctx) {
      const caller = callerOf(ctx);
      return write(
        {
          method: "UnfreezeAccount",
          requestSchema: UnfreezeAccountRequestSchema,
          request,
          responseSchema: UnfreezeAccountResponseSchema,
          caller,
        },
        async (tx) => {
          const account = await changeAccountStatus(tx, audit, caller, { ...request, to: "active" });
          return create(UnfreezeAccountResponseSchema, { account: accountToWire(account) });
        },
      );
    },

    async closeAccount(request, ctx) {
      const caller = callerOf(ctx);
      return write(
        {
          method: "CloseAccount",
          requestSchema: CloseAccountRequestSchema,
          request,
          responseSchema: CloseAccountResponseSchema,
          caller,
        },
        async (tx) => {
          const account = await changeAccountStatus(tx, audit, caller, { ...request, to: "closed" });
          return create(CloseAccountResponseSchema, { account: accountToWire(account) });
        },
      );
    },

    async setOverdraftLimit(request, ctx) {
      const caller = callerOf(ctx);
      return write(
        {
          method: "SetOverdraftLimit",
          requestSchema: SetOverdraftLimitRequestSchema,
          request,
          responseSchema: SetOverdraftLimitResponseSchema,
          caller,
        },
        async (tx) => {
          const account = await setOverdraftLimit(tx, audit, caller, request);
          return create(SetOverdraftLimitResponseSchema, { account: accountToWire(account) });
        },
      );
    },
  };
}
