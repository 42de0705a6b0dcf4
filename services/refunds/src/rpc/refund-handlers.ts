import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { DatabasePool, DatabaseTransactionConnection } from "@money/db";
import {
  ApproveRefundRequestSchema,
  ApproveRefundResponseSchema,
  CancelRefundRequestSchema,
  CancelRefundResponseSchema,
  GetApprovalPolicyResponseSchema,
  GetRefundResponseSchema,
  ListPendingApprovalsResponseSchema,
  ListRefundsResponseSchema,
  RefundStatus as WireRefundStatus,
  RejectRefundRequestSchema,
  RejectRefundResponseSchema,
  RequestRefundRequestSchema,
  RequestRefundResponseSchema,
  ResolveSagaRequestSchema,
  ResolveSagaResponseSchema,
  RetrySagaRequestSchema,
  RetrySagaResponseSchema,
  SetApprovalPolicyRequestSchema,
  SetApprovalPolicyResponseSchema,
  type RefundService,
} from "@money/proto/refunds/v1/refunds_pb";
import { callerOf, runIdempotent } from "@money/rpc";
import { cancelRefund } from "../domain/cancel-refund.js";
import { approveRefund, rejectRefund } from "../domain/decide-refund.js";
import { getRefund } from "../domain/get-refund.js";
import { listPendingApprovals, listRefunds, type RefundPage } from "../domain/list-refunds.js";
import { getApprovalPolicy, setApprovalPolicy } from "../domain/manage-approval-policy.js";
import type { LedgerGateway } from "../domain/original-transaction.js";
import { RefundError } from "../domain/refund-error.js";
import type { RefundsContext } from "../domain/refunds-context.js";
import { prepareRefund, requestRefund } from "../domain/request-refund.js";
import { resolveSaga, retrySaga } from "../domain/saga/operate-saga.js";
import {
  dateFromWire,
  policyToWire,
  reasonCodeFromWire,
  refundToWire,
  resolutionFromWire,
  statusFromWire,
  viewToWire,
} from "./refund-mapper.js";

export interface RefundHandlerDeps {
  pool: DatabasePool;
  context: RefundsContext;
  ledger: LedgerGateway;
}

