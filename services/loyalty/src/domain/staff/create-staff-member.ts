import { randomUUID } from "node:crypto";
import type { DatabaseTransactionConnection } from "@money/db";
import { findProgram } from "../../db/programs-table.js";
import { insertStaffMember } from "../../db/staff-table.js";
import { merchantFor, type Acting } from "../acting.js";
import { requireText } from "../ids.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import { LoyaltyError } from "../loyalty-error.js";
import { hashPin, requirePinFormat } from "./pin-hash.js";
import type { StaffMember } from "./staff-member.js";

export interface CreateStaffMember {
  merchantId: string;
  displayName: string;
  pin: string;
}

/**
 * Adds a staff member with a scrypt-hashed PIN. The PIN is hashed before the
 * transaction's retries could repeat the work, and never leaves this function.
 *
 * Errors: INVALID_ARGUMENT (name, PIN format), PROGRAM_NOT_FOUND, PERMISSION_DENIED.
 */
export async function createStaffMember(
  tx: DatabaseTransactionConnection,
  deps: LoyaltyDeps,
  command: CreateStaffMember,
  pinHash: { hash: Buffer; salt: Buffer },
  acting: Acting,
): Promise<StaffMember> {
  const merchantId = merchantFor(acting, command.merchantId);
  const displayName = requireText("display_name", command.displayName, 200);
  if (!(await findProgram(tx, merchantId))) {
    throw new LoyaltyError("PROGRAM_NOT_FOUND", `merchant ${merchantId} has no loyalty program`);
  }
  const staff = await insertStaffMember(tx, {
    id: randomUUID(),
    merchantId,
    displayName,
    pinHash: pinHash.hash,
    pinSalt: pinHash.salt,
  });
  await deps.audit.record(tx, {
    action: "staff_member.created",
    objectType: "staff_member",
    objectId: staff.id,
    actor: acting.actor,
    after: { merchant_id: merchantId, display_name: displayName },
    occurredAt: deps.clock.now(),
  });
  return staff;
}

/** Validates and hashes a new PIN, outside any transaction. Errors: INVALID_ARGUMENT. */
export async function prepareStaffPin(pin: string): Promise<{ hash: Buffer; salt: Buffer }> {
  requirePinFormat(pin);
  return hashPin(pin);
}
