/**
 * Reads the figures the hub reports (metrics, heartbeats) out of a component's own `status()`.
 * Components describe themselves in their own shapes (a consumer's counters, a job runner's
 * breaker, the audit's chains); the digest finds the well-known names wherever they sit.
 */

export type BreakerState = 'closed' | 'halfOpen' | 'open';

export interface StatusDigest {
  /** Sums of well-known counters found anywhere in the status, by counter name. */
  counters: Record<string, number>;
  /** Breaker states by dotted path (e.g. `runner.breaker`). */
  breakers: Record<string, BreakerState>;
  /** Consumer groups the component reports (`groupId` fields). */
  groupIds: string[];
  /** Every numeric leaf by dotted path, for the generic gauge. */
  numbers: Record<string, number>;
}

/** Counter names summed across the status tree; they become `tributary_component_<name>_total`. */
export const wellKnownCounters = [
  'processed',
  'deadLettered',
  'retries',
  'duplicates',
  'failed',
  'succeeded',
  'recorded',
  'published',
] as const;

const breakerStates = new Set<string>(['closed', 'halfOpen', 'open']);

/** Walks a status object (depth-limited) and collects counters, breakers, groups and numbers. */
export function digestStatus(status: unknown): StatusDigest {
  const digest: StatusDigest = { counters: {}, breakers: {}, groupIds: [], numbers: {} };
  const counterNames = new Set<string>(wellKnownCounters);
  // Inside arrays (a connector's endpoints) only breakers are taken, named by the element's
  // name or url: numbers of list entries would be unbounded series and double counts.
  const walk = (value: unknown, path: string[], depth: number, inList = false): void => {
    if (depth > 6 || value === null || value === undefined) return;
    const key = path[path.length - 1] ?? '';
    if (inList && typeof value !== 'object' && !/breaker/i.test(key)) return;
    if (typeof value === 'number' && Number.isFinite(value)) {
      digest.numbers[path.join('.')] = value;
      if (counterNames.has(key)) digest.counters[key] = (digest.counters[key] ?? 0) + value;
      return;
    }
    if (typeof value === 'string') {
      if (/breaker/i.test(key) && breakerStates.has(value))
        digest.breakers[path.join('.')] = value as BreakerState;
      if (key === 'groupId' && !digest.groupIds.includes(value)) digest.groupIds.push(value);
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        const named = item as { name?: unknown; url?: unknown } | null;
        const label =
          typeof named?.name === 'string'
            ? named.name
            : typeof named?.url === 'string'
              ? named.url
              : String(i);
        walk(item, [...path, label], depth + 1, true);
      });
      return;
    }
    if (typeof value === 'object') {
      for (const [k, v] of Object.entries(value as Record<string, unknown>))
        walk(v, [...path, k], depth + 1, inList);
    }
  };
  walk(status, [], 0);
  return digest;
}

/** Numeric code of a breaker state for gauges: 0 closed, 1 half-open, 2 open. */
export function breakerCode(state: BreakerState): number {
  return state === 'closed' ? 0 : state === 'halfOpen' ? 1 : 2;
}
