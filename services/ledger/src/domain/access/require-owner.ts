import type { Caller } from "@money/rpc";
import { LedgerError } from "../ledger-error.js";

/**
 * A user may act only on what it owns: the token's subject must be the
 * owner reference. Staff roles (admin, service, auditor) pass; the access
 * policy has already decided whether their role may call the method.
 *
 * Errors: NOT_OWNER.
 */
export function requireOwner(caller: Caller, ownerRef: string, what: string): void {
  if (caller.role === "user" && caller.principalId !== ownerRef) {
    throw new LedgerError("NOT_OWNER", `${what} belongs to someone else`);
  }
}
