import type { Redis } from 'ioredis';
import type { z } from 'zod';
import type { Logger } from '../core/logger.ts';
import { type Authenticator, createAuthenticator } from './authenticate.ts';
import type { authConfigShape } from './config.ts';
import type { Directory } from './directory/directory.ts';
import type { EmitAction } from './identity.ts';
import { createTokenService, type TokenService } from './jwt.ts';
import { type AuthRoutes, createAuthRoutes } from './login.ts';
import type { Policy } from './policy.ts';
import { createRateLimiter, type RateLimiter } from './rate-limit.ts';
import { bearerChallenge } from './resource-metadata.ts';
import { createSessionStore, type SessionStore } from './sessions.ts';

type AuthSettings = z.output<z.ZodObject<typeof authConfigShape>>;

/**
 * The token service of one HTTP surface: tokens for `resourceUrl` (the audience), issued by the
 * configured issuer or else the surface's origin, with the shared algorithm, lifetime and skew.
 */
export function createAuthTokens(
  settings: AuthSettings,
  options: { signingKey: string; origin: string; resourceUrl: string; clock?: () => number },
): TokenService {
  return createTokenService({
    issuer: settings.issuer ?? options.origin,
    audience: options.resourceUrl,
    algorithm: settings.algorithm,
    privateKey: options.signingKey,
    accessTokenTtlSeconds: settings.accessTokenTtlSeconds,
    clockToleranceSeconds: settings.clockToleranceSeconds,
    ...(options.clock ? { clock: options.clock } : {}),
  });
}

/** The authentication of one HTTP surface once it knows its public origin. */
export interface AuthAtOrigin {
  resourceUrl: string;
  tokens: TokenService;
  authenticator: Authenticator;
  routes: AuthRoutes;
}

export interface AuthStack {
  sessions: SessionStore;
  /** A rate limiter of `limit` hits per window, its keys under `<redisKeyPrefix><scope>:`. */
  limiter(limit: number, scope: string): RateLimiter;
  /** Tokens for `resourceUrl` (the audience), the authenticator and the login routes. */
  at(origin: string, resourceUrl: string): AuthAtOrigin;
}

/**
 * What every authenticated HTTP surface (the MCP bridge, the ingress) builds alike from the
 * shared auth settings: sessions and rate limits in Redis, and, once the server listens and
 * knows its origin, the token service, the authenticator and the login/refresh/logout routes.
 */
export function createAuthStack(
  settings: AuthSettings & {
    redisKeyPrefix: string;
    /** Where sessions are kept; default `redisKeyPrefix`. */
    sessionKeyPrefix?: string;
    /** Largest body the login routes accept. */
    loginMaxBodyBytes: number;
    /** Resource named in the audit actions of logins; default `mcp-bridge`. */
    auditResource?: string;
  },
  deps: {
    redis: Redis;
    directory: Directory;
    policy: Policy;
    signingKey: string;
    emitAction: EmitAction;
    logger: Logger;
    clock?: () => number;
  },
): AuthStack {
  const clock = deps.clock ? { clock: deps.clock } : {};
  const sessions = createSessionStore({
    redis: deps.redis,
    keyPrefix: settings.sessionKeyPrefix ?? settings.redisKeyPrefix,
    idleTtlSeconds: settings.sessionIdleSeconds,
    maxLifetimeSeconds: settings.sessionMaxSeconds,
    ...clock,
  });
  const limiter = (limit: number, scope: string) =>
    createRateLimiter({
      redis: deps.redis,
      limit,
      windowSeconds: settings.rateWindowSeconds,
      keyPrefix: `${settings.redisKeyPrefix}${scope}:`,
      ...clock,
    });
  const loginLimiter = limiter(settings.loginAttemptsPerWindow, 'login');
  return {
    sessions,
    limiter,
    at(origin, resourceUrl) {
      const tokens = createAuthTokens(settings, {
        signingKey: deps.signingKey,
        origin,
        resourceUrl,
        ...clock,
      });
      const authenticator = createAuthenticator({ tokens, sessions });
      const routes = createAuthRoutes({
        directory: deps.directory,
        policy: deps.policy,
        sessions,
        tokens,
        authenticator,
        loginLimiter,
        emitAction: deps.emitAction,
        logger: deps.logger,
        maxBodyBytes: settings.loginMaxBodyBytes,
        ...(settings.auditResource ? { auditResource: settings.auditResource } : {}),
      });
      return { resourceUrl, tokens, authenticator, routes };
    },
  };
}

const authFailureCodes = new Set([
  'AUTH_TOKEN_MISSING',
  'AUTH_TOKEN_INVALID',
  'AUTH_TOKEN_EXPIRED',
  'AUTH_TOKEN_NOT_YET_VALID',
  'AUTH_SESSION_REVOKED',
]);

/** The `WWW-Authenticate` challenge (RFC 6750, RFC 9728) an authentication failure answers with. */
export function authChallengeHeaders(
  err: { code: string; message: string },
  resourceUrl: string,
): Record<string, string> {
  if (!authFailureCodes.has(err.code)) return {};
  return {
    'www-authenticate': bearerChallenge(
      resourceUrl,
      err.code === 'AUTH_TOKEN_MISSING' ? undefined : { code: 'invalid_token', description: err.message },
    ),
  };
}
