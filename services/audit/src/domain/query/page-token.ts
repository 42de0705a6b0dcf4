import { createHash } from "node:crypto";
import { AuditError } from "../audit-error.js";

/**
 * Page tokens are keyset positions: the last sequence number returned, bound
 * to the query they came from so that a token is never replayed against
 * another filter.
 */
export function encodePageToken(lastSequence: number, query: string): string {
  return Buffer.from(`${lastSequence}:${fingerprint(query)}`, "utf8").toString("base64url");
}

/**
 * @returns the sequence to continue after, -1 for the first page.
 * @throws AuditError INVALID_PAGE_TOKEN if the token is malformed or belongs to another query.
 */
export function decodePageToken(token: string, query: string): number {
  if (token === "") return -1;
  const text = Buffer.from(token, "base64url").toString("utf8");
  const match = /^(\d{1,16}):([0-9a-f]{16})$/.exec(text);
  if (!match || match[2] !== fingerprint(query) || !Number.isSafeInteger(Number(match[1]))) {
    throw new AuditError("INVALID_PAGE_TOKEN", "the page token is malformed or belongs to another query");
  }
  return Number(match[1]);
}

function fingerprint(query: string): string {
  return createHash("sha256").update(query).digest("hex").slice(0, 16);
}
