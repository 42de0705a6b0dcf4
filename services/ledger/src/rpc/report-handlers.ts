import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { DatabasePool } from "@money/db";
import {
  BalanceDriftSchema,
  CheckBalancesResponseSchema,
  CurrencyTotalsSchema,
  GetPeriodReportResponseSchema,
  GetTrialBalanceResponseSchema,
  PeriodReportLineSchema,
  ReportFormat,
  TrialBalanceLineSchema,
  type LedgerService,
} from "@money/proto/ledger/v1/ledger_pb";
import { checkBalances } from "../domain/reconciliation/check-balances.js";
import type { CurrencyTotals } from "../domain/reconciliation/currency-totals.js";
import { periodReport, periodReportCsv } from "../domain/reconciliation/period-report.js";
import { trialBalance, trialBalanceCsv } from "../domain/reconciliation/trial-balance.js";
import { accountTypeToWire } from "./account-mapper.js";
import { dateFromWire } from "./transaction-mapper.js";

type ReportMethods = "getTrialBalance" | "getPeriodReport" | "checkBalances";

const totalsToWire = (totals: readonly CurrencyTotals[]) =>
  totals.map((t) => create(CurrencyTotalsSchema, t));

export function reportHandlers(pool: DatabasePool): Pick<ServiceImpl<typeof LedgerService>, ReportMethods> {
  return {
    async getTrialBalance(request) {
      const report = await trialBalance(pool);
      const generatedAt = timestampFromDate(new Date());
      if (request.format === ReportFormat.CSV) {
        return create(GetTrialBalanceResponseSchema, {
          csv: trialBalanceCsv(report),
          balanced: report.balanced,
          generatedAt,
        });
      }
      return create(GetTrialBalanceResponseSchema, {
        lines: report.lines.map((line) =>
          create(TrialBalanceLineSchema, { ...line, type: accountTypeToWire(line.type) }),
        ),
        totals: totalsToWire(report.totals),
        balanced: report.balanced,
        generatedAt,
      });
    },

    async getPeriodReport(request) {
      const report = await periodReport(pool, dateFromWire(request.from), dateFromWire(request.to));
      if (request.format === ReportFormat.CSV) {
        return create(GetPeriodReportResponseSchema, { csv: periodReportCsv(report) });
      }
      return create(GetPeriodReportResponseSchema, {
        lines: report.lines.map((line) =>
          create(PeriodReportLineSchema, { ...line, type: accountTypeToWire(line.type) }),
        ),
        totals: totalsToWire(report.totals),
      });
    },

    async checkBalances() {
      const check = await checkBalances(pool);
      return create(CheckBalancesResponseSchema, {
        accountsChecked: BigInt(check.accountsChecked),
        drifts: check.drifts.map((d) => create(BalanceDriftSchema, d)),
        ok: check.ok,
        totals: totalsToWire(check.totals),
      });
    },
  };
}
