import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { HubError } from '../core/errors.ts';

/**
 * Login sessions in Redis, shared by every bridge instance. A session is a hash with a sliding
 * idle expiry and a hard maximum lifetime; each user has a set of their session ids, so
 * "revoke all of alice's sessions" touches only her keys (never KEYS or SCAN). Instances check
 * the session on every request, so a revoked session is refused by all of them at once.
 * Refresh tokens rotate on use; presenting an old one again revokes the session (theft signal).
 * Multi-key scripts assume one Redis node (or a cluster with all keys on one slot).
 */

export interface SessionStoreOptions {
  redis: Redis;
  /** Key prefix, so several hubs can share one Redis. */
  keyPrefix?: string;
  /** Idle time after which an unused session ends (sliding). */
  idleTtlSeconds: number;
  /** Hard limit on a session's life, however active. */
  maxLifetimeSeconds: number;
  clock?: () => number;
}

export interface SessionRecord {
  sessionId: string;
  sub: string;
  roles: string[];
}

export interface SessionStore {
  /** Opens a session; returns its id and the first refresh token. */
  create(sub: string, roles: string[]): Promise<SessionRecord & { refreshToken: string }>;
  /** The live session `sessionId` of `sub`, extending its idle expiry; undefined when revoked or expired. */
  touch(sessionId: string, sub: string): Promise<SessionRecord | undefined>;
  /** Trades a refresh token for a new one on the same session; throws AUTH_REFRESH_INVALID. */
  refresh(refreshToken: string): Promise<SessionRecord & { refreshToken: string }>;
  /** Ends one session; false when it did not exist. */
  revoke(sessionId: string): Promise<boolean>;
  /** Ends every session of `sub`; returns how many were live. */
  revokeAll(sub: string): Promise<number>;
  /** Live session ids of `sub`. */
  list(sub: string): Promise<string[]>;
}

const createScript = `
redis.call('HSET', KEYS[1], 'sub', ARGV[1], 'roles', ARGV[2], 'refreshHash', ARGV[3], 'absoluteExpiresAt', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('SADD', KEYS[2], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[7])
return 1`;

const touchScript = `
local v = redis.call('HMGET', KEYS[1], 'sub', 'roles', 'absoluteExpiresAt')
if not v[1] or v[1] ~= ARGV[1] then return nil end
local now = tonumber(ARGV[2])
local hardEnd = tonumber(v[3])
if now >= hardEnd then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[4])
  return nil
end
redis.call('PEXPIRE', KEYS[1], math.min(tonumber(ARGV[3]), hardEnd - now))
return {v[1], v[2]}`;

// ARGV: presented hash, new hash, now, idle ms, user-key prefix, session id
const refreshScript = `
local v = redis.call('HMGET', KEYS[1], 'sub', 'roles', 'refreshHash', 'absoluteExpiresAt')
if not v[1] then return {'missing'} end
if v[3] ~= ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', ARGV[5] .. v[1], ARGV[6])
  return {'reused'}
end
local now = tonumber(ARGV[3])
local hardEnd = tonumber(v[4])
if now >= hardEnd then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', ARGV[5] .. v[1], ARGV[6])
  return {'missing'}
end
redis.call('HSET', KEYS[1], 'refreshHash', ARGV[2])
redis.call('PEXPIRE', KEYS[1], math.min(tonumber(ARGV[4]), hardEnd - now))
return {'ok', v[1], v[2]}`;

const revokeScript = `
local sub = redis.call('HGET', KEYS[1], 'sub')
if not sub then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', ARGV[1] .. sub, ARGV[2])
return 1`;

const revokeAllScript = `
local ids = redis.call('SMEMBERS', KEYS[1])
local n = 0
for _, id in ipairs(ids) do n = n + redis.call('DEL', ARGV[1] .. id) end
redis.call('DEL', KEYS[1])
return n`;

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function parseRoles(raw: unknown): string[] {
  const roles = JSON.parse(String(raw)) as unknown;
  return Array.isArray(roles) ? roles.map(String) : [];
}

/** Runs a Redis script; a Redis failure becomes SESSION_STORE_UNAVAILABLE (retriable, 503). */
async function run(redis: Redis, ...args: Parameters<Redis['eval']>): Promise<unknown> {
  try {
    return await redis.eval(...args);
  } catch (err) {
    throw new HubError('SESSION_STORE_UNAVAILABLE', `Redis session store failed: ${(err as Error).message}`, {
      retriable: true,
      hint: 'check that Redis runs and REDIS_URL points at it',
      cause: err,
    });
  }
}

/** Builds the Redis session store. */
export function createSessionStore(options: SessionStoreOptions): SessionStore {
  const { redis } = options;
  const prefix = options.keyPrefix ?? 'tributary:mcp:';
  const sessionPrefix = `${prefix}session:`;
  const userPrefix = `${prefix}user-sessions:`;
  const now = () => options.clock?.() ?? Date.now();
  const idleMs = options.idleTtlSeconds * 1000;
  const maxMs = options.maxLifetimeSeconds * 1000;

  const newRefreshToken = (sessionId: string) => `${sessionId}.${randomBytes(32).toString('base64url')}`;

  return {
    async create(sub, roles) {
      const sessionId = randomUUID();
      const refreshToken = newRefreshToken(sessionId);
      const hardEnd = now() + maxMs;
      await run(
        redis,
        createScript,
        2,
        sessionPrefix + sessionId,
        userPrefix + sub,
        sub,
        JSON.stringify(roles),
        hashToken(refreshToken),
        String(hardEnd),
        String(Math.min(idleMs, maxMs)),
        sessionId,
        String(maxMs),
      );
      return { sessionId, sub, roles, refreshToken };
    },

    async touch(sessionId, sub) {
      const result = (await run(
        redis,
        touchScript,
        2,
        sessionPrefix + sessionId,
        userPrefix + sub,
        sub,
        String(now()),
        String(idleMs),
        sessionId,
      )) as [string, string] | null;
      if (!result) return undefined;
      return { sessionId, sub: result[0], roles: parseRoles(result[1]) };
    },

    async refresh(refreshToken) {
      const sessionId = refreshToken.split('.')[0] ?? '';
      const refused = (reason: string) =>
        new HubError('AUTH_REFRESH_INVALID', `refresh token refused: ${reason}`, { hint: 'log in again' });
      if (!/^[0-9a-f-]{36}$/.test(sessionId)) throw refused('malformed');
      const next = newRefreshToken(sessionId);
      const result = (await run(
        redis,
        refreshScript,
        1,
        sessionPrefix + sessionId,
        hashToken(refreshToken),
        hashToken(next),
        String(now()),
        String(idleMs),
        userPrefix,
        sessionId,
      )) as string[];
      if (result[0] === 'reused') throw refused('already used; the session has been revoked');
      if (result[0] !== 'ok') throw refused('the session has ended');
      return { sessionId, sub: String(result[1]), roles: parseRoles(result[2]), refreshToken: next };
    },

    async revoke(sessionId) {
      const n = await run(redis, revokeScript, 1, sessionPrefix + sessionId, userPrefix, sessionId);
      return n === 1;
    },

    async revokeAll(sub) {
      return Number(await run(redis, revokeAllScript, 1, userPrefix + sub, sessionPrefix));
    },

    async list(sub) {
      const ids = await redis.smembers(userPrefix + sub);
      if (ids.length === 0) return [];
      const alive = await Promise.all(ids.map((id) => redis.exists(sessionPrefix + id)));
      return ids.filter((_, i) => alive[i] === 1);
    },
  };
}
