import type { Redis } from 'ioredis';
import { z } from 'zod';
import { HubError } from '../core/errors.ts';
import { createAuthTokens } from './auth-stack.ts';
import { authConfigShape } from './config.ts';
import { loadOrCreateSigningKey } from './keys.ts';
import { createSessionStore } from './sessions.ts';

const defaults = z.object(authConfigShape).parse({});

/**
 * The development token commands (`tributary mcp token`, `tributary ingress token`): opens a
 * session for `user` in the Redis the server keeps its sessions in and issues an access token
 * for it, as the server's own login would, signed with the shared key at `signingKeyPath`
 * (made there when missing). No password is checked: for development and tests only.
 * A failure that is not already a HubError is reported under `failureCode`.
 */
export async function issueDevelopmentToken(options: {
  redis: Redis;
  user: string;
  roles: string[];
  /** The server's public origin: the token's issuer. */
  origin: string;
  /** The resource the token is for (`<origin>/mcp`, `<origin>/v1`). */
  audience: string;
  ttlSeconds: number;
  signingKeyPath: string;
  failureCode: string;
}): Promise<string> {
  try {
    const sessions = createSessionStore({
      redis: options.redis,
      idleTtlSeconds: defaults.sessionIdleSeconds,
      maxLifetimeSeconds: defaults.sessionMaxSeconds,
    });
    const session = await sessions.create(options.user, options.roles);
    const tokens = createAuthTokens(
      { ...defaults, accessTokenTtlSeconds: options.ttlSeconds },
      {
        signingKey: await loadOrCreateSigningKey(options.signingKeyPath),
        origin: options.origin,
        resourceUrl: options.audience,
      },
    );
    return tokens.issue({ sub: options.user, roles: options.roles, sessionId: session.sessionId }).token;
  } catch (err) {
    throw err instanceof HubError
      ? err
      : new HubError(options.failureCode, (err as Error).message, { cause: err });
  }
}
