import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { UsageError } from '../../core/errors.ts';
import { tributaryHome } from '../../kit/paths.ts';
import { createRedisKit } from '../../kit/redis.ts';

/**
 * What the two authenticated HTTP servers (`tributary mcp serve`, `tributary ingress serve`)
 * and their token commands read alike: the users file and signing key, the LDAP directory,
 * the session Redis, ports and lists.
 */

/** The local users file and the signing key every instance shares. */
export function authFiles(env: NodeJS.ProcessEnv): { users: string; key: string } {
  const home = tributaryHome(env);
  return {
    users: resolve(env.TRIBUTARY_MCP_USERS ?? `${home}/mcp/users.json`),
    key: resolve(env.TRIBUTARY_MCP_KEY_FILE ?? `${home}/mcp/signing-key.pem`),
  };
}

/** `--port`: 0..65535 (0 picks a free one); `fallback` when not given. */
export function parsePort(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be 0..65535, not "${value}"`);
  return port;
}

/** A comma-separated list (`--roles`, `--groups`), blanks dropped. */
export function parseList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The LDAP directory settings from LDAP_* (used when LDAP_URL is set). */
export function ldapFrom(env: NodeJS.ProcessEnv): {
  url: string;
  userDnTemplate?: string;
  groupsBaseDn?: string;
} {
  return {
    url: env.LDAP_URL ?? '',
    ...(env.LDAP_USER_DN_TEMPLATE ? { userDnTemplate: env.LDAP_USER_DN_TEMPLATE } : {}),
    ...(env.LDAP_GROUPS_BASE_DN ? { groupsBaseDn: env.LDAP_GROUPS_BASE_DN } : {}),
  };
}

/** The session Redis: REDIS_URL, or a local redis-server for the embedded default (said, with `server`'s name). */
export async function sessionRedis(
  env: NodeJS.ProcessEnv,
  say: (text: string) => void,
  server: string,
): Promise<{ redis: Redis; stop: () => Promise<void> }> {
  if (env.REDIS_URL) return { redis: new Redis(env.REDIS_URL), stop: async () => {} };
  const kit = createRedisKit();
  const { url } = await kit.start();
  say(`no REDIS_URL: started a local redis-server at ${url} (sessions end when the ${server} stops)`);
  return { redis: new Redis(url), stop: () => kit.stop() };
}
