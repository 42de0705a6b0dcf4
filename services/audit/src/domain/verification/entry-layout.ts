import type { LeafKey } from "../log/log-entry-codec.js";
import type { Finding } from "./finding.js";

export interface LayoutInput {
  /** Sequence number of the first position. */
  readonly first: number;
  /** How many entries the bundle should hold, from `first`. */
  readonly intended: number;
  /** Each entry record's key, by position; undefined when the leaf is malformed. */
  readonly keys: readonly (LeafKey | undefined)[];
  /**
   * Of several records claiming one sequence number, the position of the
   * one the log committed to; the others are forged.
   */
  original(sequence: number, positions: readonly number[]): number;
}

export interface Layout {
  /** Position of the record standing for each sequence in [first, first + intended), or -1. */
  readonly positionOf: Int32Array;
  /** Positions holding records the log never committed to, or malformed ones. */
  readonly extras: ReadonlySet<number>;
  /** True when every position holds the entry of its own sequence number. */
  readonly inPlace: boolean;
  readonly findings: Finding[];
}

/**
 * Where each entry of a bundle sits compared with where the log sequenced it,
 * from the sequence number inside each leaf. A clean bundle holds sequence
 * first + i at position i. Otherwise:
 *
 * - a sequence number no record claims is a deleted entry: ENTRY_MISSING,
 *   or LOG_TRUNCATED when all the numbers after it are missing too;
 * - a record claiming a number already claimed, or outside the range, or
 *   unreadable, is an extra: FORGED_ENTRY (MALFORMED_ENTRY);
 * - a record whose position is not explained by the deletions and extras
 *   before it has been moved: ENTRIES_REORDERED. A deletion shifts every
 *   later record one position down and an insertion one up; neither makes
 *   those records "moved", so one edit gives one finding, not thousands.
 *
 * Records pushed past the end of the range by an insertion (an exporter that
 * selects by sequence column loses the last one) are ascribed to that
 * insertion rather than reported as a truncation.
 */
export function analyseLayout(input: LayoutInput): Layout {
  const { first, intended, keys } = input;
  const findings: Finding[] = [];
  const positionOf = new Int32Array(intended).fill(-1);
  const extras = new Set<number>();
  const claims = new Map<number, number[]>();

  keys.forEach((key, position) => {
    if (key === undefined) {
      extras.add(position);
      findings.push({
        kind: "MALFORMED_ENTRY",
        foundAt: first + position,
        detail: "the record is not a well-formed LogEntry",
      });
      return;
    }
    const slot = key.sequence - first;
    if (slot < 0 || slot >= intended) {
      extras.add(position);
      findings.push({
        kind: "FORGED_ENTRY",
        sequence: key.sequence,
        foundAt: first + position,
        detail: `claims sequence ${key.sequence}, outside the bundle's range [${first}, ${first + intended})`,
      });
      return;
    }
    if (positionOf[slot] === -1) positionOf[slot] = position;
    else claims.set(slot, [...(claims.get(slot) ?? [positionOf[slot]!]), position]);
  });
  for (const [slot, positions] of claims) {
    const kept = input.original(first + slot, positions);
    positionOf[slot] = kept;
    for (const position of positions) {
      if (position === kept) continue;
      extras.add(position);
      findings.push({
        kind: "FORGED_ENTRY",
        sequence: first + slot,
        foundAt: first + position,
        detail: `a second entry claiming sequence ${first + slot} (event ${keys[position]!.eventId}), which the log did not commit to`,
      });
    }
  }

  // extrasBefore[p]: extras at positions < p; holesBelow[s]: missing sequence slots < s.
  const extrasBefore = new Int32Array(keys.length + 1);
  for (let p = 0; p < keys.length; p++) extrasBefore[p + 1] = extrasBefore[p]! + (extras.has(p) ? 1 : 0);
  const holesBelow = new Int32Array(intended + 1);
  let highestPresent = -1;
  for (let s = 0; s < intended; s++) {
    holesBelow[s + 1] = holesBelow[s]! + (positionOf[s] === -1 ? 1 : 0);
    if (positionOf[s] !== -1) highestPresent = s;
  }

  let inPlace = extras.size === 0 && holesBelow[intended] === 0;
  for (let s = 0; s < intended; s++) {
    const position = positionOf[s]!;
    if (position === -1) continue;
    if (position !== s) inPlace = false;
    const explained = s - holesBelow[s]! + extrasBefore[position]!;
    if (position !== explained) {
      findings.push({
        kind: "ENTRIES_REORDERED",
        sequence: first + s,
        foundAt: first + position,
        detail: `entry ${first + s} sits at position ${first + position}`,
      });
    }
  }

  // Missing numbers: runs inside the range, and the tail after the last present one.
  const tailStart = highestPresent + 1;
  const pushedOut = Math.max(0, extras.size - [...extras].filter((p) => keys[p] === undefined).length);
  for (let s = 0; s < tailStart;) {
    if (positionOf[s] !== -1) {
      s++;
      continue;
    }
    let end = s;
    while (end + 1 < tailStart && positionOf[end + 1] === -1) end++;
    findings.push({
      kind: "ENTRY_MISSING",
      sequence: first + s,
      lastSequence: first + end,
      detail:
        end === s
          ? `entry ${first + s} is not in the bundle`
          : `entries ${first + s} to ${first + end} are not in the bundle`,
    });
    s = end + 1;
  }
  let truncatedFrom = tailStart;
  const tail = intended - tailStart;
  if (tail > 0 && pushedOut > 0) {
    // The last records, shifted past the range by forged insertions before them.
    truncatedFrom = intended - (tail - Math.min(tail, pushedOut));
  }
  if (truncatedFrom < intended) {
    findings.push({
      kind: "LOG_TRUNCATED",
      sequence: first + truncatedFrom,
      lastSequence: first + intended - 1,
      detail: `the log ends at entry ${first + truncatedFrom - 1} but committed to ${intended + first} entries`,
    });
  }
  return { positionOf, extras, inPlace, findings };
}
