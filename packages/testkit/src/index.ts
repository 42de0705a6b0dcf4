export { waitUntil } from "./wait-until.js";
export * from "./load-runner.js";
export {
  leanConnectClient,
  type CheckingConnectClient,
  type LeanConnectClient,
  type LeanConnectClientOptions,
} from "./lean-connect-client.js";
