import { createHash, randomInt } from "node:crypto";

// 32 symbols without 0/O, 1/I/L: read aloud or typed on a till without confusion.
const ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const LENGTH = 10;

/** A fresh code, "ABCDE-FGHJK": about 50 random bits. */
export function newPairingCode(): string {
  const symbols = Array.from({ length: LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
  return `${symbols.slice(0, 5)}-${symbols.slice(5)}`;
}

/** What is stored and looked up: SHA-256 of the code without case, dashes or spaces. */
export function pairingCodeHash(code: string): Buffer {
  return createHash("sha256").update(code.toUpperCase().replace(/[\s-]/g, "")).digest();
}
