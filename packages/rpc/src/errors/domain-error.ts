import { Code, ConnectError } from "@connectrpc/connect";

/**
 * A refusal the caller can act on. Every service names its refusals in a
 * closed vocabulary (`"INSUFFICIENT_FUNDS" | "ACCOUNT_FROZEN" | …`) and maps
 * each to a Connect code in one table; use cases throw this, never
 * ConnectError, so the domain layer knows nothing of the wire.
 */
export class DomainError<Reason extends string = string> extends Error {
  override readonly name = "DomainError";
  constructor(
    readonly reason: Reason,
    message: string,
  ) {
    super(message);
  }
}

/** Refusals every service shares, raised by the platform's own machinery. */
export type PlatformReason =
  | "UNAUTHENTICATED"
  | "PERMISSION_DENIED"
  | "IDEMPOTENCY_KEY_MISSING"
  | "IDEMPOTENCY_KEY_REUSED"
  | "CONFLICT_RETRIES_EXHAUSTED";

export const PLATFORM_CODES: Readonly<Record<PlatformReason, Code>> = {
  UNAUTHENTICATED: Code.Unauthenticated,
  PERMISSION_DENIED: Code.PermissionDenied,
  IDEMPOTENCY_KEY_MISSING: Code.InvalidArgument,
  IDEMPOTENCY_KEY_REUSED: Code.AlreadyExists,
  CONFLICT_RETRIES_EXHAUSTED: Code.Aborted,
};

/** A service's complete table: its own reasons plus the platform's. */
export type ErrorCodeTable<Reason extends string> = Readonly<Record<Reason, Code>>;

/** Response header (gRPC: trailer) carrying the machine-readable reason. */
export const ERROR_REASON_HEADER = "error-reason";

/** Turns a domain refusal into the wire error; the reason travels as metadata. */
export function toConnectError(error: DomainError, table: ErrorCodeTable<string>): ConnectError {
  const code = table[error.reason] ?? PLATFORM_CODES[error.reason as PlatformReason] ?? Code.Internal;
  return new ConnectError(`${error.reason}: ${error.message}`, code, { [ERROR_REASON_HEADER]: error.reason });
}
