import { createContextKey } from "@connectrpc/connect";
import type { Actor } from "@money/kafka";

/** The kinds of principal a token can name. */
export const ROLES = ["user", "staff", "admin", "approver", "auditor", "service", "terminal"] as const;
export type Role = (typeof ROLES)[number];

/**
 * Who is calling, established by the auth interceptor from the verified
 * token and the connection. Handlers pass it to use cases as `performed_by`;
 * nothing in a request body can change it.
 */
export interface Caller {
  /** Token subject: user id, staff id, service name, or the device id of a terminal. */
  principalId: string;
  role: Role;
  /** Merchant the token is scoped to, if any (staff, terminals, merchant admins). */
  merchantId?: string | undefined;
  /** The terminal device the call came through; undefined for people on the web. */
  actingDeviceId?: string | undefined;
  ip?: string | undefined;
  userAgent?: string | undefined;
  requestId: string;
}

/** Where the transport puts what it knows of the connection, before auth runs. */
export interface Peer {
  ip: string | undefined;
  userAgent: string | undefined;
  requestId: string;
}

export const peerKey = createContextKey<Peer>({ ip: undefined, userAgent: undefined, requestId: "" });
export const callerKey = createContextKey<Caller | undefined>(undefined);

/** The audit actor for a caller. */
export function actorOf(caller: Caller): Actor {
  return {
    principalId: caller.principalId,
    role: caller.role,
    actingDeviceId: caller.actingDeviceId,
    ip: caller.ip,
    userAgent: caller.userAgent,
  };
}
