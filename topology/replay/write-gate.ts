/**
 * Lets the writes of several partitions run at once, and a checkpoint run alone once every write
 * in flight is acknowledged: a checkpoint then counts exactly what the target holds before its
 * marks, which is what makes the resume exact.
 */
export interface WriteGate {
  /** Runs a write; waits while a checkpoint runs. */
  shared<T>(fn: () => Promise<T>): Promise<T>;
  /** Runs `fn` with no write in flight; new writes wait until it is done. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}

/** Creates a gate with no write in flight. */
export function createWriteGate(): WriteGate {
  let inFlight = 0;
  const idleWaiters: Array<() => void> = [];
  let closed: Promise<void> | undefined;
  return {
    async shared(fn) {
      while (closed) await closed;
      inFlight++;
      try {
        return await fn();
      } finally {
        inFlight--;
        if (inFlight === 0) for (const wake of idleWaiters.splice(0)) wake();
      }
    },
    async exclusive(fn) {
      while (closed) await closed;
      let open: () => void = () => {};
      closed = new Promise<void>((resolve) => {
        open = resolve;
      });
      try {
        if (inFlight > 0) await new Promise<void>((resolve) => idleWaiters.push(resolve));
        return await fn();
      } finally {
        closed = undefined;
        open();
      }
    },
  };
}
