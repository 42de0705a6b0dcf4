export { waitUntil } from "./wait-until.js";
export * from "./load-runner.js";
