import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  CardSchema,
  CardStatus as WireStatus,
  PointsBalanceSchema,
  type Card as CardMessage,
} from "@money/proto/loyalty/v1/loyalty_pb";
import type { CardView } from "../domain/cards/card.js";

export function cardToWire({ card, points }: CardView): CardMessage {
  return create(CardSchema, {
    id: card.id,
    merchantId: card.merchantId,
    customerRef: card.customerRef,
    cardNumber: card.cardNumber,
    qrPayload: card.qrPayload,
    status: card.status === "active" ? WireStatus.ACTIVE : WireStatus.INACTIVE,
    statusReason: card.statusReason,
    stamps: card.stamps,
    points: create(PointsBalanceSchema, {
      balance: points.balance,
      available: points.available,
      locked: points.locked,
      expiringSoon: points.expiringSoon,
      expiringSoonUntil: timestampFromDate(points.expiringSoonUntil),
    }),
    enrolledAt: timestampFromDate(card.enrolledAt),
    lastActivityAt: timestampFromDate(card.lastActivityAt),
  });
}
