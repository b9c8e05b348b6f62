import { z } from 'zod';
import { HubError } from '../../core/errors.ts';
import { resolveSecret, secretRefSchema } from './secrets.ts';

/** How a connector authenticates against its system. Secrets are references (env or file). */
export const authConfigSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('none') }),
    z.object({ type: z.literal('bearer'), token: secretRefSchema }),
    z.object({ type: z.literal('basic'), username: z.string(), password: secretRefSchema }),
    z.object({
      type: z.literal('api-key'),
      header: z.string().default('X-API-Key').describe('Header that carries the key'),
      key: secretRefSchema,
    }),
    z.object({
      type: z.literal('oauth2-client-credentials'),
      tokenUrl: z.string().url().describe('Token endpoint'),
      clientId: z.string(),
      clientSecret: secretRefSchema,
      scope: z.string().optional(),
      refreshBeforeSeconds: z
        .number()
        .int()
        .min(0)
        .default(60)
        .describe('Refresh this long before the token expires'),
      defaultTtlSeconds: z
        .number()
        .int()
        .positive()
        .default(900)
        .describe('Assumed lifetime when the server omits expires_in'),
    }),
  ])
  .default({ type: 'none' })
  .describe('Authentication: none, bearer, basic, api-key or oauth2-client-credentials');

export type AuthConfig = z.infer<typeof authConfigSchema>;

export interface Authenticator {
  /** Headers to add to a request (fetches or refreshes a token when needed). */
  headers(signal?: AbortSignal): Promise<Record<string, string>>;
  /** Forgets a cached token after a 401, so the next `headers()` fetches a fresh one. Returns false when nothing can be refreshed. */
  invalidate(): boolean;
  /** Tokens fetched so far (status and tests). */
  readonly tokenFetches: number;
}

/** Builds the authenticator for `config`; `fetchImpl` and `now` are injected for tests and proxies. */
export function createAuthenticator(
  config: AuthConfig,
  deps: { fetch?: typeof fetch; now?: () => number; env?: NodeJS.ProcessEnv } = {},
): Authenticator {
  const fetchImpl = deps.fetch ?? fetch;
  const now = deps.now ?? Date.now;
  let tokenFetches = 0;
  let cached: { token: string; expiresAt: number } | undefined;
  let pending: Promise<string> | undefined;

  const fetchToken = async (signal?: AbortSignal): Promise<string> => {
    if (config.type !== 'oauth2-client-credentials') throw new Error('unreachable');
    const secret = await resolveSecret(config.clientSecret, deps.env);
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: config.clientId,
      client_secret: secret,
    });
    if (config.scope) form.set('scope', config.scope);
    let res: Response;
    try {
      res = await fetchImpl(config.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form,
        signal: signal ?? AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new HubError('AUTH_TOKEN_UNREACHABLE', `token endpoint ${config.tokenUrl} unreachable`, {
        retriable: true,
        cause: err,
      });
    }
    const body = (await res.json().catch(() => ({}))) as {
      access_token?: string;
      expires_in?: number;
      error?: string;
    };
    if (!res.ok || !body.access_token) {
      // 4xx from a token endpoint means the credentials are wrong: retrying will not help.
      throw new HubError(
        'AUTH_TOKEN_REJECTED',
        `token endpoint answered ${res.status} ${body.error ?? ''}`.trim(),
        {
          retriable: res.status >= 500 || res.status === 429,
          hint: 'check clientId and the client secret the connector reads',
        },
      );
    }
    tokenFetches += 1;
    const ttl = Number(body.expires_in ?? config.defaultTtlSeconds);
    cached = { token: body.access_token, expiresAt: now() + ttl * 1000 };
    return body.access_token;
  };

  return {
    get tokenFetches() {
      return tokenFetches;
    },
    async headers(signal) {
      switch (config.type) {
        case 'none':
          return {};
        case 'bearer':
          return { authorization: `Bearer ${await resolveSecret(config.token, deps.env)}` };
        case 'basic': {
          const pw = await resolveSecret(config.password, deps.env);
          return { authorization: `Basic ${Buffer.from(`${config.username}:${pw}`).toString('base64')}` };
        }
        case 'api-key':
          return { [config.header.toLowerCase()]: await resolveSecret(config.key, deps.env) };
        case 'oauth2-client-credentials': {
          const fresh = cached && cached.expiresAt - config.refreshBeforeSeconds * 1000 > now();
          if (fresh) return { authorization: `Bearer ${cached!.token}` };
          // One token request at a time, however many requests wait for it.
          pending ??= fetchToken(signal).finally(() => {
            pending = undefined;
          });
          return { authorization: `Bearer ${await pending}` };
        }
      }
    },
    invalidate() {
      if (config.type !== 'oauth2-client-credentials') return false;
      cached = undefined;
      return true;
    },
  };
}
