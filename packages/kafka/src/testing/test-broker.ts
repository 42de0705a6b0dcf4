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

/**
 * Stops and starts the test broker, keeping its data, as an operator's restart would.
 * kafka.sh finds the broker to restart by KAFKA_PORT (default 19092), not by
 * KAFKA_BROKERS: a run against another broker that left KAFKA_PORT unset would
 * restart the default one under someone else's tests, so that is refused.
 */
export async function restartTestBroker(): Promise<void> {
  const [host = ""] = testBrokers();
  const port = host.slice(host.lastIndexOf(":") + 1);
  const scriptPort = process.env["KAFKA_PORT"] ?? "19092";
  if (port !== scriptPort) {
    throw new Error(
      `KAFKA_BROKERS names a broker on port ${port}, but kafka.sh would restart the one on ${scriptPort}: ` +
        "export KAFKA_PORT, KAFKA_CONTROLLER_PORT and KAFKA_DATA_DIR as when that broker was started",
    );
  }
  await promisify(execFile)("bash", [KAFKA_SCRIPT, "restart"], { timeout: 120_000 });
}
