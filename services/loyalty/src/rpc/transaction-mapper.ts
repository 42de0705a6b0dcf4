import { timestampOf } from "@money/kafka";
import { formatAmount } from "@money/money";
import {
  LoyaltyTransactionSchema,
  TransactionType as WireType,
  type LoyaltyTransaction as LoyaltyTransactionMessage,
} from "@money/proto/loyalty/v1/loyalty_pb";
import type { LoyaltyTransaction, TransactionType } from "../domain/transactions/loyalty-transaction.js";

const TYPE_TO_WIRE: Readonly<Record<TransactionType, WireType>> = {
  card_enrolled: WireType.CARD_ENROLLED,
  welcome_bonus: WireType.WELCOME_BONUS,
  stamp_added: WireType.STAMP_ADDED,
  stamps_redeemed: WireType.STAMPS_REDEEMED,
  points_earned: WireType.POINTS_EARNED,
  points_redeemed: WireType.POINTS_REDEEMED,
  stamps_voided: WireType.STAMPS_VOIDED,
  points_voided: WireType.POINTS_VOIDED,
  points_reversed: WireType.POINTS_REVERSED,
  adjusted: WireType.ADJUSTED,
  points_expired: WireType.POINTS_EXPIRED,
  card_deactivated: WireType.CARD_DEACTIVATED,
  card_reactivated: WireType.CARD_REACTIVATED,
};

const LOYALTY_TRANSACTION = LoyaltyTransactionSchema.typeName as LoyaltyTransactionMessage["$typeName"];

/**
 * The wire view of a ledger row: amounts as decimal strings in the row's currency, absent values empty.
 *
 * Built as the literal message `create` would return (every field set): `create` walks the
 * schema reflectively, and every terminal posting builds this twice (its reply and its event).
 */
export function transactionToWire(t: LoyaltyTransaction): LoyaltyTransactionMessage {
  const amount = (minor: bigint | null) =>
    minor === null || t.currency === null ? "" : formatAmount(minor, t.currency);
  return {
    $typeName: LOYALTY_TRANSACTION,
    id: t.id,
    type: TYPE_TO_WIRE[t.type],
    merchantId: t.merchantId,
    storeId: t.storeId ?? "",
    cardId: t.cardId,
    staffId: t.staffId ?? "",
    actingTerminalDeviceId: t.actingTerminalDeviceId ?? "",
    principalId: t.principalId,
    principalRole: t.principalRole,
    ip: t.ip ?? "",
    userAgent: t.userAgent ?? "",
    orderReference: t.orderReference ?? "",
    purchaseAmount: amount(t.purchaseAmountMinor),
    refundedAmount: amount(t.refundedAmountMinor),
    currency: t.currency?.code ?? "",
    rewardCode: t.rewardCode ?? "",
    rewardName: t.rewardName ?? "",
    notes: t.notes ?? "",
    relatedTransactionId: t.relatedTransactionId ?? "",
    sagaId: t.sagaId ?? "",
    transactionAt: timestampOf(t.transactionAt),
    stampsDelta: t.stampsDelta,
    pointsDelta: t.pointsDelta,
    stampsBalanceAfter: t.stampsBalanceAfter,
    pointsBalanceAfter: t.pointsBalanceAfter,
    stampsCancelled: t.stampsCancelled,
    pointsCancelled: t.pointsCancelled,
    pointsAlreadyExpired: t.pointsAlreadyExpired,
    pointsForgiven: t.pointsForgiven,
    lotId: t.lotId ?? "",
  };
}
