import { LedgerError } from "../ledger-error.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Errors: INVALID_ARGUMENT when `value` is not a UUID. Returns it lower-cased, as Postgres prints it. */
export function requireUuid(value: string, field: string): string {
  if (!UUID.test(value))
    throw new LedgerError("INVALID_ARGUMENT", `${field} ${JSON.stringify(value)} is not a UUID`);
  return value.toLowerCase();
}
