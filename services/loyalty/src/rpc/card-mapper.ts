import { timestampOf } from "@money/kafka";
import {
  CardSchema,
  CardStatus as WireStatus,
  PointsBalanceSchema,
  type Card as CardMessage,
  type PointsBalance as PointsBalanceMessage,
} from "@money/proto/loyalty/v1/loyalty_pb";
import type { CardView } from "../domain/cards/card.js";

const CARD = CardSchema.typeName as CardMessage["$typeName"];
const POINTS_BALANCE = PointsBalanceSchema.typeName as PointsBalanceMessage["$typeName"];

/**
 * The wire view of a card with its balances, built as the literal message `create` would
 * return (every field set): every terminal posting replies with one.
 */
export function cardToWire({ card, points }: CardView): CardMessage {
  return {
    $typeName: CARD,
    id: card.id,
    merchantId: card.merchantId,
    customerRef: card.customerRef,
    cardNumber: card.cardNumber,
    qrPayload: card.qrPayload,
    status: card.status === "active" ? WireStatus.ACTIVE : WireStatus.INACTIVE,
    statusReason: card.statusReason,
    stamps: card.stamps,
    points: {
      $typeName: POINTS_BALANCE,
      balance: points.balance,
      available: points.available,
      locked: points.locked,
      expiringSoon: points.expiringSoon,
      expiringSoonUntil: timestampOf(points.expiringSoonUntil),
    },
    enrolledAt: timestampOf(card.enrolledAt),
    lastActivityAt: timestampOf(card.lastActivityAt),
  };
}
