import type { CommonQueryMethods } from "@money/db";
import type { LogEntry } from "@money/proto/audit/v1/log_entry_pb";
import type { StoredLeaf } from "../../db/entries-table.js";
import { personalRecords, type PersonalRecord } from "../../db/personal-data-table.js";
import { decodeLogEntry } from "../log/log-entry-codec.js";
import { PSEUDONYM_PREFIX, refOfPseudonym } from "../personal-data/personal-value.js";

/** An entry as stored, decoded, with the personal data behind its pseudonyms where not erased. */
export interface ResolvedEntry {
  readonly sequence: number;
  readonly leaf: Uint8Array;
  readonly leafHash: Uint8Array;
  readonly entry: LogEntry;
  /** Side rows by hex ref; an erased ref has none. */
  readonly personal: ReadonlyMap<string, PersonalRecord>;
}

const PSEUDONYM_IN_JSON = new RegExp(`"${PSEUDONYM_PREFIX}([0-9a-f]{64})"`, "g");

/**
 * Decodes stored leaves and fetches the personal data they point to, in one
 * query for all of them.
 *
 * @throws Error if a stored leaf is not a LogEntry: the table was edited.
 */
export async function resolveEntries(
  db: CommonQueryMethods,
  leaves: readonly StoredLeaf[],
): Promise<ResolvedEntry[]> {
  const decoded = leaves.map((stored) => ({ stored, entry: decodeLogEntry(stored.leaf) }));
  const refs = new Map<string, Uint8Array>();
  const want = (ref: Uint8Array | undefined) => {
    if (ref && ref.length > 0) refs.set(Buffer.from(ref).toString("hex"), ref);
  };
  for (const { entry } of decoded) {
    want(entry.actor?.ipRef);
    want(entry.actor?.userAgentRef);
    want(refOfPseudonym(entry.actor?.principalId ?? ""));
    for (const json of [entry.beforeJson, entry.afterJson]) {
      for (const match of json.matchAll(PSEUDONYM_IN_JSON)) want(Buffer.from(match[1]!, "hex"));
    }
  }
  const records = await personalRecords(db, [...refs.values()]);
  const personal = new Map(records.map((r) => [Buffer.from(r.ref).toString("hex"), r]));
  return decoded.map(({ stored, entry }) => ({
    sequence: stored.sequence,
    leaf: stored.leaf,
    leafHash: stored.leafHash,
    entry,
    personal,
  }));
}
