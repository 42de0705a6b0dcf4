/** Throughput and latency of one scenario. */
export interface LoadResult {
  callers: number;
  calls: number;
  failures: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Runs `callers` loops, each calling `call` back to back, for `seconds`
 * (after `warmupSeconds` not counted), and measures every call.
 */
export async function runLoad(
  callers: number,
  seconds: number,
  call: (caller: number) => Promise<unknown>,
  { warmupSeconds = 1 } = {},
): Promise<LoadResult> {
  const warmupEnds = performance.now() + warmupSeconds * 1000;
  const ends = warmupEnds + seconds * 1000;
  const latencies: number[] = [];
  let failures = 0;
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      while (performance.now() < ends) {
        const started = performance.now();
        const ok = await call(caller).then(
          () => true,
          () => false,
        );
        if (started < warmupEnds) continue;
        if (ok) latencies.push(performance.now() - started);
        else failures++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    callers,
    calls: latencies.length,
    failures,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}

/** Latency percentiles of `count` calls made one after another. */
export async function measureSequential(
  count: number,
  call: () => Promise<unknown>,
): Promise<{ p50Ms: number; p99Ms: number; meanMs: number }> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await call();
    latencies.push(performance.now() - started);
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    p50Ms: sorted[Math.floor(0.5 * sorted.length)]!,
    p99Ms: sorted[Math.floor(0.99 * sorted.length)]!,
    meanMs: latencies.reduce((s, l) => s + l, 0) / latencies.length,
  };
}
