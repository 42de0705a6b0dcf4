import type { JsonValue } from "@bufbuild/protobuf";

/**
 * JSON text with object keys sorted by UTF-16 code unit and no whitespace:
 * the same value always gives the same text (RFC 8785's ordering; numbers
 * and strings as ECMAScript serialises them, which is what RFC 8785 uses).
 * The empty string stands for an absent object.
 */
export function canonicalJson(value: JsonValue | undefined): string {
  return value === undefined ? "" : write(value);
}

function write(value: JsonValue): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(write).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${write(value[key] as JsonValue)}`).join(",")}}`;
}
