import { randomUUID } from "node:crypto";
import type { DatabaseTransactionConnection } from "@money/db";
import { findProgram } from "../../db/programs-table.js";
import { insertStore } from "../../db/stores-table.js";
import { merchantFor, type Acting } from "../acting.js";
import { requireText } from "../ids.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import { LoyaltyError } from "../loyalty-error.js";
import { POINTS_PER_UNIT } from "../programs/configure-program.js";
import { isKnownTimeZone, type Store } from "./store.js";

export interface CreateStore {
  merchantId: string;
  name: string;
  timeZone: string;
  /** Empty to inherit the program's rate. */
  pointsPerUnitOverride: string;
}

/**
 * Adds a store to the merchant's program.
 *
 * Errors: INVALID_ARGUMENT (name, time zone, rate), PROGRAM_NOT_FOUND, PERMISSION_DENIED.
 */
export async function createStore(
  tx: DatabaseTransactionConnection,
  deps: LoyaltyDeps,
  command: CreateStore,
  acting: Acting,
): Promise<Store> {
  const merchantId = merchantFor(acting, command.merchantId);
  const name = requireText("name", command.name, 200);
  if (!isKnownTimeZone(command.timeZone)) {
    throw new LoyaltyError(
      "INVALID_ARGUMENT",
      `time_zone ${JSON.stringify(command.timeZone)} is not an IANA zone`,
    );
  }
  if (command.pointsPerUnitOverride && !POINTS_PER_UNIT.test(command.pointsPerUnitOverride)) {
    throw new LoyaltyError(
      "INVALID_ARGUMENT",
      'points_per_unit_override must be a decimal like "2" or "1.5"',
    );
  }
  if (!(await findProgram(tx, merchantId))) {
    throw new LoyaltyError("PROGRAM_NOT_FOUND", `merchant ${merchantId} has no loyalty program`);
  }
  const store = await insertStore(tx, {
    id: randomUUID(),
    merchantId,
    name,
    timeZone: command.timeZone,
    pointsPerUnitOverride: command.pointsPerUnitOverride || null,
  });
  await deps.audit.record(tx, {
    action: "loyalty_store.created",
    objectType: "loyalty_store",
    objectId: store.id,
    actor: acting.actor,
    after: {
      merchant_id: merchantId,
      name,
      time_zone: store.timeZone,
      points_per_unit_override: store.pointsPerUnitOverride ?? "",
    },
    occurredAt: deps.clock.now(),
  });
  return store;
}