/** Thin handlers: map the request to a command, run one use case, map the result back. */
export function refundHandlers({
  pool,
  context,
  ledger,
}: RefundHandlerDeps): ServiceImpl<typeof RefundService> {
  /**
   * Runs a mutation once per idempotency key. Read committed: every refunds
   * use case takes the row locks it depends on explicitly.
   */
  function idempotent<Req extends DescMessage, Res extends DescMessage>(
    ctx: HandlerContext,
    requestSchema: Req,
    request: MessageShape<Req> & { idempotencyKey: string },
    responseSchema: Res,
    effect: (tx: DatabaseTransactionConnection) => Promise<MessageShape<Res>>,
  ): Promise<MessageShape<Res>> {
    return runIdempotent(
      pool,
      {
        scope: `${ctx.method.name}:${callerOf(ctx).principalId}`,
        key: request.idempotencyKey,
        requestSchema,
        request,
        responseSchema,
      },
      effect,
      { isolation: "read committed" },
    );
  }

  const pageToWire = (page: RefundPage) => ({
    refunds: page.refunds.map(({ refund, decisions }) => refundToWire(refund, { decisions })),
    nextPageToken: page.nextPageToken,
  });

  return {
    async requestRefund(req, ctx) {
      const caller = callerOf(ctx);
      const prepared = await prepareRefund(ledger, {
        originalTransactionId: req.originalTransactionId,
        amount: req.amount,
        currency: req.currency,
        reasonCode: reasonCodeFromWire(req.reasonCode),
        note: req.note,
      });
      return idempotent(ctx, RequestRefundRequestSchema, req, RequestRefundResponseSchema, async (tx) =>
        create(RequestRefundResponseSchema, {
          refund: viewToWire(await requestRefund(tx, context, prepared, caller)),
        }),
      );
    },

    async approveRefund(req, ctx) {
      const caller = callerOf(ctx);
      return idempotent(ctx, ApproveRefundRequestSchema, req, ApproveRefundResponseSchema, async (tx) =>
        create(ApproveRefundResponseSchema, {
          refund: viewToWire(
            await approveRefund(
              tx,
              context,
              { refundId: req.refundId, amount: req.amount, reason: req.reason },
              caller,
            ),
          ),
        }),
      );
    },

    async rejectRefund(req, ctx) {
      const caller = callerOf(ctx);
      return idempotent(ctx, RejectRefundRequestSchema, req, RejectRefundResponseSchema, async (tx) =>
        create(RejectRefundResponseSchema, {
          refund: viewToWire(
            await rejectRefund(tx, context, { refundId: req.refundId, reason: req.reason }, caller),
          ),
        }),
      );
    },

    async cancelRefund(req, ctx) {
      const caller = callerOf(ctx);
      return idempotent(ctx, CancelRefundRequestSchema, req, CancelRefundResponseSchema, async (tx) =>
        create(CancelRefundResponseSchema, {
          refund: viewToWire(
            await cancelRefund(tx, context, { refundId: req.refundId, reason: req.reason }, caller),
          ),
        }),
      );
    },

    async getRefund(req, ctx) {
      return create(GetRefundResponseSchema, {
        refund: viewToWire(await getRefund(pool, req.refundId, callerOf(ctx))),
      });
    },

    async listRefunds(req, ctx) {
      const status = req.status === WireRefundStatus.UNSPECIFIED ? null : statusFromWire(req.status);
      if (req.status !== WireRefundStatus.UNSPECIFIED && status === null) {
        throw new RefundError("INVALID_ARGUMENT", `status ${req.status} is not a refund status`);
      }
      const page = await listRefunds(
        pool,
        {
          originalTransactionId: req.originalTransactionId,
          merchantId: req.merchantId,
          status,
          requestedBy: req.requestedBy,
          createdFrom: dateFromWire(req.createdFrom),
          createdTo: dateFromWire(req.createdTo),
          pageSize: req.pageSize,
          pageToken: req.pageToken,
        },
        callerOf(ctx),
      );
      return create(ListRefundsResponseSchema, pageToWire(page));
    },

    async listPendingApprovals(req, ctx) {
      const page = await listPendingApprovals(
        pool,
        { merchantId: req.merchantId, pageSize: req.pageSize, pageToken: req.pageToken },
        callerOf(ctx),
      );
      return create(ListPendingApprovalsResponseSchema, pageToWire(page));
    },

    async retrySaga(req, ctx) {
      const caller = callerOf(ctx);
      return idempotent(ctx, RetrySagaRequestSchema, req, RetrySagaResponseSchema, async (tx) =>
        create(RetrySagaResponseSchema, {
          refund: viewToWire(
            await retrySaga(tx, context, { refundId: req.refundId, reason: req.reason }, caller),
          ),
        }),
      );
    },

    async resolveSaga(req, ctx) {
      const caller = callerOf(ctx);
      return idempotent(ctx, ResolveSagaRequestSchema, req, ResolveSagaResponseSchema, async (tx) =>
        create(ResolveSagaResponseSchema, {
          refund: viewToWire(
            await resolveSaga(
              tx,
              context,
              { refundId: req.refundId, resolution: resolutionFromWire(req.resolution), reason: req.reason },
              caller,
            ),
          ),
        }),
      );
    },

    async setApprovalPolicy(req, ctx) {
      const caller = callerOf(ctx);
      return idempotent(
        ctx,
        SetApprovalPolicyRequestSchema,
        req,
        SetApprovalPolicyResponseSchema,
        async (tx) => {
          const policy = await setApprovalPolicy(
            tx,
            context,
            {
              merchantId: req.policy?.merchantId ?? "",
              currency: req.policy?.currency ?? "",
              bands: (req.policy?.bands ?? []).map((b) => ({
                minAmount: b.minAmount,
                approvalsRequired: b.approvalsRequired,
              })),
              approvalTtlSeconds: req.policy?.approvalTtlSeconds ?? 0n,
              reason: req.reason,
            },
            caller,
          );
          return create(SetApprovalPolicyResponseSchema, { policy: policyToWire(policy) });
        },
      );
    },

    async getApprovalPolicy(req) {
      const policy = await getApprovalPolicy(pool, req.merchantId, req.currency);
      return create(GetApprovalPolicyResponseSchema, {
        policy: policyToWire(policy),
        merchantSpecific: policy.merchantSpecific,
      });
    },
  };
}
