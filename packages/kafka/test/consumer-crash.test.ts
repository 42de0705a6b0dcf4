import { afterAll, describe, expect, it } from "@jest/globals";
import { waitUntil } from "@money/testkit";
import type { IncomingMessage, Subscription } from "../src/bus/event-bus.js";
import { KafkaBus } from "../src/bus/kafka-bus.js";
import { testBrokers, uniqueName } from "../src/testing/test-broker.js";

/*
 * kafkajs restarts a crashed consumer only after an error it deems
 * retriable. A broker restart can crash one with an error it does not ("Failed
 * to find group coordinator" while rejoining); here a handler's error of that
 * kind crashes the real consumer the same way, and the subscription must
 * carry on with a new consumer instead of going quiet.
 */

const bus = new KafkaBus({ brokers: testBrokers(), clientId: uniqueName("consumer-crash") });
const subscriptions: Subscription[] = [];
afterAll(async () => {
  await Promise.all(subscriptions.map((s) => s.stop()));
  await bus.close();
});

/** An error kafkajs treats as fatal for the consumer: it crashes and is not restarted. */
function nonRetriable(): Error {
  const error = new Error("the kind of failure kafkajs does not restart a consumer after");
  error.name = "KafkaJSNonRetriableError";
  (error as Error & { retriable: boolean }).retriable = false;
  return error;
}

describe("KafkaBus subscriptions", () => {
  it("start a new consumer when kafkajs gives up on one, and the message is delivered again", async () => {
    const topic = uniqueName("crash");
    await bus.ensureTopics([{ topic, partitions: 1 }]);
    const seen: string[] = [];
    let crashed = false;
    subscriptions.push(
      await bus.subscribe({
        groupId: uniqueName("g"),
        topics: [topic],
        handle: async (message: IncomingMessage) => {
          const text = new TextDecoder().decode(message.value);
          seen.push(text);
          if (text === "first" && !crashed) {
            crashed = true;
            throw nonRetriable();
          }
        },
      }),
    );
    const encode = (text: string) => new TextEncoder().encode(text);
    await bus.publish([{ topic, key: "k", value: encode("first") }]);
    await waitUntil("the first message handled again after the crash", () => seen.length >= 2, {
      timeoutMs: 60_000,
    });
    await bus.publish([{ topic, key: "k", value: encode("second") }]);
    await waitUntil("the next message", () => seen.includes("second"), { timeoutMs: 60_000 });
    expect(seen.slice(0, 2)).toEqual(["first", "first"]);
  }, 120_000);
});
