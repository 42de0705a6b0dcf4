import { fileURLToPath } from "node:url";
import { file_refunds_v1_refunds, RefundService } from "@money/proto/refunds/v1/refunds_pb";
import { file_refunds_v1_saga } from "@money/proto/refunds/v1/saga_pb";
import type { Subscription } from "@money/kafka";
import type { ServiceDefinition } from "@money/runtime";
import { LedgerClient } from "./clients/ledger-client.js";
import type { LedgerGateway } from "./domain/original-transaction.js";
import { systemClock, type Clock, type RefundsContext } from "./domain/refunds-context.js";
import { DEFAULT_SAGA_SETTINGS, type SagaSettings } from "./domain/saga/saga-definition.js";
import { OutboxRefundEvents } from "./events/outbox-refund-events.js";
import { subscribeSagaReplies } from "./events/saga-replies.js";
import { SagaSweeper } from "./jobs/saga-sweeper.js";
import { REFUNDS_ACCESS } from "./rpc/access-policy.js";
import { REFUNDS_ERROR_CODES } from "./rpc/error-codes.js";
import { refundHandlers } from "./rpc/refund-handlers.js";
import { sagaNamespace } from "./saga-protocol/saga-messages.js";

export interface RefundsOptions {
  /** Where originals are read; the ledger over RPC (LEDGER_URL) by default. */
  ledger?: LedgerGateway;
  clock?: Clock;
}

/**
 * The refunds service. Configuration from the service's environment:
 *   LEDGER_URL                  the ledger (default http://127.0.0.1:7001)
 *   AUTH_JWT_SECRET             signs the service token it calls the ledger with
 *   REFUNDS_SAGA_NAMESPACE      the deployment's saga namespace (default "default")
 *   REFUNDS_SAGA_START_AT       where new saga consumer groups start: latest (default) | earliest
 *   REFUNDS_STEP_TIMEOUT_MS     a participant's time to answer a command (default 15000)
 *   REFUNDS_MAX_ATTEMPTS        commands per step before the saga parks (default 8)
 *   REFUNDS_RETRY_BASE_MS       first backoff after a transient failure (default 250)
 *   REFUNDS_SWEEP_INTERVAL_MS   how often expiries and overdue steps are swept (default 1000)
 */
export function createRefundsService(options: RefundsOptions = {}): ServiceDefinition {
  return {
    name: "refunds",
    defaultPort: 7004,
    migrationsDir: fileURLToPath(new URL("../migrations", import.meta.url)),
    services: [RefundService],
    files: [file_refunds_v1_refunds, file_refunds_v1_saga],
    policy: REFUNDS_ACCESS,
    errors: REFUNDS_ERROR_CODES,
    build: (deps) => {
      const namespace = sagaNamespace(deps.env);
      const context: RefundsContext = {
        clock: options.clock ?? systemClock,
        events: new OutboxRefundEvents(deps.audit, namespace),
        saga: sagaSettingsFrom(deps.env),
      };
      const ledger = options.ledger ?? LedgerClient.fromEnv(deps.env);
      const sweeper = new SagaSweeper(
        deps.pool,
        context,
        deps.log,
        intFrom(deps.env, "REFUNDS_SWEEP_INTERVAL_MS", 1_000),
      );
      let replies: Subscription | undefined;
      return {
        routes: (router) =>
          router.service(RefundService, refundHandlers({ pool: deps.pool, context, ledger })),
        async start() {
          replies = await subscribeSagaReplies(deps, context, namespace);
          sweeper.start();
        },
        async stop() {
          await sweeper.stop();
          await replies?.stop();
          ledger.close?.();
        },
      };
    },
  };
}

export const refundsService: ServiceDefinition = createRefundsService();

function sagaSettingsFrom(env: NodeJS.ProcessEnv): SagaSettings {
  return {
    stepTimeoutMs: intFrom(env, "REFUNDS_STEP_TIMEOUT_MS", DEFAULT_SAGA_SETTINGS.stepTimeoutMs),
    maxAttemptsPerStep: intFrom(env, "REFUNDS_MAX_ATTEMPTS", DEFAULT_SAGA_SETTINGS.maxAttemptsPerStep),
    retryBaseMs: intFrom(env, "REFUNDS_RETRY_BASE_MS", DEFAULT_SAGA_SETTINGS.retryBaseMs),
    retryMaxMs: DEFAULT_SAGA_SETTINGS.retryMaxMs,
  };
}

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number.parseInt(text, 10);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer, not ${text}`);
  return value;
}

export {
  startRefundParticipant,
  type ParticipantBatch,
  type RefundParticipantOptions,
  type StepResult,
} from "./saga-protocol/saga-participant.js";
