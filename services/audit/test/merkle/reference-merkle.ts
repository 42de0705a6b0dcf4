// A deliberately naive RFC 6962 implementation, written from the RFC's recursive definitions with its own
// hashing, so that tests compare the optimised code against something that shares none of it.

import { createHash } from "node:crypto";

/** SHA-256(0x00 ‖ data). */
export function referenceLeafHash(data: Uint8Array): Uint8Array {
  return createHash("sha256")
    .update(new Uint8Array([0]))
    .update(data)
    .digest();
}

function referenceNodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return createHash("sha256")
    .update(new Uint8Array([1]))
    .update(left)
    .update(right)
    .digest();
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The recursive definitions of RFC 6962 §2.1, memoised per range because proofs revisit subtrees. */
export class ReferenceTree {
  readonly #leaves: readonly Uint8Array[];
  readonly #memo = new Map<string, Uint8Array>();

  constructor(leafHashes: readonly Uint8Array[]) {
    this.#leaves = leafHashes;
  }

  /** MTH(D[start:end]). */
  mth(start = 0, end = this.#leaves.length): Uint8Array {
    const n = end - start;
    if (n === 0) return createHash("sha256").digest();
    if (n === 1) return this.#leaves[start] as Uint8Array;
    const key = `${start}:${end}`;
    let hash = this.#memo.get(key);
    if (hash === undefined) {
      const k = largestPowerOfTwoBelow(n);
      hash = referenceNodeHash(this.mth(start, start + k), this.mth(start + k, end));
      this.#memo.set(key, hash);
    }
    return hash;
  }

  /** PATH(m, D[start:end]) of §2.1.1, m relative to start. */
  path(m: number, start = 0, end = this.#leaves.length): Uint8Array[] {
    const n = end - start;
    if (n <= 1) return [];
    const k = largestPowerOfTwoBelow(n);
    return m < k
      ? [...this.path(m, start, start + k), this.mth(start + k, end)]
      : [...this.path(m - k, start + k, end), this.mth(start, start + k)];
  }

  /** PROOF(m, D[0:end]) of §2.1.2. */
  proof(m: number, end = this.#leaves.length): Uint8Array[] {
    return this.#subproof(m, 0, end, true);
  }

  #subproof(m: number, start: number, end: number, complete: boolean): Uint8Array[] {
    const n = end - start;
    if (m === n) return complete ? [] : [this.mth(start, end)];
    const k = largestPowerOfTwoBelow(n);
    return m <= k
      ? [...this.#subproof(m, start, start + k, complete), this.mth(start + k, end)]
      : [...this.#subproof(m - k, start + k, end, false), this.mth(start, start + k)];
  }
}

/**
 * `count` pseudo-random 32-byte leaf hashes packed back to back, from a xorshift32 stream: far cheaper
 * than SHA-256 for a million leaves, and reproducible from `seed` so that fast-check can replay failures.
 * Leaf hashes are opaque to the tree, so they need not be real hashes.
 */
export function pseudoRandomLeafHashes(count: number, seed: number): Uint8Array {
  const words = new Uint32Array(count * 8);
  let state = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    words[i] = state;
  }
  return new Uint8Array(words.buffer);
}

/** Views of the packed hashes, one per leaf. */
export function splitHashes(packed: Uint8Array, count = packed.length / 32): Uint8Array[] {
  const hashes = new Array<Uint8Array>(count);
  for (let i = 0; i < count; i++) hashes[i] = packed.subarray(32 * i, 32 * i + 32);
  return hashes;
}

/** A copy of `bytes` with bit `bit` (0 = most significant bit of byte 0) flipped. */
export function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[bit >> 3] = (copy[bit >> 3] as number) ^ (0x80 >> (bit & 7));
  return copy;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}
