import type { Currency } from "@money/money";

export const TRANSACTION_TYPES = [
  "card_enrolled",
  "welcome_bonus",
  "stamp_added",
  "stamps_redeemed",
  "points_earned",
  "points_redeemed",
  "stamps_voided",
  "points_voided",
  "points_reversed",
  "adjusted",
  "points_expired",
  "card_deactivated",
  "card_reactivated",
] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];

/** One row of the append-only loyalty ledger. */
export interface LoyaltyTransaction {
  id: string;
  type: TransactionType;
  merchantId: string;
  storeId: string | null;
  cardId: string;
  /** Staff member whose PIN authorised the posting. */
  staffId: string | null;
  /** Terminal the call came through; null when a person acted through the web. */
  actingTerminalDeviceId: string | null;
  principalId: string;
  principalRole: string;
  ip: string | null;
  userAgent: string | null;
  orderReference: string | null;
  currency: Currency | null;
  /** Minor units of `currency`. */
  purchaseAmountMinor: bigint | null;
  refundedAmountMinor: bigint | null;
  rewardCode: string | null;
  rewardName: string | null;
  notes: string | null;
  relatedTransactionId: string | null;
  sagaId: string | null;
  transactionAt: Date;
  stampsDelta: number;
  pointsDelta: bigint;
  stampsBalanceAfter: number;
  pointsBalanceAfter: bigint;
  /** Voids and reversals: how much of the related transaction this row cancels. */
  stampsCancelled: number;
  /** = |pointsDelta| + pointsAlreadyExpired + pointsForgiven when non-zero. */
  pointsCancelled: bigint;
  pointsAlreadyExpired: bigint;
  pointsForgiven: bigint;
  lotId: string | null;
}

/** What a posting states beyond who, when, the card and the balances. */
export type TransactionDetails = Partial<
  Pick<
    LoyaltyTransaction,
    | "orderReference"
    | "currency"
    | "purchaseAmountMinor"
    | "refundedAmountMinor"
    | "rewardCode"
    | "rewardName"
    | "notes"
    | "relatedTransactionId"
    | "sagaId"
    | "stampsCancelled"
    | "pointsCancelled"
    | "pointsAlreadyExpired"
    | "pointsForgiven"
    | "lotId"
  >
>;
