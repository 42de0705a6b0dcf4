import { LoyaltyError } from "./loyalty-error.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Errors: INVALID_ARGUMENT when `value` is not a UUID (so it never reaches a uuid column). */
export function requireId(field: string, value: string): string {
  if (!UUID.test(value))
    throw new LoyaltyError("INVALID_ARGUMENT", `${field} ${JSON.stringify(value)} is not a UUID`);
  return value.toLowerCase();
}

/** Errors: INVALID_ARGUMENT when `value` is longer than `max` characters or, if required, empty. */
export function requireText(field: string, value: string, max: number, required = true): string {
  if (required && value.length === 0) throw new LoyaltyError("INVALID_ARGUMENT", `${field} is required`);
  if (value.length > max)
    throw new LoyaltyError("INVALID_ARGUMENT", `${field} takes at most ${max} characters`);
  return value;
}
