export interface StaffMember {
  id: string;
  merchantId: string;
  displayName: string;
  pinVersion: number;
  failedPinAttempts: number;
  /** Set while locked after too many wrong attempts; past values mean the lock has run out. */
  pinLockedUntil: Date | null;
}

/** A staff member together with the stored hash of their PIN, for verification only. */
export interface StaffCredentials extends StaffMember {
  pinHash: Buffer;
  pinSalt: Buffer;
}

export function isPinLocked(staff: StaffMember, at: Date): boolean {
  return staff.pinLockedUntil !== null && staff.pinLockedUntil > at;
}
