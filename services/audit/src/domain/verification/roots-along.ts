import { CompactMerkleTree } from "../merkle/index.js";

/**
 * Roots of the trees of the given sizes, for a log whose first `first`
 * leaves are summed up by `leftEdge` (their compact tree) and whose next
 * leaves are `hashAt(0)`, `hashAt(1)`…; one pass, O(1) hashes per leaf.
 * Stops at the first undefined hash: sizes beyond it are left out.
 *
 * @returns roots by tree size, for the sizes in [first, first + count] that could be computed.
 * @throws MerkleError if the left edge is not a compact tree of `first` leaves.
 */
export function rootsAlong(
  first: number,
  leftEdge: readonly Uint8Array[],
  count: number,
  hashAt: (i: number) => Uint8Array | undefined,
  sizes: Iterable<number>,
): Map<number, Uint8Array> {
  const wanted = [...new Set(sizes)].filter((s) => s >= first && s <= first + count).sort((x, y) => x - y);
  const roots = new Map<number, Uint8Array>();
  const tree = CompactMerkleTree.fromState({ size: first, hashes: leftEdge });
  let next = 0;
  for (let i = 0; next < wanted.length; i++) {
    while (next < wanted.length && wanted[next] === tree.size) roots.set(wanted[next++]!, tree.root());
    if (next >= wanted.length || i >= count) break;
    const hash = hashAt(i);
    if (hash === undefined) break;
    tree.append(hash);
  }
  return roots;
}
