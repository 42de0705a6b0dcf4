import type { Interceptor } from "@connectrpc/connect";
import { DomainError } from "../errors/domain-error.js";
import { callerKey, peerKey, type Role } from "./caller.js";
import type { TokenVerifier } from "./token-verifier.js";

/**
 * Who may call each method of a service, by method name. "public" is for
 * health and reflection only. A method missing from the policy is refused
 * to everyone, so a new RPC is closed until someone opens it.
 */
export type AccessPolicy = Readonly<Record<string, readonly Role[] | "public">>;

/**
 * Verifies the bearer token, checks the method's policy and puts the Caller
 * in the context values: UNAUTHENTICATED for a missing, malformed, expired
 * or forged token; PERMISSION_DENIED for a role the method does not allow.
 */
export function authInterceptor(policy: AccessPolicy, verifier: TokenVerifier): Interceptor {
  return (next) => async (req) => {
    const allowed = policy[`${req.service.typeName}/${req.method.name}`] ?? policy[req.method.name];
    if (allowed === "public") return next(req);
    const header = req.header.get("authorization") ?? "";
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!token) throw new DomainError("UNAUTHENTICATED", "missing bearer token in the Authorization header");
    const check = await verifier.verify(token);
    if (!check.ok) throw new DomainError("UNAUTHENTICATED", check.why);
    const { claims } = check;
    if (!allowed || !allowed.includes(claims.role)) {
      throw new DomainError("PERMISSION_DENIED", `role ${claims.role} may not call ${req.method.name}`);
    }
    const peer = req.contextValues.get(peerKey);
    req.contextValues.set(callerKey, {
      principalId: claims.sub,
      role: claims.role,
      merchantId: claims.merchantId,
      actingDeviceId: claims.role === "terminal" ? claims.deviceId : undefined,
      ip: peer.ip,
      userAgent: peer.userAgent,
      requestId: peer.requestId,
    });
    return next(req);
  };
}
