export type CardStatus = "active" | "inactive";

export interface Card {
  id: string;
  merchantId: string;
  customerRef: string;
  cardNumber: string;
  qrPayload: string;
  status: CardStatus;
  statusReason: string;
  stamps: number;
  /** Remaining points of the card's lots minus its debt; negative only under ALLOW_NEGATIVE_BALANCE. */
  pointsBalance: bigint;
  /** Points a void took beyond what the card held; repaid first by the next points credited. */
  pointsDebt: bigint;
  lastStampAt: Date | null;
  /** Last earn or redemption: expiry after inactivity counts from here. */
  lastActivityAt: Date;
  enrolledAt: Date;
  /** Increases by one with every transaction on the card. */
  version: bigint;
}

/** The points of a card as a customer sees them at one instant. balance = available + locked. */
export interface PointsBreakdown {
  balance: bigint;
  /** Redeemable now: unlocked points minus any debt. */
  available: bigint;
  /** Inside the return window. */
  locked: bigint;
  expiringSoon: bigint;
  expiringSoonUntil: Date;
}

export interface CardView {
  card: Card;
  points: PointsBreakdown;
}

/** The JSON view of a card's balances for audit records. */
export function cardBalancesView(card: Card): Record<string, string | number> {
  return {
    status: card.status,
    stamps: card.stamps,
    points_balance: card.pointsBalance.toString(),
    points_debt: card.pointsDebt.toString(),
    version: card.version.toString(),
  };
}
