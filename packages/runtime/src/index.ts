export type { ServiceDefinition, ServiceDeps, ServiceParts } from "./service-definition.js";
export { startService, type RunningService, type ServiceConfig } from "./start-service.js";
export { runFromEnv, stopOnSignals } from "./run-from-env.js";
