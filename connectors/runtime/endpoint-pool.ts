import { z } from 'zod';
import { type Breaker, breakerSettingsSchema, createBreaker } from '../../core/breaker.ts';
import { HubError } from '../../core/errors.ts';

/** One system may sit behind several endpoints (replicas, regions); each gets its own breaker. */
export const endpointsSchema = z
  .object({
    urls: z
      .array(
        z.union([
          z.string().url(),
          z.object({ url: z.string().url(), weight: z.number().int().positive().default(1) }),
        ]),
      )
      .min(1)
      .describe('Base URLs of the system; all serve the same API'),
    strategy: z
      .enum(['round-robin', 'least-connections', 'weighted'])
      .default('round-robin')
      .describe('How a request picks an endpoint'),
    healthPath: z
      .string()
      .optional()
      .describe('Path probed with GET; a 5xx or no answer marks the endpoint down'),
    healthIntervalMs: z.number().int().positive().default(5_000).describe('Time between health probes'),
    breaker: breakerSettingsSchema({ unit: 'requests', resetTimeoutMs: 5_000, rollingWindowMs: 10_000 }),
  })
  .describe('Endpoints of one system with load balancing, health checks and a breaker each');

export type EndpointsConfig = z.infer<typeof endpointsSchema>;
export type BreakerState = 'open' | 'half-open' | 'closed';

export interface Endpoint {
  readonly url: string;
  readonly weight: number;
  inFlight: number;
  healthy: boolean;
  readonly breaker: Breaker<[() => Promise<unknown>], unknown>;
  state(): BreakerState;
}

export interface EndpointPool {
  readonly endpoints: readonly Endpoint[];
  /** Picks an endpoint that is healthy and whose breaker lets a request through; throws CIRCUIT_OPEN when none does. */
  pick(): Endpoint;
  /** Resolves once some endpoint may take a request again (a breaker half-opened or closed), or the signal aborts. */
  whenAvailable(signal?: AbortSignal): Promise<void>;
  start(): void;
  close(): void;
}

/** Builds the pool; `onBreaker` hears every breaker change (for logs and action events). */
export function createEndpointPool(
  config: EndpointsConfig,
  deps: { fetch?: typeof fetch; onBreaker?: (endpoint: string, state: BreakerState) => void } = {},
): EndpointPool {
  const fetchImpl = deps.fetch ?? fetch;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
    waiters.clear();
  };
  const endpoints: Endpoint[] = config.urls.map((u) => {
    const { url, weight } = typeof u === 'string' ? { url: u, weight: 1 } : u;
    // The breaker wraps "run this attempt"; errors marked non-retriable (4xx) do not count against it.
    const breaker = createBreaker(url, (attempt: () => Promise<unknown>) => attempt(), config.breaker);
    const ep: Endpoint = {
      url: url.replace(/\/+$/, ''),
      weight,
      inFlight: 0,
      healthy: true,
      breaker,
      state: () => (breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : 'closed'),
    };
    breaker.on('open', () => deps.onBreaker?.(ep.url, 'open'));
    breaker.on('halfOpen', () => {
      deps.onBreaker?.(ep.url, 'half-open');
      wake();
    });
    breaker.on('close', () => {
      deps.onBreaker?.(ep.url, 'closed');
      wake();
    });
    return ep;
  });

  let cursor = 0;
  const weightedCurrent = new Map<Endpoint, number>();
  let timer: NodeJS.Timeout | undefined;

  const usable = () => endpoints.filter((e) => e.healthy && !e.breaker.opened);

  const pick = (): Endpoint => {
    const candidates = usable();
    if (candidates.length === 0) {
      throw new HubError(
        'CIRCUIT_OPEN',
        `no endpoint available: ${endpoints.map((e) => `${e.url}=${e.healthy ? e.state() : 'down'}`).join(', ')}`,
        {
          retriable: true,
          hint: 'the system is failing; requests resume when a breaker half-opens',
        },
      );
    }
    switch (config.strategy) {
      case 'round-robin':
        return candidates[cursor++ % candidates.length]!;
      case 'least-connections': {
        const start = cursor++ % candidates.length;
        let best = candidates[start]!;
        for (let i = 1; i < candidates.length; i++) {
          const c = candidates[(start + i) % candidates.length]!;
          if (c.inFlight < best.inFlight) best = c;
        }
        return best;
      }
      case 'weighted': {
        // Smooth weighted round-robin (as nginx does): spreads picks evenly within each cycle.
        const total = candidates.reduce((s, c) => s + c.weight, 0);
        let best = candidates[0]!;
        for (const c of candidates) {
          weightedCurrent.set(c, (weightedCurrent.get(c) ?? 0) + c.weight);
          if (weightedCurrent.get(c)! > weightedCurrent.get(best)!) best = c;
        }
        weightedCurrent.set(best, weightedCurrent.get(best)! - total);
        return best;
      }
    }
  };

  const probe = async () => {
    if (!config.healthPath) return;
    await Promise.all(
      endpoints.map(async (e) => {
        const was = e.healthy;
        try {
          const res = await fetchImpl(`${e.url}${config.healthPath}`, { signal: AbortSignal.timeout(2_000) });
          await res.body?.cancel();
          e.healthy = res.status < 500;
        } catch {
          e.healthy = false;
        }
        if (!was && e.healthy) wake();
      }),
    );
  };

  return {
    endpoints,
    pick,
    whenAvailable(signal) {
      if (usable().length > 0) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          signal?.removeEventListener('abort', done);
          waiters.delete(done);
          resolve();
        };
        waiters.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    },
    start() {
      if (timer || !config.healthPath) return;
      void probe();
      timer = setInterval(() => void probe(), config.healthIntervalMs);
      timer.unref();
    },
    close() {
      if (timer) clearInterval(timer);
      timer = undefined;
      for (const e of endpoints) e.breaker.shutdown();
      wake();
    },
  };
}
