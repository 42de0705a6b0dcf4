import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { formatAmount } from "@money/money";
import {
  CreateWalletRequestSchema,
  CreateWalletResponseSchema,
  GetWalletResponseSchema,
  ListWalletTransactionsResponseSchema,
  TopUpWalletRequestSchema,
  TopUpWalletResponseSchema,
  TransferBetweenWalletsRequestSchema,
  TransferBetweenWalletsResponseSchema,
  TransferByMobileRequestSchema,
  TransferByMobileResponseSchema,
  WalletSchema,
  type LedgerService,
  type Wallet,
} from "@money/proto/ledger/v1/ledger_pb";
import { callerOf } from "@money/rpc";
import type { ServiceDeps } from "@money/runtime";
import type { KeyedMutex } from "../concurrency/keyed-mutex.js";
import type { LedgerEventSink } from "../domain/ledger-events.js";
import { createWallet } from "../domain/wallets/create-wallet.js";
import {
  topUpWallet,
  transferBetweenWallets,
  transferByMobile,
} from "../domain/wallets/move-wallet-money.js";
import { listWalletEntries } from "../domain/wallets/list-wallet-entries.js";
import { getWallet, walletView, type WalletView } from "../domain/wallets/wallet-view.js";
import type { IdempotentWrite } from "./idempotent-write.js";
import { entryToWire, transactionToWire } from "./transaction-mapper.js";

type WalletMethods =
  | "createWallet"
  | "getWallet"
  | "topUpWallet"
  | "transferBetweenWallets"
  | "transferByMobile"
  | "listWalletTransactions";

export function walletToWire({ wallet, account, balanceMinor, spentTodayMinor }: WalletView): Wallet {
  const money = (minor: bigint) => formatAmount(minor, account.currency);
  return create(WalletSchema, {
    id: wallet.id,
    ownerRef: wallet.ownerRef,
    accountId: wallet.accountId,
    mobileNumber: wallet.mobileNumber,
    currency: account.currency.code,
    dailyLimit: money(wallet.dailyLimitMinor),
    spentToday: money(spentTodayMinor),
    balance: money(balanceMinor),
    createdAt: timestampFromDate(wallet.createdAt),
  });
}

/** Wallet transfers queue per sending wallet in-process (see KeyedMutex). */
const walletKey = (id: string) => [`wallet:${id.toLowerCase()}`];

export function walletHandlers(
  { pool, audit }: ServiceDeps,
  events: LedgerEventSink,
  write: IdempotentWrite,
  wallets: KeyedMutex,
): Pick<ServiceImpl<typeof LedgerService>, WalletMethods> {
  return {
    async createWallet(request, ctx) {
      const caller = callerOf(ctx);
      return write(
        {
          method: "CreateWallet",
          requestSchema: CreateWalletRequestSchema,
          request,
          responseSchema: CreateWalletResponseSchema,
          caller,
        },
        async (tx) => {
          const wallet = await createWallet(tx, audit, caller, request);
          return create(CreateWalletResponseSchema, {
            wallet: walletToWire(await walletView(tx, wallet, wallet.createdAt)),
          });
        },
      );
    },

    async getWallet(request, ctx) {
      const view = await getWallet(pool, callerOf(ctx), request.walletId, new Date());
      return create(GetWalletResponseSchema, { wallet: walletToWire(view) });
    },

    async topUpWallet(request, ctx) {
      const caller = callerOf(ctx);
      return write(
        {
          method: "TopUpWallet",
          requestSchema: TopUpWalletRequestSchema,
          request,
          responseSchema: TopUpWalletResponseSchema,
          caller,
        },
        async (tx) => {
          const moved = await topUpWallet(tx, { caller, events }, request);
          return create(TopUpWalletResponseSchema, {
            transaction: transactionToWire(moved.transaction),
            wallet: walletToWire(moved.wallet),
          });
        },
      );
    },

    async transferBetweenWallets(request, ctx) {
      const caller = callerOf(ctx);
      return wallets.run(walletKey(request.fromWalletId), () =>
        write(
          {
            method: "TransferBetweenWallets",
            requestSchema: TransferBetweenWalletsRequestSchema,
            request,
            responseSchema: TransferBetweenWalletsResponseSchema,
            caller,
          },
          async (tx) => {
            const moved = await transferBetweenWallets(tx, { caller, events }, request);
            return create(TransferBetweenWalletsResponseSchema, {
              transaction: transactionToWire(moved.transaction),
              fromWallet: walletToWire(moved.wallet),
            });
          },
        ),
      );
    },

    async transferByMobile(request, ctx) {
      const caller = callerOf(ctx);
      return wallets.run(walletKey(request.fromWalletId), () =>
        write(
          {
            method: "TransferByMobile",
            requestSchema: TransferByMobileRequestSchema,
            request,
            responseSchema: TransferByMobileResponseSchema,
            caller,
          },
          async (tx) => {
            const moved = await transferByMobile(tx, { caller, events }, request);
            return create(TransferByMobileResponseSchema, {
              transaction: transactionToWire(moved.transaction),
              fromWallet: walletToWire(moved.wallet),
            });
          },
        ),
      );
    },

    async listWalletTransactions(request, ctx) {
      const page = await listWalletEntries(pool, callerOf(ctx), request);
      return create(ListWalletTransactionsResponseSchema, {
        entries: page.entries.map(entryToWire),
        nextPageToken: page.nextPageToken,
      });
    },
  };
}
