import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { formatAmount } from "@money/money";
import {
  GetStoreDailySummaryResponseSchema,
  ListTransactionsResponseSchema,
  type ListTransactionsRequest,
  type LoyaltyService,
} from "@money/proto/loyalty/v1/loyalty_pb";
import type { TransactionSubject } from "../db/transactions-table.js";
import { listTransactions } from "../domain/reports/list-transactions.js";
import { storeDailySummary } from "../domain/reports/store-daily-summary.js";
import type { HandlerDeps } from "./handler-deps.js";
import { transactionToWire } from "./transaction-mapper.js";

function subjectFromWire(subject: ListTransactionsRequest["subject"]): TransactionSubject | null {
  switch (subject.case) {
    case "cardId":
      return { cardId: subject.value };
    case "storeId":
      return { storeId: subject.value };
    case "merchantId":
      return { merchantId: subject.value };
    case "deviceId":
      return { deviceId: subject.value };
    case "staffId":
      return { staffId: subject.value };
    default:
      return null;
  }
}

/** Reads for back offices and auditors. */
export function reportHandlers({
  pool,
  callers,
}: HandlerDeps): Pick<ServiceImpl<typeof LoyaltyService>, "listTransactions" | "getStoreDailySummary"> {
  return {
    async listTransactions(req, ctx) {
      const page = await listTransactions(
        pool,
        {
          subject: subjectFromWire(req.subject),
          from: req.from ? timestampDate(req.from) : null,
          to: req.to ? timestampDate(req.to) : null,
          pageSize: req.pageSize,
          pageToken: req.pageToken,
        },
        await callers.reader(ctx),
      );
      return create(ListTransactionsResponseSchema, {
        transactions: page.transactions.map(transactionToWire),
        nextPageToken: page.nextPageToken,
      });
    },

    async getStoreDailySummary(req, ctx) {
      const summary = await storeDailySummary(pool, req, await callers.reader(ctx));
      return create(GetStoreDailySummaryResponseSchema, {
        storeId: summary.store.id,
        businessDate: summary.businessDate,
        timeZone: summary.store.timeZone,
        transactions: summary.transactions,
        cards: summary.cards,
        cardsEnrolled: summary.cardsEnrolled,
        stampsAdded: summary.stampsAdded,
        stampRewardsRedeemed: summary.stampRewardsRedeemed,
        pointsEarned: summary.pointsEarned,
        pointsRedeemed: summary.pointsRedeemed,
        pointsVoided: summary.pointsVoided,
        purchaseTotal: formatAmount(summary.purchaseTotalMinor, summary.program.currency),
        currency: summary.program.currency.code,
      });
    },
  };
}
