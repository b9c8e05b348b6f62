import { createRedisKit } from '../../kit/redis.ts';
import { containerRuntimeReachable } from './kafka.ts';

/**
 * One real Redis for tests: `REDIS_URL` when set; else a `redis:7-alpine` container when a
 * container runtime is reachable; else the local kit (Debian's redis-server on a free port).
 * Started once per test file (ref-counted) or once per run from a global setup via
 * `startSharedRedis()`, which also sets REDIS_URL so workers reuse it.
 */

export interface TestRedis {
  url: string;
  /** Where it came from, for test output. */
  source: 'env' | 'container' | 'kit';
  release(): Promise<void>;
}

let shared: { url: string; source: TestRedis['source']; stop: () => Promise<void> } | undefined;
let sharedStart: Promise<NonNullable<typeof shared>> | undefined;
let users = 0;

async function startRedisService(): Promise<NonNullable<typeof shared>> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, source: 'env', stop: async () => {} };
  if (await containerRuntimeReachable()) {
    try {
      const { GenericContainer, Wait } = await import('testcontainers');
      const container = await new GenericContainer('redis:7-alpine')
        .withExposedPorts(6379)
        .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
        .start();
      const url = `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
      return { url, source: 'container', stop: async () => void (await container.stop()) };
    } catch (err) {
      process.stderr.write(
        `tributary tests: no Redis container (${(err as Error).message}); using the local kit\n`,
      );
    }
  }
  const kit = createRedisKit();
  const { url } = await kit.start();
  return { url, source: 'kit', stop: () => kit.stop() };
}

/** Gives the calling test file a Redis URL; call `release()` in afterAll. */
export async function useTestRedis(): Promise<TestRedis> {
  users++;
  sharedStart ??= startRedisService().then((s) => {
    shared = s;
    return s;
  });
  const service = await sharedStart;
  return {
    url: service.url,
    source: service.source,
    release: async () => {
      users--;
      if (users === 0 && shared) {
        const current = shared;
        shared = undefined;
        sharedStart = undefined;
        await current.stop();
      }
    },
  };
}

/** For a vitest global setup: starts one Redis for the run, sets REDIS_URL, returns the teardown. */
export async function startSharedRedis(): Promise<() => Promise<void>> {
  if (process.env.REDIS_URL) return async () => {};
  const service = await startRedisService();
  process.env.REDIS_URL = service.url;
  return async () => {
    delete process.env.REDIS_URL;
    await service.stop();
  };
}
