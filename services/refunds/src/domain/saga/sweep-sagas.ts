import { inTransaction, type DatabasePool } from "@money/db";
import { findDueSteps } from "../../db/saga-steps-table.js";
import type { RefundsContext } from "../refunds-context.js";
import { advanceSaga } from "./run-saga.js";

/**
 * Moves on the sagas that wait on a timer: a step whose deadline passed with
 * no reply is sent again (participants answer a step they already did with
 * its first outcome), a step whose backoff is over is retried. At most
 * `limit` steps per call, each in its own transaction under its refund's
 * lock; a saga another transaction holds is left for the next sweep.
 * Returns how many steps moved.
 */
export async function sweepDueSteps(
  pool: DatabasePool,
  context: RefundsContext,
  limit: number,
): Promise<number> {
  const due = await findDueSteps(pool, context.clock.now(), limit);
  let moved = 0;
  for (const { refundId, step, status } of due) {
    const input =
      status === "in_flight"
        ? ({ type: "deadline_passed", step } as const)
        : ({ type: "retry_due", step } as const);
    const { outcome } = await inTransaction(
      pool,
      (tx) => advanceSaga(tx, context, refundId, input, { skipLocked: true }),
      {
        isolation: "read committed",
      },
    );
    if (outcome === "applied") moved++;
  }
  return moved;
}
