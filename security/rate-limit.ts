import type { Redis } from 'ioredis';
import { HubError } from '../core/errors.ts';

/**
 * Per-key fixed-window rate limit in Redis, shared by every bridge instance: one counter per
 * key and window, created with the window's expiry, so there is nothing to clean up.
 */

export interface RateLimitDecision {
  allowed: boolean;
  /** Requests counted in this window, including this one. */
  count: number;
  /** Milliseconds until the window resets (for Retry-After). */
  retryAfterMs: number;
}

export interface RateLimiter {
  /** Counts one request for `key` (e.g. `login:alice`) and says whether it may proceed. */
  hit(key: string): Promise<RateLimitDecision>;
}

const hitScript = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`;

/** Allows `limit` hits per key per `windowSeconds`. */
export function createRateLimiter(options: {
  redis: Redis;
  limit: number;
  windowSeconds: number;
  keyPrefix?: string;
  clock?: () => number;
}): RateLimiter {
  const windowMs = options.windowSeconds * 1000;
  const prefix = `${options.keyPrefix ?? 'tributary:mcp:'}rate:`;
  return {
    async hit(key) {
      const window = Math.floor((options.clock?.() ?? Date.now()) / windowMs);
      let answer: unknown;
      try {
        answer = await options.redis.eval(hitScript, 1, `${prefix}${key}:${window}`, String(windowMs));
      } catch (err) {
        // Fail closed: without the counter nobody can be let through safely.
        throw new HubError('RATE_LIMIT_UNAVAILABLE', `Redis rate limiter failed: ${(err as Error).message}`, {
          retriable: true,
          hint: 'check that Redis runs and REDIS_URL points at it',
          cause: err,
        });
      }
      const [count, ttl] = answer as [number, number];
      return { allowed: count <= options.limit, count, retryAfterMs: Math.max(ttl, 0) };
    },
  };
}
