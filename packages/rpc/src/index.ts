import { fileURLToPath } from "node:url";

export {
  DomainError,
  PLATFORM_CODES,
  ERROR_REASON_HEADER,
  toConnectError,
  type ErrorCodeTable,
  type PlatformReason,
} from "./errors/domain-error.js";
export { errorInterceptor } from "./errors/error-interceptor.js";
export { createLogger, type Logger } from "./log/logger.js";
export { ROLES, callerKey, peerKey, actorOf, type Caller, type Role, type Peer } from "./auth/caller.js";
export { authInterceptor, type AccessPolicy } from "./auth/auth-interceptor.js";
export {
  tokenVerifierFromEnv,
  createTokenVerifier,
  mintToken,
  DEV_TOKEN_SECRET,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  type TokenClaims,
  type TokenVerifier,
} from "./auth/token-verifier.js";
export {
  runIdempotent,
  runIdempotentIn,
  hashRequest,
  encodeStoredResponse,
  type IdempotentCall,
} from "./idempotency/idempotency.js";
export { startRpcServer, type RpcServer, type RpcServerOptions } from "./server/rpc-server.js";
export { HealthStatus } from "./server/health.js";
export { callerOf } from "./auth/caller-of.js";

/** Migrations for the idempotency table, applied in every service schema. */
export const IDEMPOTENCY_MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));
export { IdempotencyBatch, type BatchClaim, type RecordKey } from "./idempotency/idempotency-batch.js";
