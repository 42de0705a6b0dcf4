/**
 * The ledger transaction a refund gives money back on, as the ledger reports
 * it when the refund is requested. Amounts are the ledger's decimal strings.
 */
export interface OriginalTransaction {
  id: string;
  kind: "posted" | "pending" | "reversal" | "unknown";
  status:
    | "initiated"
    | "processing"
    | "settled"
    | "failed"
    | "refund_initiated"
    | "refund_processing"
    | "refunded"
    | "refund_failed"
    | "unknown";
  /** ISO 4217 code; empty when the transaction spans several currencies. */
  currency: string;
  /** Empty when it spans several currencies. */
  amount: string;
  reversedAmount: string;
  externalRef: string;
  metadata: Readonly<Record<string, string>>;
}

/** Where the refunds service reads originals: the ledger, over RPC (see clients/). */
export interface LedgerGateway {
  /** Errors: ORIGINAL_NOT_FOUND, LEDGER_UNAVAILABLE. */
  getTransaction(transactionId: string): Promise<OriginalTransaction>;
  /** Releases its connections, when the service stops. */
  close?(): void;
}

/** The metadata keys of a ledger transaction the refunds service reads. */
export const METADATA = {
  /** The merchant whose approval policy applies and whose loyalty program earned points. */
  merchantId: "merchant_id",
  /** The loyalty order reference; the transaction's external_ref when absent. */
  orderReference: "order_reference",
  /** The customer who paid: a user may refund only their own transactions. */
  customerId: "customer_id",
} as const;
