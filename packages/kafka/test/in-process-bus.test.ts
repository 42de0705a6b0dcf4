import { afterEach, describe, expect, it } from "@jest/globals";
import { InProcessBus } from "../src/bus/in-process-bus.js";
import type { IncomingMessage, OutgoingMessage, Subscription } from "../src/bus/event-bus.js";
import { partitionFor } from "../src/bus/partition-for.js";
import { uniqueName } from "../src/testing/test-broker.js";
import { waitUntil } from "@money/testkit";

const text = new TextEncoder();
const fromBytes = new TextDecoder();

/** `count` messages spread round-robin over `keys`, each carrying its key and per-key sequence number. */
function messages(topic: string, keys: readonly string[], count: number, firstSeq = 0): OutgoingMessage[] {
  return Array.from({ length: count }, (_, i) => {
    const key = keys[i % keys.length]!;
    const seq = firstSeq + Math.floor(i / keys.length);
    return { topic, key, value: text.encode(`${key}#${seq}`) };
  });
}

function body(message: IncomingMessage): string {
  return fromBytes.decode(message.value);
}

/** Where a message sits: unique within a topic. */
function position(message: IncomingMessage): string {
  return `${message.partition}/${message.offset}`;
}

const KEYS = ["acct-1", "acct-2", "acct-3", "acct-4", "acct-5", "acct-6", "acct-7", "acct-8"];

let bus: InProcessBus;
const subscriptions: Subscription[] = [];

async function subscribe(...args: Parameters<InProcessBus["subscribe"]>): Promise<Subscription> {
  const subscription = await bus.subscribe(...args);
  subscriptions.push(subscription);
  return subscription;
}

afterEach(async () => {
  await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
  await bus.close();
});

