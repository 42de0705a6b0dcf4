import { createHmac, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { LoyaltyError } from "../loyalty-error.js";

const PIN = /^\d{4,8}$/;
// scrypt cost: N = 2^14, r = 8 (16 MiB, tens of milliseconds). A 4 to 8 digit
// PIN has little entropy; the cost, the per-PIN salt and the attempt lock
// are what protect it.
const SCRYPT = { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const KEY_BYTES = 32;

/** Errors: INVALID_ARGUMENT when the PIN is not 4 to 8 digits. */
export function requirePinFormat(pin: string): void {
  if (!PIN.test(pin)) throw new LoyaltyError("INVALID_ARGUMENT", "a PIN is 4 to 8 digits");
}

export async function hashPin(
  pin: string,
  salt: Buffer = randomBytes(16),
): Promise<{ hash: Buffer; salt: Buffer }> {
  const hash = await new Promise<Buffer>((resolve, reject) =>
    scrypt(pin, salt, KEY_BYTES, SCRYPT, (error, key) => (error ? reject(error) : resolve(key))),
  );
  return { hash, salt };
}

export async function pinMatches(pin: string, hash: Buffer, salt: Buffer): Promise<boolean> {
  const candidate = await hashPin(pin, salt);
  return candidate.hash.length === hash.length && timingSafeEqual(candidate.hash, hash);
}

interface VerifiedPin {
  pinVersion: number;
  digest: Buffer;
  expiresAtMs: number;
}

/**
 * Remembers PINs that passed scrypt for a few minutes, so a till posting a
 * sale every second does not pay tens of milliseconds of CPU per call. It
 * keeps a keyed HMAC of the PIN (the key lives only in this process), never
 * the PIN; a PIN change (new pin_version) or a lock still goes through the
 * database row, which every call reads. Wrong PINs always take the full
 * scrypt path and count as attempts.
 */
export class VerifiedPinCache {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, VerifiedPin>();

  constructor(
    private readonly ttlMs = 5 * 60_000,
    private readonly maxEntries = 10_000,
  ) {}

  has(staffId: string, pinVersion: number, pin: string, nowMs: number): boolean {
    const entry = this.entries.get(staffId);
    if (!entry || entry.pinVersion !== pinVersion || entry.expiresAtMs <= nowMs) return false;
    return timingSafeEqual(entry.digest, this.digest(staffId, pin));
  }

  remember(staffId: string, pinVersion: number, pin: string, nowMs: number): void {
    this.entries.delete(staffId);
    // Bounded: the oldest entry (Map keeps insertion order) makes room.
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(staffId, {
      pinVersion,
      digest: this.digest(staffId, pin),
      expiresAtMs: nowMs + this.ttlMs,
    });
  }

  forget(staffId: string): void {
    this.entries.delete(staffId);
  }

  private digest(staffId: string, pin: string): Buffer {
    return createHmac("sha256", this.key).update(`${staffId}\0${pin}`).digest();
  }
}
