import { afterAll, describe, expect, it } from "@jest/globals";
import { setTimeout as sleep } from "node:timers/promises";
import { subscribeBatches } from "../src/bus/batch-subscription.js";
import type { EventBus, IncomingBatch, Subscription } from "../src/bus/event-bus.js";
import { InProcessBus } from "../src/bus/in-process-bus.js";
import { KafkaBus } from "../src/bus/kafka-bus.js";
import { testBrokers, uniqueName } from "../src/testing/test-broker.js";

/*
 * Batch subscriptions whose consumer keeps its own offsets (in its database,
 * in the transaction of its effects): the bus resumes where the consumer
 * says, skipping what it already applied and going back for what it lost,
 * and a batch that fails comes again without the subscription dying.
 */

const buses: EventBus[] = [];
afterAll(async () => {
  await Promise.all(buses.map((bus) => bus.close()));
});

async function until(what: string, probe: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const text = new TextEncoder();
const offsetsOf = (batches: readonly IncomingBatch[]) =>
  batches.flatMap((b) => b.messages.map((m) => Number(m.offset)));

/** A consumer that "stores" its position in memory, as a database would, after each batch. */
function consumer(
  bus: EventBus,
  groupId: string,
  topic: string,
  stored: Map<number, string>,
  extra: { failFirst?: number } = {},
) {
  const batches: IncomingBatch[] = [];
  let failures = extra.failFirst ?? 0;
  const subscription = subscribeBatches(bus, {
    groupId,
    topics: [topic],
    maxBatchSize: 4,
    storedOffset: async (_topic, partition) => stored.get(partition),
    handleBatch: async (batch) => {
      if (failures > 0) {
        failures--;
        throw new Error("the database is down");
      }
      batches.push(batch);
      const last = batch.messages[batch.messages.length - 1]!;
      stored.set(batch.partition, String(BigInt(last.offset) + 1n));
    },
  });
  return { batches, subscription };
}

for (const [name, make] of [
  ["InProcessBus", () => new InProcessBus()],
  ["KafkaBus", () => new KafkaBus({ brokers: testBrokers(), clientId: uniqueName("batch-test") })],
] as const) {
  describe(`${name}.subscribeBatches`, () => {
    it("delivers each partition's messages in order, in batches of at most maxBatchSize", async () => {
      const bus = make();
      buses.push(bus);
      const topic = uniqueName("batches");
      await bus.ensureTopics([{ topic, partitions: 1 }]);
      await bus.publish(
        Array.from({ length: 10 }, (_, i) => ({ topic, key: "k", value: text.encode(`m${i}`) })),
      );
      const { batches, subscription } = consumer(bus, uniqueName("g"), topic, new Map());
      const stop = await subscription;
      try {
        await until("ten messages", () => offsetsOf(batches).length === 10);
        expect(offsetsOf(batches)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(Math.max(...batches.map((b) => b.messages.length))).toBeLessThanOrEqual(4);
      } finally {
        await stop.stop();
      }
    });

    it("resumes at the consumer's stored offset: skips what it applied, goes back for what it lost", async () => {
      const bus = make();
      buses.push(bus);
      const topic = uniqueName("resume");
      await bus.ensureTopics([{ topic, partitions: 1 }]);
      await bus.publish(
        Array.from({ length: 20 }, (_, i) => ({ topic, key: "k", value: text.encode(`m${i}`) })),
      );

      // A fresh group, but the consumer's records say it applied up to 12.
      const group = uniqueName("g");
      const stored = new Map([[0, "12"]]);
      const first = consumer(bus, group, topic, stored);
      let subscription: Subscription = await first.subscription;
      await until("the rest of the partition", () => stored.get(0) === "20");
      expect(offsetsOf(first.batches)).toEqual([12, 13, 14, 15, 16, 17, 18, 19]);
      await subscription.stop();

      // The group has committed everything; the consumer's database was restored to offset 5.
      stored.set(0, "5");
      const second = consumer(bus, group, topic, stored);
      subscription = await second.subscription;
      try {
        await until("the lost messages again", () => stored.get(0) === "20");
        expect(offsetsOf(second.batches)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
      } finally {
        await subscription.stop();
      }
    });

    it("delivers a failing batch again and carries on", async () => {
      const bus = make();
      buses.push(bus);
      const topic = uniqueName("retry");
      await bus.ensureTopics([{ topic, partitions: 1 }]);
      await bus.publish(
        Array.from({ length: 6 }, (_, i) => ({ topic, key: "k", value: text.encode(`m${i}`) })),
      );
      const stored = new Map<number, string>();
      const { batches, subscription } = consumer(bus, uniqueName("g"), topic, stored, { failFirst: 3 });
      const stop = await subscription;
      try {
        await until("all six after three failures", () => stored.get(0) === "6");
        await bus.publish([{ topic, key: "k", value: text.encode("m6") }]);
        await until("one more", () => stored.get(0) === "7");
        expect(offsetsOf(batches)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      } finally {
        await stop.stop();
      }
    });
  });
}

describe("subscribeBatches on a bus without batches", () => {
  it("falls back to one message at a time, skipping what the consumer stored", async () => {
    const inner = new InProcessBus();
    buses.push(inner);
    // A wrapper that only knows the basic interface, as test doubles do.
    const plain: EventBus = {
      ensureTopics: (specs) => inner.ensureTopics(specs),
      publish: (messages) => inner.publish(messages),
      subscribe: (options) => inner.subscribe(options),
      close: () => inner.close(),
    };
    const topic = uniqueName("plain");
    await plain.ensureTopics([{ topic, partitions: 1 }]);
    await plain.publish(
      Array.from({ length: 8 }, (_, i) => ({ topic, key: "k", value: text.encode(`m${i}`) })),
    );
    const stored = new Map([[0, "3"]]);
    const { batches, subscription } = consumer(plain, uniqueName("g"), topic, stored);
    const stop = await subscription;
    try {
      await until("the rest", () => stored.get(0) === "8");
      expect(offsetsOf(batches)).toEqual([3, 4, 5, 6, 7]);
      expect(batches.every((b) => b.messages.length === 1)).toBe(true);
    } finally {
      await stop.stop();
    }
  });
});
