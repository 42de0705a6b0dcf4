import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  AddStampRequestSchema,
  AddStampResponseSchema,
  AdjustRequestSchema,
  AdjustResponseSchema,
  EarnPointsRequestSchema,
  EarnPointsResponseSchema,
  ExpirePointsRequestSchema,
  ExpirePointsResponseSchema,
  RedeemPointsRequestSchema,
  RedeemPointsResponseSchema,
  RedeemStampsRequestSchema,
  RedeemStampsResponseSchema,
  ReversalOutcome as WireOutcome,
  ReverseForOrderRequestSchema,
  ReverseForOrderResponseSchema,
  VoidPointsRequestSchema,
  VoidPointsResponseSchema,
  VoidStampsRequestSchema,
  VoidStampsResponseSchema,
  type LoyaltyService,
} from "@money/proto/loyalty/v1/loyalty_pb";
import { merchantFor } from "../domain/acting.js";
import type { Posted } from "../domain/cards/posted.js";
import { adjustBalance } from "../domain/points/adjust-balance.js";
import { earnPoints } from "../domain/points/earn-points.js";
import { expirePoints } from "../domain/points/expire-points.js";
import { redeemPoints } from "../domain/points/redeem-points.js";
import { reverseForOrder, type ReversalOutcome } from "../domain/points/reverse-for-order.js";
import { voidPoints } from "../domain/points/void-points.js";
import { addStamp } from "../domain/stamps/add-stamp.js";
import { redeemStamps } from "../domain/stamps/redeem-stamps.js";
import { voidStamps } from "../domain/stamps/void-stamps.js";
import {
  batchableEarn,
  batchableStamp,
  PostingGroupCommit,
} from "../domain/postings/posting-group-commit.js";
import { batchedOrAlone } from "./batched-postings.js";
import { cardToWire } from "./card-mapper.js";
import type { HandlerDeps } from "./handler-deps.js";
import { idempotently } from "./idempotent.js";
import { transactionToWire } from "./transaction-mapper.js";

type PostingMethods =
  | "addStamp"
  | "redeemStamps"
  | "earnPoints"
  | "redeemPoints"
  | "voidStamps"
  | "voidPoints"
  | "adjust"
  | "expirePoints"
  | "reverseForOrder";

const OUTCOME_TO_WIRE: Readonly<Record<ReversalOutcome, WireOutcome>> = {
  reversed: WireOutcome.REVERSED,
  reversed_with_negative_balance: WireOutcome.REVERSED_WITH_NEGATIVE_BALANCE,
  reversed_with_shortfall: WireOutcome.REVERSED_WITH_SHORTFALL,
  nothing_to_reverse: WireOutcome.NOTHING_TO_REVERSE,
};

/** How many cards one ExpirePoints call catches up; the scheduled job continues with the rest. */
const EXPIRE_RPC_MAX_CARDS = 1_000;

const postedToWire = (posted: Posted) => ({
  transaction: transactionToWire(posted.transaction),
  card: cardToWire(posted.card),
});

/**
 * Stamps and points: every posting is one use case in one idempotent
 * transaction, except that terminals' EarnPoints and AddStamp calls share
 * transactions through the group commit when they would post.
 */
