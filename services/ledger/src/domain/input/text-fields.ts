import { LedgerError } from "../ledger-error.js";

export const MAX_EXTERNAL_REF_LENGTH = 128;
export const MAX_TEXT_LENGTH = 500;
const MAX_METADATA_ENTRIES = 50;
const MAX_METADATA_KEY_LENGTH = 64;
const MAX_METADATA_VALUE_LENGTH = 500;

/** Errors: INVALID_ARGUMENT when `value` is longer than `max` characters. */
export function requireAtMost(value: string, max: number, field: string): string {
  if ([...value].length > max) {
    throw new LedgerError("INVALID_ARGUMENT", `${field} must be at most ${max} characters`);
  }
  return value;
}

/** Errors: REASON_REQUIRED when empty or blank; INVALID_ARGUMENT when too long. */
export function requireReason(reason: string): string {
  if (reason.trim() === "") throw new LedgerError("REASON_REQUIRED", "reason is required and is recorded");
  return requireAtMost(reason, MAX_TEXT_LENGTH, "reason");
}

/** Errors: INVALID_ARGUMENT for too many entries or over-long keys or values. */
export function requireMetadata(metadata: Record<string, string>): Record<string, string> {
  const entries = Object.entries(metadata);
  if (entries.length > MAX_METADATA_ENTRIES) {
    throw new LedgerError("INVALID_ARGUMENT", `metadata takes at most ${MAX_METADATA_ENTRIES} entries`);
  }
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > MAX_METADATA_KEY_LENGTH) {
      throw new LedgerError(
        "INVALID_ARGUMENT",
        `metadata keys must be 1 to ${MAX_METADATA_KEY_LENGTH} characters`,
      );
    }
    requireAtMost(value, MAX_METADATA_VALUE_LENGTH, `metadata value of ${key}`);
  }
  return metadata;
}
