import { inTransaction, type DatabasePool } from "@money/db";
import type { Actor } from "@money/kafka";
import { findProgram } from "../../db/programs-table.js";
import { findStaffMember, clearPinAttempts, recordWrongPin } from "../../db/staff-table.js";
import { requireId } from "../ids.js";
import type { LoyaltyDeps } from "../loyalty-deps.js";
import { LoyaltyError } from "../loyalty-error.js";
import { pinMatches, type VerifiedPinCache } from "./pin-hash.js";
import { isPinLocked, type StaffMember } from "./staff-member.js";

export interface StaffPinCheck {
  merchantId: string;
  staffId: string;
  pin: string;
}

/**
 * Verifies the PIN a staff member typed on a terminal. Runs before, and
 * outside, the posting's transaction: a wrong PIN must be counted even
 * though the posting is refused, so each wrong attempt commits on its own;
 * the attempt that reaches the program's limit locks the PIN and is audited.
 *
 * Errors: PIN_REQUIRED, INVALID_ARGUMENT (staff id), STAFF_NOT_FOUND (or of
 * another merchant), PIN_LOCKED, PIN_INVALID.
 */
export async function verifyStaffPin(
  pool: DatabasePool,
  deps: LoyaltyDeps & { pins: VerifiedPinCache },
  check: StaffPinCheck,
  actor: Actor,
): Promise<StaffMember> {
  if (!check.staffId || !check.pin) {
    throw new LoyaltyError("PIN_REQUIRED", "a terminal posting needs the staff member's id and PIN");
  }
  const staffId = requireId("staff.staff_id", check.staffId);
  const at = deps.clock.now();
  const staff = await findStaffMember(pool, staffId);
  if (!staff || staff.merchantId !== check.merchantId) {
    throw new LoyaltyError("STAFF_NOT_FOUND", `no staff member ${staffId} at merchant ${check.merchantId}`);
  }
  if (isPinLocked(staff, at)) {
    throw new LoyaltyError(
      "PIN_LOCKED",
      `the PIN of ${staffId} is locked until ${staff.pinLockedUntil!.toISOString()}`,
    );
  }
  if (deps.pins.has(staffId, staff.pinVersion, check.pin, at.getTime())) return staff;
  if (await pinMatches(check.pin, staff.pinHash, staff.pinSalt)) {
    deps.pins.remember(staffId, staff.pinVersion, check.pin, at.getTime());
    return staff.failedPinAttempts > 0 || staff.pinLockedUntil ? clearPinAttempts(pool, staffId) : staff;
  }
  deps.pins.forget(staffId);
  const program = (await findProgram(pool, staff.merchantId))!;
  const counted = await inTransaction(
    pool,
    async (tx) => {
      const after = await recordWrongPin(tx, staffId, at, program.pinMaxAttempts, program.pinLockSeconds);
      if (isPinLocked(after, at)) {
        await deps.audit.record(tx, {
          action: "staff_pin.locked",
          objectType: "staff_member",
          objectId: staffId,
          actor,
          reason: `${after.failedPinAttempts} wrong PIN attempts`,
          after: {
            failed_pin_attempts: after.failedPinAttempts,
            pin_locked_until: after.pinLockedUntil!.toISOString(),
          },
          occurredAt: at,
        });
      }
      return after;
    },
    { isolation: "read committed" },
  );
  if (isPinLocked(counted, at)) {
    throw new LoyaltyError(
      "PIN_LOCKED",
      `wrong PIN; ${counted.failedPinAttempts} wrong attempts locked it until ${counted.pinLockedUntil!.toISOString()}`,
    );
  }
  throw new LoyaltyError(
    "PIN_INVALID",
    `wrong PIN (${counted.failedPinAttempts} of ${program.pinMaxAttempts} attempts before it locks)`,
  );
}
