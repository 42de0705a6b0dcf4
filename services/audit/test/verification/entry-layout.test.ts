// Where the verifier says an entry went, for every position of each kind of edit, on logs of random
// length: one edit gives one finding, naming the right entry, however many entries it shifts.

import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { LeafKey } from "../../src/domain/log/log-entry-codec.js";
import { analyseLayout } from "../../src/domain/verification/entry-layout.js";

const key = (sequence: number): LeafKey => ({ sequence, eventId: `event-${sequence}` });
const clean = (first: number, n: number) => Array.from({ length: n }, (_, i) => key(first + i));
const layout = (first: number, intended: number, keys: (LeafKey | undefined)[]) =>
  analyseLayout({ first, intended, keys, original: (_s, positions) => positions[positions.length - 1]! });

const logs = fc.record({ first: fc.nat(1_000), n: fc.integer({ min: 3, max: 300 }) });

describe("the layout of a bundle's entries", () => {
  it("finds nothing in a clean log", () => {
    fc.assert(
      fc.property(logs, ({ first, n }) => {
        const result = layout(first, n, clean(first, n));
        expect(result.findings).toEqual([]);
        expect(result.inPlace).toBe(true);
      }),
    );
  });

  it("names a deleted entry, and only it", () => {
    fc.assert(
      fc.property(logs, fc.nat(), ({ first, n }, pick) => {
        const k = pick % (n - 1); // not the last: that is a truncation
        const keys = clean(first, n).filter((_, i) => i !== k);
        expect(layout(first, n, keys).findings).toEqual([
          expect.objectContaining({ kind: "ENTRY_MISSING", sequence: first + k, lastSequence: first + k }),
        ]);
      }),
    );
  });

  it("names both entries of a swap", () => {
    fc.assert(
      fc.property(logs, fc.nat(), fc.nat(), ({ first, n }, a, b) => {
        const [i, j] = [a % n, b % n].sort((x, y) => x - y) as [number, number];
        fc.pre(i !== j);
        const keys = clean(first, n);
        [keys[i], keys[j]] = [keys[j]!, keys[i]!];
        expect(layout(first, n, keys).findings).toEqual([
          expect.objectContaining({ kind: "ENTRIES_REORDERED", sequence: first + i, foundAt: first + j }),
          expect.objectContaining({ kind: "ENTRIES_REORDERED", sequence: first + j, foundAt: first + i }),
        ]);
      }),
    );
  });

  it("names an inserted entry that renumbered the ones after it, without blaming the tail it pushed out", () => {
    fc.assert(
      fc.property(logs, fc.nat(), ({ first, n }, pick) => {
        // Not the last position: an entry forged there pushes the original out entirely, which the
        // layout cannot see; the content check reports it (PAYLOAD_MODIFIED), as the drill shows.
        const k = pick % (n - 1);
        const keys = clean(first, n);
        // The forger claims sequence k; the originals from k on sit one position later; the last falls off.
        keys.splice(k, 0, key(first + k));
        keys.pop();
        const result = layout(first, n, keys);
        expect(result.findings).toEqual([
          expect.objectContaining({ kind: "FORGED_ENTRY", sequence: first + k, foundAt: first + k }),
        ]);
      }),
    );
  });

  it("names where a cut tail starts", () => {
    fc.assert(
      fc.property(logs, fc.nat(), ({ first, n }, pick) => {
        const k = 1 + (pick % (n - 1));
        const result = layout(first, n, clean(first, n).slice(0, k));
        expect(result.findings).toEqual([
          expect.objectContaining({
            kind: "LOG_TRUNCATED",
            sequence: first + k,
            lastSequence: first + n - 1,
          }),
        ]);
      }),
    );
  });

  it("calls an unreadable record malformed and a foreign sequence number forged", () => {
    const keys: (LeafKey | undefined)[] = clean(0, 6);
    keys[2] = undefined;
    keys.push(key(99));
    const result = layout(0, 6, keys);
    expect(result.findings.map((f) => f.kind)).toEqual(["MALFORMED_ENTRY", "FORGED_ENTRY", "ENTRY_MISSING"]);
  });
});
