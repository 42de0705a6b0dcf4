import { RefundError } from "./refund-error.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Errors: INVALID_ARGUMENT. */
export function requireUuid(value: string, field: string): string {
  if (!UUID.test(value)) throw new RefundError("INVALID_ARGUMENT", `${field} must be a UUID`);
  return value.toLowerCase();
}

/** Errors: INVALID_ARGUMENT (too long), REASON_REQUIRED (empty when required). */
export function requireText(
  value: string,
  field: string,
  maxLength: number,
  { required = false } = {},
): string {
  const text = value.trim();
  if (required && text === "") {
    throw new RefundError(
      field === "reason" ? "REASON_REQUIRED" : "INVALID_ARGUMENT",
      `${field} is required`,
    );
  }
  if (text.length > maxLength)
    throw new RefundError("INVALID_ARGUMENT", `${field} is at most ${maxLength} characters`);
  return text;
}

/**
 * Keyset pagination: a page token is the base64url position of the last row
 * of the previous page (its creation time and id).
 */
export function encodePageToken(createdAt: Date, id: string): string {
  return Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString("base64url");
}

/** Errors: INVALID_PAGE_TOKEN. */
export function decodePageToken(token: string): { createdAt: string; id: string } | null {
  if (token === "") return null;
  try {
    const position: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (
      Array.isArray(position) &&
      position.length === 2 &&
      typeof position[0] === "string" &&
      typeof position[1] === "string" &&
      !Number.isNaN(Date.parse(position[0])) &&
      UUID.test(position[1])
    ) {
      return { createdAt: position[0], id: position[1] };
    }
  } catch {
    // Reported below, as every other malformed token.
  }
  throw new RefundError("INVALID_PAGE_TOKEN", "page_token is not a token this service issued");
}

/** Errors: INVALID_ARGUMENT outside 0..max; 0 means the default. */
export function pageSizeOf(requested: number, { max = 500, fallback = 100 } = {}): number {
  if (!Number.isInteger(requested) || requested < 0 || requested > max) {
    throw new RefundError("INVALID_ARGUMENT", `page_size must be 0 to ${max}`);
  }
  return requested === 0 ? fallback : requested;
}
