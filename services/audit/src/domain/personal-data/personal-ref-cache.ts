/**
 * The sequencer's memory of value → ref, so that the values every batch
 * repeats (the same tills, offices and customers) cost no query. It is only
 * as good as the erasure generation it was filled under: a new erasure, by
 * any replica, empties it. Entries learnt in a transaction are kept only
 * once it commits.
 */
export class PersonalRefCache {
  private readonly refs = new Map<string, Uint8Array>();
  private generation = -1;

  constructor(private readonly maxEntries = 200_000) {}

  /** Forgets everything when erasures happened since it was filled. */
  sync(generation: number): void {
    if (generation !== this.generation) {
      this.refs.clear();
      this.generation = generation;
    }
  }

  get(key: string): Uint8Array | undefined {
    return this.refs.get(key);
  }

  /** Adds what a committed transaction learnt, under the generation it read. */
  learn(generation: number, learnt: ReadonlyMap<string, Uint8Array>): void {
    if (generation !== this.generation) return;
    // Bounded: when full, start over rather than track recency.
    if (this.refs.size + learnt.size > this.maxEntries) this.refs.clear();
    for (const [key, ref] of learnt) this.refs.set(key, ref);
  }
}
