import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  CreateAccountRequestSchema,
  CreateAccountResponseSchema,
  GetAccountResponseSchema,
  type LedgerService,
} from "@money/proto/ledger/v1/ledger_pb";
import { actorOf, callerOf, runIdempotent } from "@money/rpc";
import type { ServiceDeps } from "@money/runtime";
import { getAccount } from "../domain/accounts/get-account.js";
import { openAccount } from "../domain/accounts/open-account.js";
import { accountToWire, accountTypeFromWire } from "./account-mapper.js";

/** Thin handlers: map the request to a command, run one use case, map the result back. */
export function ledgerHandlers({ pool, audit }: ServiceDeps): ServiceImpl<typeof LedgerService> {
  return {
    async createAccount(req, ctx) {
      const caller = callerOf(ctx);
      return runIdempotent(
        pool,
        {
          scope: `CreateAccount:${caller.principalId}`,
          key: req.idempotencyKey,
          requestSchema: CreateAccountRequestSchema,
          request: req,
          responseSchema: CreateAccountResponseSchema,
        },
        async (tx) => {
          const account = await openAccount(
            tx,
            audit,
            {
              type: accountTypeFromWire(req.type),
              ownerRef: req.ownerRef,
              currency: req.currency,
              debitsMustNotExceedCredits: req.debitsMustNotExceedCredits,
              creditsMustNotExceedDebits: req.creditsMustNotExceedDebits,
              overdraftLimit: req.overdraftLimit,
              metadata: req.metadata,
            },
            actorOf(caller),
          );
          return create(CreateAccountResponseSchema, { account: accountToWire(account) });
        },
      );
    },

    async getAccount(req) {
      const account = await getAccount(pool, req.accountId);
      return create(GetAccountResponseSchema, { account: accountToWire(account) });
    },
  };
}
