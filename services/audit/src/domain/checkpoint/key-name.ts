import { CheckpointError } from "./checkpoint-error.js";

// Unicode White_Space is what Go's unicode.IsSpace tests, which the reference implementation
// (golang.org/x/mod/sumdb/note) uses; JS's \s differs (it has U+FEFF but lacks U+0085).
const UNICODE_SPACE = /\p{White_Space}/u;
// In a /u regex a surrogate class only matches unpaired surrogates, i.e. text that is not valid UTF-8.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Whether `name` may name a key (c2sp.org/signed-note): non-empty, no Unicode spaces, no "+". */
export function isValidKeyName(name: string): boolean {
  return name !== "" && !UNICODE_SPACE.test(name) && !name.includes("+") && !LONE_SURROGATE.test(name);
}

/** @throws CheckpointError `INVALID_KEY_NAME` unless `isValidKeyName(name)`. */
export function assertValidKeyName(name: string): void {
  if (!isValidKeyName(name)) {
    throw new CheckpointError("INVALID_KEY_NAME", `${JSON.stringify(name)} is not a valid key name`);
  }
}
