/**
 * Consumers drop an event id they already applied, so a redelivery or a replay never applies a
 * change twice. The store is asked before the handler runs and told after its effect resolved.
 */
export interface IdempotencyStore {
  start?(): Promise<void>;
  /** True when the event id was applied before. */
  seen(id: string): Promise<boolean>;
  /** Records the id as applied; resolves once that is durable (for durable stores). */
  remember(id: string): Promise<void>;
  /** Catches up with ids other members of the group applied; the consumer calls it after a rebalance. */
  refresh?(): Promise<void>;
  close?(): Promise<void>;
}

/**
 * A bounded in-memory store: the most recently applied `capacity` ids. Enough to absorb the
 * redeliveries of a rebalance within one process; not enough to survive a restart.
 */
export function createMemoryIdempotencyStore(options: { capacity?: number } = {}): IdempotencyStore {
  const capacity = options.capacity ?? 100_000;
  // A Map keeps insertion order, so its first key is always the least recently used.
  const ids = new Map<string, true>();
  return {
    async seen(id) {
      if (!ids.has(id)) return false;
      ids.delete(id);
      ids.set(id, true);
      return true;
    },
    async remember(id) {
      ids.delete(id);
      ids.set(id, true);
      while (ids.size > capacity) {
        const oldest = ids.keys().next().value;
        if (oldest === undefined) break;
        ids.delete(oldest);
      }
    },
  };
}
