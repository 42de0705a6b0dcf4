import { LedgerError } from "../ledger-error.js";
import { isUuid } from "./uuid.js";

/**
 * Keyset pagination: a page token is the opaque, base64url-encoded position of
 * the last row of the previous page, so a page costs an index seek however
 * deep it is.
 */
export function encodePageToken(position: readonly string[]): string {
  return Buffer.from(JSON.stringify(position)).toString("base64url");
}

/** Errors: INVALID_PAGE_TOKEN when the token is not one we issued with `size` parts. */
export function decodePageToken(token: string, size: number): string[] | null {
  if (token === "") return null;
  try {
    const position: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (Array.isArray(position) && position.length === size && position.every((p) => typeof p === "string")) {
      return position as string[];
    }
  } catch {
    // Reported below, as every other malformed token.
  }
  throw new LedgerError("INVALID_PAGE_TOKEN", "page_token is not a token this service issued");
}

/** Errors: INVALID_ARGUMENT outside 0..max; 0 means the default. */
export function pageSizeOf(requested: number, { max, fallback }: { max: number; fallback: number }): number {
  if (!Number.isInteger(requested) || requested < 0 || requested > max) {
    throw new LedgerError("INVALID_ARGUMENT", `page_size must be 0 to ${max}`);
  }
  return requested === 0 ? fallback : requested;
}

/** A (time, id) position, as the listings ordered by creation time use. Errors: INVALID_PAGE_TOKEN. */
export function decodeTimeIdToken(token: string): { createdAt: string; id: string } | null {
  const position = decodePageToken(token, 2);
  if (!position) return null;
  const [createdAt = "", id = ""] = position;
  if (Number.isNaN(Date.parse(createdAt)) || !isUuid(id)) {
    throw new LedgerError("INVALID_PAGE_TOKEN", "page_token is not a token this service issued");
  }
  return { createdAt, id };
}
