import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { DatabasePool, DatabaseTransactionConnection } from "@money/db";
import { runIdempotent, type Caller } from "@money/rpc";

export type IdempotentWrite = <Req extends DescMessage, Res extends DescMessage>(
  call: {
    method: string;
    requestSchema: Req;
    request: MessageShape<Req> & { idempotencyKey: string };
    responseSchema: Res;
    caller: Caller;
  },
  effect: (tx: DatabaseTransactionConnection) => Promise<MessageShape<Res>>,
) => Promise<MessageShape<Res>>;

/** Runs a write once per (method, caller, idempotency key), in one serializable transaction with its key. */
export function idempotentWrites(pool: DatabasePool): IdempotentWrite {
  return (call, effect) =>
    runIdempotent(
      pool,
      {
        scope: `${call.method}:${call.caller.principalId}`,
        key: call.request.idempotencyKey,
        requestSchema: call.requestSchema,
        request: call.request,
        responseSchema: call.responseSchema,
      },
      effect,
    );
}
