import { describe, expect, it } from "@jest/globals";
import { setTimeout as sleep } from "node:timers/promises";
import { KeyedMutex } from "../../src/concurrency/keyed-mutex.js";

describe("KeyedMutex", () => {
  it("never lets two tasks hold one key at once", async () => {
    const mutex = new KeyedMutex();
    const holders = new Map<string, number>();
    const clashes: string[] = [];
    const task = (keys: string[]) =>
      mutex.run(keys, async () => {
        for (const key of keys) {
          if (holders.get(key)) clashes.push(key);
          holders.set(key, 1);
        }
        await sleep(Math.random() * 3);
        for (const key of keys) holders.set(key, 0);
      });
    const keySets = [["x"], ["x", "y"], ["y"], ["y", "z"], ["z", "x"], ["x", "y", "z"]];
    await Promise.all(Array.from({ length: 60 }, (_, i) => task(keySets[i % keySets.length]!)));
    expect(clashes).toEqual([]);
  });

  it("lets tasks on different keys overlap", async () => {
    const mutex = new KeyedMutex();
    let inside = 0;
    let most = 0;
    await Promise.all(
      ["p", "q", "r"].map((key) =>
        mutex.run([key], async () => {
          most = Math.max(most, ++inside);
          await sleep(5);
          inside--;
        }),
      ),
    );
    expect(most).toBe(3);
  });

  it("never deadlocks when tasks name the same keys in opposite orders, and releases after a failure", async () => {
    const mutex = new KeyedMutex();
    const runs = Array.from({ length: 50 }, (_, i) =>
      mutex.run(i % 2 === 0 ? ["k1", "k2"] : ["k2", "k1"], async () => {
        await sleep(1);
        if (i === 7) throw new Error("boom");
        return i;
      }),
    );
    const settled = await Promise.allSettled(runs);
    expect(settled.filter((s) => s.status === "fulfilled")).toHaveLength(49);
    await expect(mutex.run(["k1", "k2"], async () => "free")).resolves.toBe("free");
  });
});
