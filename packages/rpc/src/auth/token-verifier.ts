import { createSecretKey, type KeyObject } from "node:crypto";
import { SignJWT, errors as joseErrors, importSPKI, jwtVerify } from "jose";
import { ROLES, type Role } from "./caller.js";

export const TOKEN_ISSUER = "money-platform";
export const TOKEN_AUDIENCE = "money-platform";

/**
 * Development signing secret, used only when no key is configured and
 * NODE_ENV is not "production". It is public: never trust it in a deployment.
 */
export const DEV_TOKEN_SECRET = "money-platform-dev-secret-do-not-use-in-production!";

export interface TokenClaims {
  sub: string;
  role: Role;
  merchantId?: string | undefined;
  /** Device id, for terminal tokens. */
  deviceId?: string | undefined;
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; why: string };

export interface TokenVerifier {
  verify(token: string): Promise<TokenCheck>;
}

/**
 * Builds the verifier from configuration: AUTH_JWT_PUBLIC_KEY (SPKI PEM,
 * EdDSA or ES256 tokens from the identity provider) or AUTH_JWT_SECRET
 * (HS256), else the development secret outside production.
 */
export async function tokenVerifierFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<TokenVerifier> {
  const publicKey = env["AUTH_JWT_PUBLIC_KEY"];
  if (publicKey) {
    const alg = env["AUTH_JWT_ALG"] ?? "EdDSA";
    return createTokenVerifier(await importSPKI(publicKey, alg), [alg]);
  }
  const secret = env["AUTH_JWT_SECRET"] ?? (env["NODE_ENV"] === "production" ? undefined : DEV_TOKEN_SECRET);
  if (!secret) throw new Error("AUTH_JWT_PUBLIC_KEY or AUTH_JWT_SECRET must be set in production");
  return createTokenVerifier(createSecretKey(Buffer.from(secret, "utf8")), ["HS256"]);
}

/** Verified tokens kept, so a terminal's stream of calls pays for one signature check. */
const VERIFIED_CACHE_SIZE = 10_000;

type SignatureCheck = { ok: true; claims: TokenClaims; expiresAtMs: number } | { ok: false; why: string };

/**
 * Verifies tokens signed with `key`. A verified token is remembered until it
 * expires (at most VERIFIED_CACHE_SIZE of them, oldest dropped first): its
 * claims cannot change, and checking an HMAC or signature on every call of
 * a busy terminal is the largest cost of a small RPC.
 */
export function createTokenVerifier(
  key: KeyObject | Awaited<ReturnType<typeof importSPKI>>,
  algorithms: string[],
): TokenVerifier {
  const verified = new Map<string, { claims: TokenClaims; expiresAtMs: number }>();

  async function checkSignature(token: string): Promise<SignatureCheck> {
    try {
      const { payload } = await jwtVerify(token, key, {
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        algorithms,
        requiredClaims: ["sub", "exp"],
      });
      const role = payload["role"];
      if (typeof role !== "string" || !(ROLES as readonly string[]).includes(role)) {
        return { ok: false, why: "token has no valid role claim" };
      }
      if (role === "terminal" && typeof payload["device_id"] !== "string") {
        return { ok: false, why: "terminal token has no device_id claim" };
      }
      return {
        ok: true,
        // requiredClaims guarantees exp, in seconds since the epoch.
        expiresAtMs: payload.exp! * 1000,
        claims: {
          sub: payload.sub!,
          role: role as Role,
          merchantId: typeof payload["merchant_id"] === "string" ? payload["merchant_id"] : undefined,
          deviceId: typeof payload["device_id"] === "string" ? payload["device_id"] : undefined,
        },
      };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) return { ok: false, why: "token expired" };
      if (error instanceof joseErrors.JOSEError) return { ok: false, why: `invalid token (${error.code})` };
      throw error;
    }
  }

  return {
    async verify(token) {
      const cached = verified.get(token);
      if (cached && Date.now() < cached.expiresAtMs) return { ok: true, claims: cached.claims };
      if (cached) verified.delete(token);
      const check = await checkSignature(token);
      if (!check.ok) return check;
      if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!);
      verified.set(token, { claims: check.claims, expiresAtMs: check.expiresAtMs });
      return { ok: true, claims: check.claims };
    },
  };
}

/** Signs an HS256 token, for local use and tests. */
export async function mintToken(
  claims: TokenClaims,
  options: { secret?: string; ttlSeconds?: number } = {},
): Promise<string> {
  const jwt = new SignJWT({
    role: claims.role,
    ...(claims.merchantId ? { merchant_id: claims.merchantId } : {}),
    ...(claims.deviceId ? { device_id: claims.deviceId } : {}),
  })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(claims.sub)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (options.ttlSeconds ?? 3600));
  return jwt.sign(Buffer.from(options.secret ?? DEV_TOKEN_SECRET, "utf8"));
}
