import { createHash } from "node:crypto";

/** The kinds of personal data kept out of the log. */
export const PERSONAL_KINDS = ["ip", "user_agent", "customer"] as const;
export type PersonalKind = (typeof PERSONAL_KINDS)[number];

/** One personal value seen in an event. */
export interface PersonalValue {
  readonly kind: PersonalKind;
  readonly value: string;
}

/** Bytes of salt per value: enough that a ref cannot be brute-forced from the small space of IPs. */
export const SALT_BYTES = 16;

/** Prefix of a pseudonymised customer reference inside a leaf. */
export const PSEUDONYM_PREFIX = "pd:";

/**
 * What a leaf holds instead of the value: SHA-256(salt ‖ kind ‖ 0x00 ‖ value).
 * With the salt (kept beside the value, erased with it) anyone can check that
 * a disclosed value is the one the log committed to; without it, nobody can
 * tell whose it was.
 */
export function personalRef(salt: Uint8Array, kind: PersonalKind, value: string): Uint8Array {
  return createHash("sha256").update(salt).update(kind).update("\0").update(value, "utf8").digest();
}

/**
 * Finds the side row of a value seen before: SHA-256(kind ‖ 0x00 ‖ value),
 * unsalted. It lives only in the side row and goes with it.
 */
export function personalLookup(kind: PersonalKind, value: string): Uint8Array {
  return createHash("sha256").update(kind).update("\0").update(value, "utf8").digest();
}

/** "pd:<hex ref>", the text that stands for a customer reference in a leaf. */
export function pseudonymOf(ref: Uint8Array): string {
  return `${PSEUDONYM_PREFIX}${Buffer.from(ref).toString("hex")}`;
}

/** The ref inside "pd:<hex>", or undefined when the text is no pseudonym. */
export function refOfPseudonym(text: string): Uint8Array | undefined {
  if (!text.startsWith(PSEUDONYM_PREFIX)) return undefined;
  const hex = text.slice(PSEUDONYM_PREFIX.length);
  return /^[0-9a-f]{64}$/.test(hex) ? Buffer.from(hex, "hex") : undefined;
}

/** Map key of a (kind, value) pair. */
export function personalKey(kind: PersonalKind, value: string): string {
  return `${kind}\0${value}`;
}
