import type { AccessPolicy } from "@money/rpc";

/** Who may call each ledger method. */
export const LEDGER_ACCESS: AccessPolicy = {
  CreateAccount: ["admin", "service"],
  GetAccount: ["admin", "service", "auditor", "user"],
};
