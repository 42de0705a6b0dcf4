import { clone, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { DatabasePool, DatabaseTransactionConnection } from "@money/db";
import { runIdempotent } from "@money/rpc";

/**
 * runIdempotent for a loyalty method, scoped to the method and the caller
 * (for a terminal, its device). The request is remembered by hash with any
 * staff PIN blanked: a SHA-256 over a request that held a 4-digit PIN would
 * give the PIN away to anyone who can read the table.
 *
 * Loyalty transactions run at READ COMMITTED with explicit locks. Under
 * SERIALIZABLE, a posting that waited for its card's row lock fails with a
 * serialization error the moment it gets it (the row changed after its
 * snapshot), so tills busy on one card would retry in a storm. Every
 * invariant here is guarded by a lock taken before it is checked (the card
 * row, an order's advisory lock, the daily-usage rows, a pairing code or
 * staff row) or by a unique index (idempotency keys, card numbers, one earn
 * per order).
 */
export function idempotently<Req extends DescMessage, Res extends DescMessage>(
  pool: DatabasePool,
  ctx: HandlerContext,
  principalId: string,
  call: { requestSchema: Req; request: MessageShape<Req> & { idempotencyKey: string }; responseSchema: Res },
  effect: (tx: DatabaseTransactionConnection) => Promise<MessageShape<Res>>,
): Promise<MessageShape<Res>> {
  return runIdempotent(
    pool,
    {
      scope: idempotencyScope(ctx, principalId),
      key: call.request.idempotencyKey,
      requestSchema: call.requestSchema,
      request: withoutPin(call.requestSchema, call.request),
      responseSchema: call.responseSchema,
    },
    effect,
    { isolation: "read committed" },
  );
}

/** The scope of a loyalty method's keys: the method and the caller. */
export function idempotencyScope(ctx: HandlerContext, principalId: string): string {
  return `${ctx.method.name}:${principalId}`;
}

/** The request as its hash sees it: with any staff PIN blanked. */
export function withoutPin<Req extends DescMessage>(
  schema: Req,
  request: MessageShape<Req>,
): MessageShape<Req> {
  const staff = (request as { staff?: { pin: string } }).staff;
  if (!staff?.pin) return request;
  const copy = clone(schema, request);
  (copy as unknown as { staff: { pin: string } }).staff.pin = "";
  return copy;
}
