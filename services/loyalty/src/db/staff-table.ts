import { sql, type CommonQueryMethods } from "@money/db";
import type { StaffCredentials, StaffMember } from "../domain/staff/staff-member.js";

interface StaffRow {
  id: string;
  merchant_id: string;
  display_name: string;
  pin_hash: Buffer;
  pin_salt: Buffer;
  pin_version: number;
  failed_pin_attempts: number;
  pin_locked_until: Date | null;
}

function toStaff(row: StaffRow): StaffCredentials {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    displayName: row.display_name,
    pinHash: row.pin_hash,
    pinSalt: row.pin_salt,
    pinVersion: row.pin_version,
    failedPinAttempts: row.failed_pin_attempts,
    pinLockedUntil: row.pin_locked_until,
  };
}

export async function insertStaffMember(
  db: CommonQueryMethods,
  staff: { id: string; merchantId: string; displayName: string; pinHash: Buffer; pinSalt: Buffer },
): Promise<StaffMember> {
  const row = await db.one(sql.unsafe`
    INSERT INTO staff_members (id, merchant_id, display_name, pin_hash, pin_salt)
    VALUES (${staff.id}, ${staff.merchantId}, ${staff.displayName}, ${sql.binary(staff.pinHash)},
            ${sql.binary(staff.pinSalt)})
    RETURNING *
  `);
  return toStaff(row as unknown as StaffRow);
}

export async function findStaffMember(db: CommonQueryMethods, id: string): Promise<StaffCredentials | null> {
  const row = await db.maybeOne(sql.unsafe`SELECT * FROM staff_members WHERE id = ${id}`);
  return row ? toStaff(row as unknown as StaffRow) : null;
}

export async function lockStaffMember(db: CommonQueryMethods, id: string): Promise<StaffCredentials> {
  const row = await db.one(sql.unsafe`SELECT * FROM staff_members WHERE id = ${id} FOR UPDATE`);
  return toStaff(row as unknown as StaffRow);
}

/** Counts a wrong PIN; a lock that has run out starts a fresh count. Locks at `maxAttempts`. */
export async function recordWrongPin(
  db: CommonQueryMethods,
  id: string,
  at: Date,
  maxAttempts: number,
  lockSeconds: number,
): Promise<StaffCredentials> {
  const row = await db.one(sql.unsafe`
    WITH counted AS (
      SELECT id,
             CASE WHEN pin_locked_until IS NOT NULL AND pin_locked_until <= ${sql.timestamp(at)} THEN 1
                  ELSE failed_pin_attempts + 1 END AS attempts
      FROM staff_members WHERE id = ${id} FOR UPDATE
    )
    UPDATE staff_members s SET
      failed_pin_attempts = counted.attempts,
      pin_locked_until = CASE WHEN counted.attempts >= ${maxAttempts}
                              THEN ${sql.timestamp(at)} + make_interval(secs => ${lockSeconds})
                              ELSE NULL END
    FROM counted WHERE s.id = counted.id
    RETURNING s.*
  `);
  return toStaff(row as unknown as StaffRow);
}

export async function clearPinAttempts(db: CommonQueryMethods, id: string): Promise<StaffCredentials> {
  const row = await db.one(sql.unsafe`
    UPDATE staff_members SET failed_pin_attempts = 0, pin_locked_until = NULL WHERE id = ${id} RETURNING *
  `);
  return toStaff(row as unknown as StaffRow);
}
