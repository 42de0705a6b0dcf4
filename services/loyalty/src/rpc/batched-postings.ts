import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { actorOf, callerOf, encodeStoredResponse, hashRequest } from "@money/rpc";
import type { StaffCredential } from "@money/proto/loyalty/v1/loyalty_pb";
import type { Posted } from "../domain/cards/posted.js";
import type { BatchablePosting, PostingGroupCommit } from "../domain/postings/posting-group-commit.js";
import { idempotencyScope, withoutPin } from "./idempotent.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_KEY_LENGTH = 200;

/**
 * Offers a terminal's posting to the group commit, or runs it `alone` when
 * it is not a plain terminal call with well-formed ids, key and PIN (the
 * one-posting path then gives the refusal, in its order of checks).
 */
export function batchedOrAlone<Req extends DescMessage, Res extends DescMessage>(
  groupCommit: PostingGroupCommit,
  ctx: HandlerContext,
  call: {
    requestSchema: Req;
    request: MessageShape<Req> & {
      idempotencyKey: string;
      cardId: string;
      storeId: string;
      staff?: StaffCredential | undefined;
    };
    responseSchema: Res;
  },
  posting: BatchablePosting | null,
  toResponse: (posted: Posted) => MessageShape<Res>,
  alone: () => Promise<MessageShape<Res>>,
): Promise<MessageShape<Res>> {
  const caller = callerOf(ctx);
  const { request } = call;
  const key = request.idempotencyKey;
  const staff = request.staff;
  if (
    posting === null ||
    caller.role !== "terminal" ||
    caller.merchantId === undefined ||
    !UUID.test(caller.actingDeviceId ?? "") ||
    !key ||
    key.length > MAX_KEY_LENGTH ||
    !staff?.pin ||
    !UUID.test(staff.staffId) ||
    !UUID.test(request.cardId)
  ) {
    return alone();
  }
  return groupCommit.submit({
    posting,
    cardId: request.cardId.toLowerCase(),
    deviceId: caller.actingDeviceId!.toLowerCase(),
    staffId: staff.staffId.toLowerCase(),
    pin: staff.pin,
    storeId: request.storeId,
    actor: actorOf(caller),
    tokenMerchantId: caller.merchantId,
    idempotency: {
      scope: idempotencyScope(ctx, caller.principalId),
      key,
      requestHash: hashRequest(call.requestSchema, withoutPin(call.requestSchema, request)),
    },
    respond: (posted) => {
      const response = toResponse(posted);
      // The record's bytes are the ones the fast path sends as the answer (see encodeStoredResponse).
      return { response, bytes: encodeStoredResponse(call.responseSchema, response) };
    },
    alone,
  });
}
