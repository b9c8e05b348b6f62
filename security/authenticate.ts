import type { IncomingMessage } from 'node:http';
import { HubError } from '../core/errors.ts';
import type { BridgeIdentity } from './identity.ts';
import type { TokenService } from './jwt.ts';
import type { SessionStore } from './sessions.ts';

/**
 * Turns the `Authorization: Bearer` header of a request into a verified identity: the JWT must
 * verify (see jwt.ts) and its session must still be live in Redis, checked on every request so
 * a revoked session is refused by every instance at once. Roles come from the session.
 */

export interface Authenticator {
  /** The caller's identity; throws AUTH_TOKEN_MISSING / AUTH_TOKEN_* / AUTH_SESSION_REVOKED (all 401). */
  authenticate(req: IncomingMessage): Promise<BridgeIdentity>;
  /** The same for a raw token (logout and tests). */
  verifyToken(token: string): Promise<BridgeIdentity>;
}

/** Extracts the bearer token from an Authorization header; undefined when there is none. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match?.[1];
}

/** Builds the authenticator from the token service and the session store. */
export function createAuthenticator(deps: { tokens: TokenService; sessions: SessionStore }): Authenticator {
  async function verifyToken(token: string): Promise<BridgeIdentity> {
    const claims = deps.tokens.verify(token);
    const session = await deps.sessions.touch(claims.sessionId, claims.sub);
    if (!session) {
      throw new HubError(
        'AUTH_SESSION_REVOKED',
        'the session of this token has ended (revoked, logged out or expired)',
        {
          hint: 'log in again (POST /auth/login)',
        },
      );
    }
    return { sub: session.sub, roles: session.roles, sessionId: session.sessionId };
  }
  return {
    verifyToken,
    async authenticate(req) {
      const header = req.headers.authorization;
      const token = bearerToken(header);
      if (!token) {
        throw new HubError(
          'AUTH_TOKEN_MISSING',
          header
            ? 'Authorization header is not a bearer token'
            : 'no bearer token in the Authorization header',
          { hint: 'log in (POST /auth/login) and send `Authorization: Bearer <accessToken>`' },
        );
      }
      return await verifyToken(token);
    },
  };
}
