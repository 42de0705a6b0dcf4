import type { LoyaltyTransaction } from "../transactions/loyalty-transaction.js";
import type { CardView } from "./card.js";

/** What a posting returns: its ledger row and the card as it left it. */
export interface Posted {
  transaction: LoyaltyTransaction;
  card: CardView;
}
