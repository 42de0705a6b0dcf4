import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  DeactivateCardRequestSchema,
  DeactivateCardResponseSchema,
  EnrollCardRequestSchema,
  EnrollCardResponseSchema,
  GetCardResponseSchema,
  LookupCardResponseSchema,
  ReactivateCardRequestSchema,
  ReactivateCardResponseSchema,
  type LoyaltyService,
} from "@money/proto/loyalty/v1/loyalty_pb";
import { enrollCard } from "../domain/cards/enroll-card.js";
import { getCard, lookupCard } from "../domain/cards/get-card.js";
import { setCardStatus } from "../domain/cards/set-card-status.js";
import { cardToWire } from "./card-mapper.js";
import type { HandlerDeps } from "./handler-deps.js";
import { idempotently } from "./idempotent.js";
import { transactionToWire } from "./transaction-mapper.js";

type CardMethods = "enrollCard" | "getCard" | "lookupCard" | "deactivateCard" | "reactivateCard";

/** Cards: enrollment, reads and the card's lifecycle. */
export function cardHandlers({
  pool,
  deps,
  callers,
}: HandlerDeps): Pick<ServiceImpl<typeof LoyaltyService>, CardMethods> {
  return {
    async enrollCard(req, ctx) {
      const acting = await callers.poster(ctx, req.staff, req.storeId);
      const call = {
        requestSchema: EnrollCardRequestSchema,
        request: req,
        responseSchema: EnrollCardResponseSchema,
      };
      return idempotently(pool, ctx, acting.actor.principalId, call, async (tx) => {
        const enrolled = await enrollCard(tx, deps, req, acting);
        return create(EnrollCardResponseSchema, {
          card: cardToWire(enrolled.card),
          transactions: enrolled.transactions.map(transactionToWire),
        });
      });
    },

    async getCard(req, ctx) {
      const card = await getCard(pool, deps.clock, req.cardId, await callers.reader(ctx));
      return create(GetCardResponseSchema, { card: cardToWire(card) });
    },

    async lookupCard(req, ctx) {
      const key =
        req.key.case === "cardNumber"
          ? { cardNumber: req.key.value }
          : req.key.case === "qrPayload"
            ? { qrPayload: req.key.value }
            : null;
      const card = await lookupCard(
        pool,
        deps.clock,
        { merchantId: req.merchantId, key },
        await callers.reader(ctx),
      );
      return create(LookupCardResponseSchema, { card: cardToWire(card) });
    },

    async deactivateCard(req, ctx) {
      const acting = await callers.poster(ctx, req.staff, "");
      const call = {
        requestSchema: DeactivateCardRequestSchema,
        request: req,
        responseSchema: DeactivateCardResponseSchema,
      };
      return idempotently(pool, ctx, acting.actor.principalId, call, async (tx) => {
        const posted = await setCardStatus(
          tx,
          deps,
          { cardId: req.cardId, status: "inactive", reason: req.reason },
          acting,
        );
        return create(DeactivateCardResponseSchema, {
          card: cardToWire(posted.card),
          transaction: transactionToWire(posted.transaction),
        });
      });
    },

    async reactivateCard(req, ctx) {
      const acting = await callers.poster(ctx, req.staff, "");
      const call = {
        requestSchema: ReactivateCardRequestSchema,
        request: req,
        responseSchema: ReactivateCardResponseSchema,
      };
      return idempotently(pool, ctx, acting.actor.principalId, call, async (tx) => {
        const posted = await setCardStatus(
          tx,
          deps,
          { cardId: req.cardId, status: "active", reason: req.reason },
          acting,
        );
        return create(ReactivateCardResponseSchema, {
          card: cardToWire(posted.card),
          transaction: transactionToWire(posted.transaction),
        });
      });
    },
  };
}
