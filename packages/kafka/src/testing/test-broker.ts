import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/**
 * The broker the tests use. `npm test` starts one and sets KAFKA_BROKERS;
 * a test that needs Kafka fails (never skips) without it.
 */
export function testBrokers(): string[] {
  const brokers = process.env["KAFKA_BROKERS"];
  if (!brokers)
    throw new Error("KAFKA_BROKERS is not set: run the tests with `npm test`, which starts a broker");
  return brokers.split(",");
}

/** A name no other test uses: topics and groups are unique per test. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString("hex")}`;
}

const KAFKA_SCRIPT = fileURLToPath(new URL("../../../../scripts/kafka.sh", import.meta.url));

/** Stops and starts the test broker, keeping its data, as an operator's restart would. */
export async function restartTestBroker(): Promise<void> {
  await promisify(execFile)("bash", [KAFKA_SCRIPT, "restart"], { timeout: 120_000 });
}
