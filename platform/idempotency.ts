import { LRUCache } from 'lru-cache';
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
  // lru-cache, not a Map whose first key is evicted: V8 leaves deleted Map entries in place until
  // it rehashes, so finding the first live key walked ever more holes (18 us per id at 100,000,
  // against 0.8 us while filling).
  const ids = new LRUCache<string, true>({ max: options.capacity ?? 100_000 });
  return {
    async seen(id) {
      // get() (unlike has()) marks the id as recently used.
      return ids.get(id) === true;
    },
    async remember(id) {
      ids.set(id, true);
    },
  };
}
