import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { HubError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Authenticator } from './authenticate.ts';
import type { Directory } from './directory/directory.ts';
import { maxCredentialLength } from './directory/directory.ts';
import { parseJsonBody, readBody, sendJson } from './http.ts';
import type { EmitAction } from './identity.ts';
import type { TokenService } from './jwt.ts';
import type { Policy } from './policy.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { SessionStore } from './sessions.ts';

/**
 * The bridge's own token endpoint: `POST /auth/login` checks a user name and password against
 * the directory (LDAP or the local users file), maps groups to roles with the policy, opens a
 * Redis session and returns a short-lived JWT plus a rotating refresh token.
 * `POST /auth/refresh` and `POST /auth/logout` complete it. Each outcome is an audit action.
 */

export interface AuthRoutesDeps {
  directory: Directory;
  policy: Policy;
  sessions: SessionStore;
  tokens: TokenService;
  authenticator: Authenticator;
  /** Counts login attempts per user name. */
  loginLimiter: RateLimiter;
  emitAction: EmitAction;
  logger: Logger;
  /** Largest accepted request body in bytes. */
  maxBodyBytes: number;
  /** Resource named in the audit actions of logins (the component serving them); default `mcp-bridge`. */
  auditResource?: string;
}

const loginBody = z.object({
  username: z.string().min(1).max(maxCredentialLength),
  password: z.string().min(1).max(maxCredentialLength),
});
const refreshBody = z.object({ refreshToken: z.string().min(1).max(512) });
const logoutBody = z.object({ all: z.boolean().default(false) });

async function readJson<T>(req: IncomingMessage, limit: number, schema: z.ZodType<T>): Promise<T> {
  const body = await readBody(req, limit);
  const parsed = schema.safeParse(body.length === 0 ? {} : parseJsonBody(body));
  if (!parsed.success) {
    throw new HubError(
      'HTTP_BAD_REQUEST',
      `request body is malformed: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      {
        where: { field: parsed.error.issues[0]?.path.join('.') ?? '' },
      },
    );
  }
  return parsed.data;
}

/** Rate-limit key of a claimed user name: hashed, so any text makes a short, safe Redis key. */
function userKey(name: string): string {
  return createHash('sha256').update(name.normalize('NFC').toLowerCase()).digest('hex').slice(0, 32);
}

export interface AuthRoutes {
  login(req: IncomingMessage, res: ServerResponse): Promise<void>;
  refresh(req: IncomingMessage, res: ServerResponse): Promise<void>;
  logout(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/** Builds the /auth/* handlers. Errors are thrown as HubError for the server to render. */
export function createAuthRoutes(deps: AuthRoutesDeps): AuthRoutes {
  const auditResource = deps.auditResource ?? 'mcp-bridge';
  const issue = (sub: string, roles: string[], sessionId: string, refreshToken: string) => {
    const access = deps.tokens.issue({ sub, roles, sessionId });
    return {
      accessToken: access.token,
      tokenType: 'Bearer',
      expiresIn: access.expiresIn,
      refreshToken,
      sessionId,
      user: sub,
      roles,
    };
  };

  return {
    async login(req, res) {
      const { username, password } = await readJson(req, deps.maxBodyBytes, loginBody);
      const claimed = username.slice(0, 128);
      const limit = await deps.loginLimiter.hit(`login:${userKey(username)}`);
      if (!limit.allowed) {
        await deps.emitAction({
          action: 'auth.denied',
          actor: claimed,
          resource: auditResource,
          outcome: 'denied',
          details: { reason: 'rate-limited' },
        });
        throw new HubError('RATE_LIMITED', 'too many login attempts for this user', {
          retriable: true,
          where: { retryAfterMs: limit.retryAfterMs },
          hint: `wait ${Math.ceil(limit.retryAfterMs / 1000)} s`,
        });
      }
      const user = await deps.directory.authenticate(username, password);
      if (!user) {
        await deps.emitAction({
          action: 'auth.denied',
          actor: claimed,
          resource: auditResource,
          outcome: 'denied',
          details: { reason: 'invalid-credentials' },
        });
        throw new HubError('AUTH_LOGIN_FAILED', 'user name or password is wrong');
      }
      const roles = deps.policy.rolesFor(user.groups);
      const session = await deps.sessions.create(user.name, roles);
      await deps.emitAction({
        action: 'auth.login',
        actor: user.name,
        resource: auditResource,
        outcome: 'succeeded',
        details: { sessionId: session.sessionId, roles: roles.join(',') },
      });
      deps.logger.info({ user: user.name, roles, sessionId: session.sessionId }, 'login');
      sendJson(res, 200, issue(user.name, roles, session.sessionId, session.refreshToken));
    },

    async refresh(req, res) {
      const { refreshToken } = await readJson(req, deps.maxBodyBytes, refreshBody);
      let session: Awaited<ReturnType<SessionStore['refresh']>>;
      try {
        session = await deps.sessions.refresh(refreshToken);
      } catch (err) {
        await deps.emitAction({
          action: 'auth.denied',
          actor: 'unknown',
          resource: auditResource,
          outcome: 'denied',
          details: { reason: 'refresh-refused', sessionId: refreshToken.split('.')[0]?.slice(0, 36) ?? '' },
        });
        throw err;
      }
      await deps.emitAction({
        action: 'auth.refresh',
        actor: session.sub,
        resource: auditResource,
        outcome: 'succeeded',
        details: { sessionId: session.sessionId },
      });
      sendJson(res, 200, issue(session.sub, session.roles, session.sessionId, session.refreshToken));
    },

    async logout(req, res) {
      const identity = await deps.authenticator.authenticate(req);
      const { all } = await readJson(req, deps.maxBodyBytes, logoutBody);
      const revoked = all
        ? await deps.sessions.revokeAll(identity.sub)
        : Number(await deps.sessions.revoke(identity.sessionId));
      await deps.emitAction({
        action: 'auth.logout',
        actor: identity.sub,
        resource: auditResource,
        outcome: 'succeeded',
        details: {
          sessionId: identity.sessionId,
          scope: all ? 'all-sessions' : 'this-session',
          revoked: String(revoked),
        },
      });
      sendJson(res, 200, { revoked });
    },
  };
}
