import { inTransaction, type DatabasePool } from "@money/db";
import {
  erasePersonalRecords,
  insertErasure,
  refOfValue,
  refsOnlySeenWith,
} from "../../db/personal-data-table.js";
import { lockSequencer } from "../../db/tree-table.js";
import { AuditError } from "../audit-error.js";
import { pseudonymOf } from "./personal-value.js";

export interface ErasureRequest {
  /** A customer: their reference, and the IPs and user agents seen only with them. */
  readonly customerRef: string;
  readonly ips: readonly string[];
  readonly userAgents: readonly string[];
}

const MAX_VALUES = 100;

/**
 * Erases personal data from the side table. The log keeps its salted
 * hashes, so every leaf, root and proof stays valid; without the salt
 * nobody can tell any more whose they were. Runs under the sequencer lock,
 * so no batch being sequenced can link a value to a ref erased under it.
 *
 * @returns how many side rows were deleted.
 * Errors: INVALID_ARGUMENT (nothing named, or over 100 values).
 */
export async function erasePersonalData(pool: DatabasePool, request: ErasureRequest): Promise<number> {
  if (request.customerRef === "" && request.ips.length === 0 && request.userAgents.length === 0) {
    throw new AuditError("INVALID_ARGUMENT", "name a customer_ref, ips or user_agents to erase");
  }
  if (request.ips.length + request.userAgents.length > MAX_VALUES) {
    throw new AuditError("INVALID_ARGUMENT", `at most ${MAX_VALUES} values per request`);
  }
  return inTransaction(
    pool,
    async (tx) => {
      await lockSequencer(tx);
      const refs: Uint8Array[] = [];
      const add = (ref: Uint8Array | null) => {
        if (ref) refs.push(ref);
      };
      if (request.customerRef !== "") {
        const customer = await refOfValue(tx, "customer", request.customerRef);
        add(customer);
        if (customer) refs.push(...(await refsOnlySeenWith(tx, pseudonymOf(customer))));
      }
      for (const ip of request.ips) add(await refOfValue(tx, "ip", ip));
      for (const userAgent of request.userAgents) add(await refOfValue(tx, "user_agent", userAgent));
      const erased = await erasePersonalRecords(tx, refs);
      // A new erasure generation: every sequencer forgets the refs it cached.
      await insertErasure(tx, erased);
      return erased;
    },
    { isolation: "read committed" },
  );
}
