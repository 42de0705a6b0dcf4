import { sql, type DatabasePool, type DatabaseTransactionConnection } from "@money/db";

/**
 * Runs `produce` in one read-only REPEATABLE READ transaction, so that it
 * sees a single snapshot of the log however long it runs, and hands what it
 * emits to the consumer in chunks of about `chunkBytes`. The producer waits
 * while a chunk is pending (backpressure); when the consumer stops early,
 * the next emit throws and the transaction ends.
 */
export async function* snapshotStream(
  pool: DatabasePool,
  produce: (tx: DatabaseTransactionConnection, emit: (bytes: Uint8Array) => Promise<void>) => Promise<void>,
  chunkBytes = 1 << 20,
): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let finished = false;
  let failure: unknown;
  let cancelled = false;
  let wakeConsumer: () => void = () => {};
  let wakeProducer: () => void = () => {};

  const emit = async (bytes: Uint8Array) => {
    if (cancelled) throw new Error("the reader went away");
    pending.push(bytes);
    pendingBytes += bytes.length;
    if (pendingBytes >= chunkBytes) {
      wakeConsumer();
      await new Promise<void>((resolve) => (wakeProducer = resolve));
      if (cancelled) throw new Error("the reader went away");
    }
  };
  const run = pool
    .transaction(async (tx) => {
      await tx.query(sql.unsafe`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`);
      await produce(tx, emit);
    })
    .then(
      () => (finished = true),
      (error: unknown) => {
        failure = error;
        finished = true;
      },
    )
    .finally(() => wakeConsumer());

  try {
    for (;;) {
      if (pendingBytes >= chunkBytes || (finished && pendingBytes > 0)) {
        const chunk = Buffer.concat(pending);
        pending = [];
        pendingBytes = 0;
        wakeProducer();
        yield chunk;
        continue;
      }
      if (finished) {
        if (failure !== undefined) throw failure;
        return;
      }
      await new Promise<void>((resolve) => (wakeConsumer = resolve));
    }
  } finally {
    cancelled = true;
    wakeProducer();
    await run;
  }
}