describe("InProcessBus", () => {
  it("delivers each key's messages in publish order, on the partition Kafka would pick", async () => {
    bus = new InProcessBus();
    const topic = uniqueName("ip-order");
    await bus.ensureTopics([{ topic, partitions: 4 }]);
    const seen: IncomingMessage[] = [];
    await subscribe({ groupId: uniqueName("g"), topics: [topic], handle: async (m) => void seen.push(m) });

    // Several publishes, interleaving the keys, while the consumer is already running.
    for (let batch = 0; batch < 5; batch++)
      await bus.publish(messages(topic, KEYS, KEYS.length * 4, batch * 4));
    await waitUntil("all 160 messages", () => seen.length === 160, { timeoutMs: 10_000 });

    for (const key of KEYS) {
      const mine = seen.filter((m) => m.key === key);
      expect(mine.map(body)).toEqual(Array.from({ length: 20 }, (_, seq) => `${key}#${seq}`));
      expect(new Set(mine.map((m) => m.partition))).toEqual(new Set([partitionFor(key, 4)]));
    }
  });

  it("gives every consumer group its own copy of every message", async () => {
    bus = new InProcessBus();
    const topic = uniqueName("ip-groups");
    await bus.ensureTopics([{ topic, partitions: 3 }]);
    const byGroup = { billing: [] as string[], audit: [] as string[] };
    for (const group of ["billing", "audit"] as const) {
      await subscribe({
        groupId: uniqueName(group),
        topics: [topic],
        handle: async (m) => void byGroup[group].push(body(m)),
      });
    }

    const sent = messages(topic, KEYS, 40);
    await bus.publish(sent);
    await waitUntil("both groups", () => byGroup.billing.length === 40 && byGroup.audit.length === 40, {
      timeoutMs: 10_000,
    });

    const expected = sent.map((m) => fromBytes.decode(m.value)).sort();
    expect([...byGroup.billing].sort()).toEqual(expected);
    expect([...byGroup.audit].sort()).toEqual(expected);
  });

  it("splits a group's partitions between its members, so no message is handled by both", async () => {
    bus = new InProcessBus();
    const topic = uniqueName("ip-members");
    const groupId = uniqueName("g");
    await bus.ensureTopics([{ topic, partitions: 6 }]);
    const handled = { a: [] as IncomingMessage[], b: [] as IncomingMessage[] };
    for (const member of ["a", "b"] as const) {
      await subscribe({
        groupId,
        topics: [topic],
        handle: async (m) => {
          handled[member].push(m);
          // A slow handler: the other member would take over a busy partition if it could.
          await new Promise((resolve) => setTimeout(resolve, 2));
        },
      });
    }

    // Enough distinct keys to land on all six partitions.
    const keys = Array.from({ length: 24 }, (_, i) => `customer-${i}`);
    expect(new Set(keys.map((k) => partitionFor(k, 6))).size).toBe(6);
    await bus.publish(messages(topic, keys, 120));
    await waitUntil("120 messages", () => handled.a.length + handled.b.length >= 120, { timeoutMs: 10_000 });

    const positions = [...handled.a, ...handled.b].map(position);
    expect(new Set(positions).size).toBe(120);
    expect(positions).toHaveLength(120);
    const partitionsOf = (list: IncomingMessage[]) => new Set(list.map((m) => m.partition));
    const [a, b] = [partitionsOf(handled.a), partitionsOf(handled.b)];
    expect(a.size).toBeGreaterThan(0);
    expect(b.size).toBeGreaterThan(0);
    expect([...a].filter((p) => b.has(p))).toEqual([]);
    expect(a.size + b.size).toBe(6);
  });

  it("hands a stopped member's partitions to the one that stays, from the committed offset", async () => {
    bus = new InProcessBus();
    const topic = uniqueName("ip-handover");
    const groupId = uniqueName("g");
    await bus.ensureTopics([{ topic, partitions: 4 }]);
    const handled = { a: [] as IncomingMessage[], b: [] as IncomingMessage[] };
    const a = await subscribe({ groupId, topics: [topic], handle: async (m) => void handled.a.push(m) });
    await subscribe({ groupId, topics: [topic], handle: async (m) => void handled.b.push(m) });

    await bus.publish(messages(topic, KEYS, 40));
    await waitUntil("first 40", () => handled.a.length + handled.b.length === 40, { timeoutMs: 10_000 });
    await a.stop();
    const handledByAAtStop = handled.a.length;
    const handledByBAtStop = handled.b.length;
    await bus.publish(messages(topic, KEYS, 40, 5));
    await waitUntil("next 40", () => handled.a.length + handled.b.length === 80, { timeoutMs: 10_000 });

    expect(handledByAAtStop).toBeGreaterThan(0);
    expect(handled.a).toHaveLength(handledByAAtStop);
    // b now owns all four partitions and started each where the group had committed.
    const afterStop = handled.b.slice(handledByBAtStop);
    expect(new Set(afterStop.map((m) => m.partition))).toEqual(new Set([0, 1, 2, 3]));
    expect(new Set([...handled.a, ...handled.b].map(position)).size).toBe(80);
  });

  it("assigns a topic's partitions only to the members of a group that subscribe to it", async () => {
    bus = new InProcessBus();
    const [commands, replies] = [uniqueName("ip-commands"), uniqueName("ip-replies")];
    const groupId = uniqueName("g");
    await bus.ensureTopics([
      { topic: commands, partitions: 3 },
      { topic: replies, partitions: 3 },
    ]);
    const seen = { commands: [] as string[], replies: [] as string[] };
    await subscribe({ groupId, topics: [commands], handle: async (m) => void seen.commands.push(body(m)) });
    await subscribe({ groupId, topics: [replies], handle: async (m) => void seen.replies.push(body(m)) });

    await bus.publish([...messages(commands, KEYS, 24), ...messages(replies, KEYS, 24)]);
    await waitUntil("both topics", () => seen.commands.length === 24 && seen.replies.length === 24, {
      timeoutMs: 10_000,
    });
  });

  it("delivers a message again when its handler throws, before the next one of its partition", async () => {
    bus = new InProcessBus();
    const topic = uniqueName("ip-retry");
    await bus.ensureTopics([{ topic, partitions: 1 }]);
    const attempts: string[] = [];
    let failuresLeft = 2;
    await subscribe({
      groupId: uniqueName("g"),
      topics: [topic],
      handle: async (m) => {
        attempts.push(body(m));
        if (body(m) === "acct-1#1" && failuresLeft-- > 0) throw new Error("database unavailable");
      },
    });

    await bus.publish(messages(topic, ["acct-1"], 3));
    await waitUntil("the last message", () => attempts.includes("acct-1#2"), { timeoutMs: 10_000 });

    expect(attempts).toEqual(["acct-1#0", "acct-1#1", "acct-1#1", "acct-1#1", "acct-1#2"]);
  });

  it("resumes a group at its committed offset after stop()", async () => {
    bus = new InProcessBus();
    const topic = uniqueName("ip-resume");
    const groupId = uniqueName("g");
    await bus.ensureTopics([{ topic, partitions: 2 }]);
    const first: string[] = [];
    const before = await bus.subscribe({
      groupId,
      topics: [topic],
      handle: async (m) => void first.push(body(m)),
    });
    await bus.publish(messages(topic, KEYS, 16));
    await waitUntil("first 16", () => first.length === 16, { timeoutMs: 10_000 });
    await before.stop();

    await bus.publish(messages(topic, KEYS, 16, 2));
    const second: string[] = [];
    await subscribe({ groupId, topics: [topic], handle: async (m) => void second.push(body(m)) });
    await waitUntil("next 16", () => second.length >= 16, { timeoutMs: 10_000 });

    // Only what was published after the stop, and nothing handled twice.
    expect(first).toHaveLength(16);
    expect([...second].sort()).toEqual(
      messages(topic, KEYS, 16, 2)
        .map((m) => fromBytes.decode(m.value))
        .sort(),
    );
  });

  it("keeps only the newest messages of a partition; a group behind them resumes at the oldest kept", async () => {
    bus = new InProcessBus({ retainPerPartition: 10 });
    const topic = uniqueName("ip-retention");
    const groupId = uniqueName("g");
    await bus.ensureTopics([{ topic, partitions: 1 }]);
    const early: IncomingMessage[] = [];
    const before = await bus.subscribe({ groupId, topics: [topic], handle: async (m) => void early.push(m) });
    await bus.publish(messages(topic, ["k"], 3));
    await waitUntil("the first 3", () => early.length === 3, { timeoutMs: 10_000 });
    await before.stop();

    // 30 more while the group is away: offsets 3..32, of which only the newest are kept.
    await bus.publish(messages(topic, ["k"], 30, 3));
    const late: IncomingMessage[] = [];
    await subscribe({ groupId, topics: [topic], handle: async (m) => void late.push(m) });
    const fresh: IncomingMessage[] = [];
    await subscribe({ groupId: uniqueName("g"), topics: [topic], handle: async (m) => void fresh.push(m) });
    await waitUntil(
      "both groups at the end",
      () => late.at(-1)?.offset === "32" && fresh.at(-1)?.offset === "32",
      {
        timeoutMs: 10_000,
      },
    );

    for (const seen of [late, fresh]) {
      // At most 10 kept (a tenth more is dropped at once), offsets unchanged, in order, no gap.
      expect(seen.length).toBeLessThanOrEqual(10);
      expect(seen.length).toBeGreaterThanOrEqual(9);
      const first = Number(seen[0]!.offset);
      expect(seen.map((m) => m.offset)).toEqual(
        Array.from({ length: seen.length }, (_, i) => String(first + i)),
      );
      expect(seen.map(body)).toEqual(seen.map((m) => `k#${m.offset}`));
    }
  });
});
