import type { ServiceImpl } from "@connectrpc/connect";
import type { PipelinedConnections } from "@money/db";
import type { LedgerService } from "@money/proto/ledger/v1/ledger_pb";
import type { ServiceDeps } from "@money/runtime";
import { KeyedMutex } from "../concurrency/keyed-mutex.js";
import type { LedgerEventSink } from "../domain/ledger-events.js";
import { accountHandlers } from "./account-handlers.js";
import { idempotentWrites } from "./idempotent-write.js";
import { postingHandlers } from "./posting-handlers.js";
import { queryHandlers } from "./query-handlers.js";
import { TransferGroupCommit } from "./transfer-group-commit.js";
import { reportHandlers } from "./report-handlers.js";
import { walletHandlers } from "./wallet-handlers.js";

/** Thin handlers: map the request to a command, run one use case, map the result back. */
export function ledgerHandlers(
  deps: ServiceDeps,
  events: LedgerEventSink,
  transferGroups: PipelinedConnections,
): ServiceImpl<typeof LedgerService> {
  const write = idempotentWrites(deps.pool);
  return {
    ...accountHandlers(deps, write),
    ...postingHandlers(
      events,
      write,
      new KeyedMutex(),
      new TransferGroupCommit(deps.pool, transferGroups, events, write, {
        maxGroupsInFlight: transferGroups.size,
      }),
    ),
    ...queryHandlers(deps.pool),
    ...walletHandlers(deps, events, write, new KeyedMutex()),
    ...reportHandlers(deps.pool),
  };
}
