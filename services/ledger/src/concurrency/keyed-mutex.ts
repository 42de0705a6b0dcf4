/**
 * In-process mutual exclusion by key, taken in sorted key order (so two
 * callers never wait on each other in a cycle).
 *
 * Why: under serializable isolation, a transaction that waits for a row lock
 * held by another fails with a serialization error when the holder commits,
 * because its snapshot predates the holder's write. Two hundred concurrent
 * transfers from one account would then mostly fail and retry. Queueing
 * writers of the same account here first lets each one meet the row unlocked.
 * Correctness does not depend on it: the database still locks, checks and
 * retries (several replicas share no mutex).
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    const releases: (() => void)[] = [];
    try {
      for (const key of [...new Set(keys)].sort()) releases.push(await this.acquire(key));
      return await task();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  private async acquire(key: string): Promise<() => void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => held);
    this.tails.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}
