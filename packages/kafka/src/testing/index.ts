export { restartTestBroker, testBrokers, uniqueName } from "./test-broker.js";
export { keepOutboxCopies } from "./outbox-copies.js";
