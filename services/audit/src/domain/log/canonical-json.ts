import type { JsonValue } from "@bufbuild/protobuf";

/** Asked for each member of each object: a string returned is written instead of the member's value. */
export type MemberSubstitute = (key: string, value: JsonValue) => string | undefined;

/**
 * JSON text with object keys sorted by UTF-16 code unit and no whitespace:
 * the same value always gives the same text (RFC 8785's ordering; numbers
 * and strings as ECMAScript serialises them, which is what RFC 8785 uses).
 * The empty string stands for an absent object.
 *
 * `substitute` replaces members as the text is written (the sequencer
 * pseudonymises customer references so), sparing a copy of the value.
 */
export function canonicalJson(value: JsonValue | undefined, substitute?: MemberSubstitute): string {
  return value === undefined ? "" : write(value, substitute);
}

function write(value: JsonValue, substitute: MemberSubstitute | undefined): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) {
    let text = "[";
    for (let i = 0; i < value.length; i++) text += (i === 0 ? "" : ",") + write(value[i]!, substitute);
    return `${text}]`;
  }
  const keys = Object.keys(value).sort();
  let text = "{";
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const member = value[key] as JsonValue;
    const substituted = substitute?.(key, member);
    text += `${i === 0 ? "" : ","}${JSON.stringify(key)}:${
      substituted === undefined ? write(member, substitute) : JSON.stringify(substituted)
    }`;
  }
  return `${text}}`;
}
