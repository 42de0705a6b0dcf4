import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { isRetryableConflict } from "@money/db";
import type { Logger } from "../log/logger.js";
import { DomainError, toConnectError, type ErrorCodeTable } from "./domain-error.js";

/**
 * The one place where errors become wire errors. Domain refusals map through
 * the service's table; a transaction that kept conflicting is ABORTED (the
 * caller may retry); anything else is a bug: logged with its cause and sent
 * as a bare INTERNAL, never with internals in the message.
 */
export function errorInterceptor(table: ErrorCodeTable<string>, log: Logger): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (error) {
      if (error instanceof DomainError) throw toConnectError(error, table);
      if (error instanceof ConnectError) throw error;
      if (isRetryableConflict(error)) {
        throw toConnectError(
          new DomainError(
            "CONFLICT_RETRIES_EXHAUSTED",
            "the request kept conflicting with concurrent writes; retry it",
          ),
          table,
        );
      }
      log.error({ err: error, method: req.method.name }, "unexpected error");
      throw new ConnectError("internal error", Code.Internal);
    }
  };
}
