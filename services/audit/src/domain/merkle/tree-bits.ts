// Bit arithmetic on tree sizes and indices held in JS numbers.
//
// JS bitwise operators truncate to 32 bits, but a log can outgrow 2^32 entries, so every operation here
// splits a safe integer (< 2^53) into a high and a low 32-bit word. Callers validate with
// `isTreeNumber` first; nothing here checks again, because these run in the verifier's inner loops.

import { MerkleError } from "./merkle-error.js";

const TWO_POW_32 = 2 ** 32;

/** Whether `value` can be a tree size or leaf index: a non-negative safe integer. */
export function isTreeNumber(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** Throws `INVALID_TREE_SIZE` unless `size` is a non-negative safe integer. */
export function assertTreeSize(size: number, what = "tree size"): void {
  if (!isTreeNumber(size)) {
    throw new MerkleError("INVALID_TREE_SIZE", `${what} ${size} is not a non-negative safe integer`);
  }
}

/** Throws `INVALID_LEAF_INDEX` unless `index` is a non-negative safe integer. */
export function assertLeafIndex(index: number): void {
  if (!isTreeNumber(index)) {
    throw new MerkleError("INVALID_LEAF_INDEX", `leaf index ${index} is not a non-negative safe integer`);
  }
}

/** Number of bits needed to write `x` (0 for 0), like Go's bits.Len64. */
export function bitLength(x: number): number {
  const high = Math.floor(x / TWO_POW_32);
  return high > 0 ? 64 - Math.clz32(high) : 32 - Math.clz32(x >>> 0);
}

/** Number of set bits of `x`. */
export function popCount(x: number): number {
  return popCount32(x >>> 0) + popCount32(Math.floor(x / TWO_POW_32));
}

/** Number of trailing zero bits of `x`; `x` must be positive. */
export function trailingZeros(x: number): number {
  const low = x >>> 0;
  return low !== 0 ? trailingZeros32(low) : 32 + trailingZeros32(Math.floor(x / TWO_POW_32));
}

/** `a XOR b` over all 53 bits. */
export function xor(a: number, b: number): number {
  const high = Math.floor(a / TWO_POW_32) ^ Math.floor(b / TWO_POW_32);
  // `^` keeps the low 32 bits of each operand, which is exactly the low word.
  return high * TWO_POW_32 + ((a ^ b) >>> 0);
}

/** `x >> n` without 32-bit truncation; division by a power of two is exact for safe integers. */
export function shiftRight(x: number, n: number): number {
  return Math.floor(x / 2 ** n);
}

/** Bit `i` of `x`, 0 or 1. */
export function bitAt(x: number, i: number): number {
  return Math.floor(x / 2 ** i) % 2;
}

/** Largest power of two strictly below `n` (the split point k of RFC 6962 §2.1); `n` must be ≥ 2. */
export function largestPowerOfTwoBelow(n: number): number {
  return 2 ** (bitLength(n - 1) - 1);
}

/** Smallest power of two at or above `n`; 1 for 0 and 1. */
export function bitCeil(n: number): number {
  return n <= 1 ? 1 : 2 ** bitLength(n - 1);
}

function popCount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

function trailingZeros32(v: number): number {
  return 31 - Math.clz32(v & -v);
}
