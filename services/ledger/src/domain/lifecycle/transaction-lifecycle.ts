import { LedgerError } from "../ledger-error.js";
import type { TransactionStatus } from "../transactions/transaction.js";

/**
 * The lifecycle of a transaction: where each status may go next.
 *   INITIATED → PROCESSING → SETTLED | FAILED
 *   SETTLED → REFUND_INITIATED → REFUND_PROCESSING → REFUNDED | REFUND_FAILED
 * and, because refunds may be partial or fail: REFUND_PROCESSING → SETTLED
 * (a partial refund is done), REFUND_FAILED → REFUND_INITIATED (try again) or
 * SETTLED (give up). FAILED and REFUNDED are final.
 */
export const NEXT_STATUSES: Readonly<Record<TransactionStatus, readonly TransactionStatus[]>> = {
  initiated: ["processing", "failed"],
  processing: ["settled", "failed"],
  settled: ["refund_initiated"],
  failed: [],
  refund_initiated: ["refund_processing"],
  refund_processing: ["refunded", "refund_failed", "settled"],
  refunded: [],
  refund_failed: ["refund_initiated", "settled"],
};

/** Errors: INVALID_TRANSITION. */
export function requireTransition(from: TransactionStatus, to: TransactionStatus): void {
  if (!NEXT_STATUSES[from].includes(to)) {
    const allowed = NEXT_STATUSES[from];
    throw new LedgerError(
      "INVALID_TRANSITION",
      `a ${from} transaction cannot become ${to}` +
        (allowed.length > 0 ? ` (it may become ${allowed.join(" or ")})` : ` (${from} is final)`),
    );
  }
}
