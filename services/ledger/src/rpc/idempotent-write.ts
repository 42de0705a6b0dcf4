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

/**
 * Attempts after the first when Postgres aborts a write for a serialization
 * conflict. Writers of one account queue in-process (KeyedMutex), so conflicts
 * come from other replicas; under a hot account shared by replicas a writer
 * can lose several rounds in a row before it wins, and each round is short.
 */
export const WRITE_RETRIES = 25;

/** What a ledger write's idempotency key is scoped to: the same key from two callers or two methods is two keys. */
export function idempotencyScope(method: string, caller: Caller): string {
  return `${method}:${caller.principalId}`;
}

/** Runs a write once per (method, caller, idempotency key), in one serializable transaction with its key. */
export function idempotentWrites(pool: DatabasePool): IdempotentWrite {
  return (call, effect) =>
    runIdempotent(
      pool,
      {
        scope: idempotencyScope(call.method, call.caller),
        key: call.request.idempotencyKey,
        requestSchema: call.requestSchema,
        request: call.request,
        responseSchema: call.responseSchema,
      },
      effect,
      { retries: WRITE_RETRIES },
    );
}
