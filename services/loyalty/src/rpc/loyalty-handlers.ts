import type { ServiceImpl } from "@connectrpc/connect";
import type { LoyaltyService } from "@money/proto/loyalty/v1/loyalty_pb";
import { cardHandlers } from "./card-handlers.js";
import type { HandlerDeps } from "./handler-deps.js";
import { postingHandlers } from "./posting-handlers.js";
import { reportHandlers } from "./report-handlers.js";
import { setupHandlers } from "./setup-handlers.js";

/** Thin handlers: map the request to a command, run one use case, map the result back. */
export function loyaltyHandlers(deps: HandlerDeps): ServiceImpl<typeof LoyaltyService> {
  return {
    ...setupHandlers(deps),
    ...cardHandlers(deps),
    ...postingHandlers(deps),
    ...reportHandlers(deps),
  };
}
