import type { DatabaseTransactionConnection } from "@money/db";
import { clearPinAttempts, findStaffMember, lockStaffMember } from "../../db/staff-table.js";
import { assertActsFor, type Acting } from "../acting.js";
import { requireId, requireText } from "../ids.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import { LoyaltyError } from "../loyalty-error.js";
import { isPinLocked, type StaffMember } from "./staff-member.js";

export interface UnlockStaffPin {
  staffId: string;
  reason: string;
}

/**
 * Lifts a PIN lock before it runs out and resets the attempt count; audited
 * with the admin's reason.
 *
 * Errors: INVALID_ARGUMENT (id, reason), STAFF_NOT_FOUND, PERMISSION_DENIED, PIN_NOT_LOCKED.
 */
export async function unlockStaffPin(
  tx: DatabaseTransactionConnection,
  deps: LoyaltyDeps,
  command: UnlockStaffPin,
  acting: Acting,
): Promise<StaffMember> {
  const staffId = requireId("staff_id", command.staffId);
  const reason = requireText("reason", command.reason, 500);
  const at = deps.clock.now();
  if (!(await findStaffMember(tx, staffId)))
    throw new LoyaltyError("STAFF_NOT_FOUND", `no staff member ${staffId}`);
  const staff = await lockStaffMember(tx, staffId);
  assertActsFor(acting, staff.merchantId);
  if (!isPinLocked(staff, at))
    throw new LoyaltyError("PIN_NOT_LOCKED", `the PIN of ${staffId} is not locked`);
  const unlocked = await clearPinAttempts(tx, staffId);
  await deps.audit.record(tx, {
    action: "staff_pin.unlocked",
    objectType: "staff_member",
    objectId: staffId,
    actor: acting.actor,
    reason,
    before: {
      failed_pin_attempts: staff.failedPinAttempts,
      pin_locked_until: staff.pinLockedUntil!.toISOString(),
    },
    after: { failed_pin_attempts: 0, pin_locked_until: "" },
    occurredAt: at,
  });
  return unlocked;
}
