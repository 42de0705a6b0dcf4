import type { HandlerContext } from "@connectrpc/connect";
import { callerKey, type Caller } from "./caller.js";

/** The verified caller of an authenticated RPC; handlers pass it to use cases. */
export function callerOf(ctx: HandlerContext): Caller {
  const caller = ctx.values.get(callerKey);
  // The auth interceptor sets it for every non-public method; its absence is a wiring bug.
  if (!caller) throw new Error(`no caller for ${ctx.method.name}: is the method public?`);
  return caller;
}
