import type { Redis } from 'ioredis';
import { HubError } from '../core/errors.ts';

/**
 * `Idempotency-Key` records in Redis, shared by every ingress instance. The first request with
 * a key reserves it atomically (SET NX) together with the digest of its body and the event id
 * it will publish; once published, the reply is stored under the key. A retry with the same
 * body gets that reply back (same event id, nothing published again); a different body under
 * the same key is refused. Records expire after the configured TTL.
 */

/** What a publish answered, stored so that a retry answers the same. */
export interface StoredReply {
  id: string;
  topic: string;
  partition: number;
  offset: string;
}

export type Reservation =
  /** The key is new: publish with `eventId`, then `complete` (or `release` on failure). */
  | { state: 'reserved' }
  /** The same body was published under this key already. */
  | { state: 'replay'; reply: StoredReply }
  /** A request with this key is being published right now (by this or another instance). */
  | { state: 'in-progress' }
  /** The key was used with another body. */
  | { state: 'mismatch' };

export interface IdempotencyRecords {
  reserve(key: string, bodyDigest: string, eventId: string): Promise<Reservation>;
  complete(key: string, bodyDigest: string, reply: StoredReply): Promise<void>;
  /** Forgets a reservation whose publish failed, so the client may retry. */
  release(key: string, eventId: string): Promise<void>;
}

interface Stored {
  digest: string;
  eventId: string;
  reply?: StoredReply;
}

const releaseScript = `
local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v).eventId == ARGV[1] and not cjson.decode(v).reply then
  return redis.call('DEL', KEYS[1])
end
return 0`;

function unavailable(err: unknown): HubError {
  return new HubError(
    'IDEMPOTENCY_UNAVAILABLE',
    `Redis idempotency store failed: ${(err as Error).message}`,
    {
      retriable: true,
      hint: 'check that Redis runs and REDIS_URL points at it',
      cause: err,
    },
  );
}

/** Builds the store; `key` passed to its methods is already scoped (caller and type). */
export function createIdempotencyRecords(options: {
  redis: Redis;
  ttlSeconds: number;
  keyPrefix: string;
}): IdempotencyRecords {
  const ttlMs = options.ttlSeconds * 1000;
  const redisKey = (key: string) => `${options.keyPrefix}idempotency:${key}`;
  return {
    async reserve(key, bodyDigest, eventId) {
      try {
        const stored: Stored = { digest: bodyDigest, eventId };
        const set = await options.redis.set(redisKey(key), JSON.stringify(stored), 'PX', ttlMs, 'NX');
        if (set === 'OK') return { state: 'reserved' };
        const raw = await options.redis.get(redisKey(key));
        // Expired between the two calls: treat as new on the client's retry.
        if (raw === null) return { state: 'in-progress' };
        const existing = JSON.parse(raw) as Stored;
        if (existing.digest !== bodyDigest) return { state: 'mismatch' };
        return existing.reply ? { state: 'replay', reply: existing.reply } : { state: 'in-progress' };
      } catch (err) {
        throw unavailable(err);
      }
    },
    async complete(key, bodyDigest, reply) {
      const stored: Stored = { digest: bodyDigest, eventId: reply.id, reply };
      try {
        await options.redis.set(redisKey(key), JSON.stringify(stored), 'PX', ttlMs);
      } catch (err) {
        throw unavailable(err);
      }
    },
    async release(key, eventId) {
      try {
        await options.redis.eval(releaseScript, 1, redisKey(key), eventId);
      } catch (err) {
        throw unavailable(err);
      }
    },
  };
}