export function postingHandlers({
  pool,
  pipelined,
  deps,
  callers,
  log,
}: HandlerDeps): Pick<ServiceImpl<typeof LoyaltyService>, PostingMethods> {
  // EarnPoints and AddStamp from terminals, the busy calls, are group-committed.
  const groupCommit = new PostingGroupCommit(pipelined, deps, { log });
  return {
    async addStamp(req, ctx) {
      const call = {
        requestSchema: AddStampRequestSchema,
        request: req,
        responseSchema: AddStampResponseSchema,
      };
      const toResponse = (posted: Posted) => create(AddStampResponseSchema, postedToWire(posted));
      return batchedOrAlone(groupCommit, ctx, call, batchableStamp(req), toResponse, async () => {
        const acting = await callers.poster(ctx, req.staff, req.storeId);
        return idempotently(pool, ctx, acting.actor.principalId, call, async (tx) =>
          toResponse(await addStamp(tx, deps, req, acting)),
        );
      });
    },

    async redeemStamps(req, ctx) {
      const acting = await callers.poster(ctx, req.staff, req.storeId);
      const call = {
        requestSchema: RedeemStampsRequestSchema,
        request: req,
        responseSchema: RedeemStampsResponseSchema,
      };
      return idempotently(pool, ctx, acting.actor.principalId, call, async (tx) =>
        create(RedeemStampsResponseSchema, postedToWire(await redeemStamps(tx, deps, req, acting))),
      );
    },

    async earnPoints(req, ctx) {
      const call = {
        requestSchema: EarnPointsRequestSchema,
        request: req,
        responseSchema: EarnPointsResponseSchema,
      };
      const toResponse = (posted: Posted) => create(EarnPointsResponseSchema, postedToWire(posted));
      return batchedOrAlone(groupCommit, ctx, call, batchableEarn(req), toResponse, async () => {
        const acting = await callers.poster(ctx, req.staff, req.storeId);
        return idempotently(pool, ctx, acting.actor.principalId, call, async (tx) =>
          toResponse(await earnPoints(tx, deps, req, acting)),
        );
      });
    },

    async redeemPoints(req, ctx) {
      const acting = await callers.poster(ctx, req.staff, req.storeId);
      const call = {
        requestSchema: RedeemPointsRequestSchema,
        request: req,
        responseSchema: RedeemPointsResponseSchema,
      };
      return idempotently(pool, ctx, acting.actor.principalId, call, async (tx) =>
        create(RedeemPointsResponseSchema, postedToWire(await redeemPoints(tx, deps, req, acting))),
      );
    },

    async voidStamps(req, ctx) {
      const acting = await callers.poster(ctx, req.staff, req.storeId);
      const call = {
        requestSchema: VoidStampsRequestSchema,
        request: req,
        responseSchema: VoidStampsResponseSchema,
      };
      return idempotently(pool, ctx, acting.actor.principalId, call, async (tx) =>
        create(VoidStampsResponseSchema, postedToWire(await voidStamps(tx, deps, req, acting))),
      );
    },

    async voidPoints(req, ctx) {
      const acting = await callers.poster(ctx, req.staff, req.storeId);
      const call = {
        requestSchema: VoidPointsRequestSchema,
        request: req,
        responseSchema: VoidPointsResponseSchema,
      };
      return idempotently(pool, ctx, acting.actor.principalId, call, async (tx) =>
        create(VoidPointsResponseSchema, postedToWire(await voidPoints(tx, deps, req, acting))),
      );
    },

    async adjust(req, ctx) {
      const acting = await callers.reader(ctx);
      const call = { requestSchema: AdjustRequestSchema, request: req, responseSchema: AdjustResponseSchema };
      return idempotently(pool, ctx, acting.actor.principalId, call, async (tx) =>
        create(AdjustResponseSchema, postedToWire(await adjustBalance(tx, deps, req, acting))),
      );
    },

    async expirePoints(req, ctx) {
      const acting = await callers.reader(ctx);
      const merchantId =
        acting.merchantId !== undefined || req.merchantId ? merchantFor(acting, req.merchantId) : undefined;
      const call = {
        requestSchema: ExpirePointsRequestSchema,
        request: req,
        responseSchema: ExpirePointsResponseSchema,
      };
      return idempotently(pool, ctx, acting.actor.principalId, call, async (tx) => {
        const run = await expirePoints(tx, deps, { merchantId, maxCards: EXPIRE_RPC_MAX_CARDS });
        return create(ExpirePointsResponseSchema, {
          lotsExpired: run.lotsExpired,
          pointsExpired: run.pointsExpired,
        });
      });
    },

    async reverseForOrder(req, ctx) {
      const acting = await callers.reader(ctx);
      const call = {
        requestSchema: ReverseForOrderRequestSchema,
        request: req,
        responseSchema: ReverseForOrderResponseSchema,
      };
      return idempotently(pool, ctx, acting.actor.principalId, call, async (tx) => {
        const reversal = await reverseForOrder(tx, deps, req, acting);
        return create(ReverseForOrderResponseSchema, {
          outcome: OUTCOME_TO_WIRE[reversal.outcome],
          ...(reversal.transaction ? { transaction: transactionToWire(reversal.transaction) } : {}),
          pointsCancelled: reversal.pointsCancelled,
          pointsReversed: reversal.pointsReversed,
          pointsAlreadyExpired: reversal.pointsAlreadyExpired,
          pointsForgiven: reversal.pointsForgiven,
          orderPointsEarned: reversal.orderPointsEarned,
          orderPointsCancelled: reversal.orderPointsCancelled,
          pointsBalanceAfter: reversal.pointsBalanceAfter,
        });
      });
    },
  };
}
