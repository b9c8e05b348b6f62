import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { z } from 'zod';
import { HubError } from '../../core/errors.ts';

/** Settings shared by every OpenAI-backed provider; any OpenAI-compatible server works via baseURL. */
export const openAiSettingsSchema = z.object({
  apiKey: z
    .string()
    .default(() => process.env.OPENAI_API_KEY ?? '')
    .describe('API key (OPENAI_API_KEY); empty for servers that need none'),
  baseURL: z
    .string()
    .url()
    .optional()
    .describe('Base URL of an OpenAI-compatible API (OPENAI_BASE_URL); default is the OpenAI API'),
  timeoutMs: z.number().int().positive().default(60_000).describe('Timeout of one provider call in ms'),
});

export type OpenAiSettings = z.infer<typeof openAiSettingsSchema>;

/**
 * Builds the OpenAI client. Its own retries are off (maxRetries 0): the processor runner
 * decides about retries from HubError.retriable, and the breaker must see every failure.
 */
export function createOpenAiClient(settings: OpenAiSettings): OpenAI {
  return new OpenAI({
    apiKey: settings.apiKey || 'none',
    baseURL: settings.baseURL ?? process.env.OPENAI_BASE_URL ?? undefined,
    timeout: settings.timeoutMs,
    maxRetries: 0,
  });
}

/** Milliseconds from a Retry-After header (seconds or HTTP date), if present. */
function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Number(ms);
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * Maps an OpenAI client error to a HubError. Rate limits, 5xx, timeouts and connection
 * failures are retriable (a 429's Retry-After is kept in `where.retryAfterMs`); bad requests
 * and auth errors are not, since sending the same request again cannot help.
 */
export function mapOpenAiError(err: unknown, operation: string): HubError {
  if (err instanceof HubError) return err;
  const where = { operation };
  if (err instanceof APIConnectionTimeoutError) {
    return new HubError('PROVIDER_TIMEOUT', `OpenAI ${operation} timed out`, {
      cause: err,
      retriable: true,
      where,
    });
  }
  if (err instanceof APIUserAbortError) {
    return new HubError('PROVIDER_ABORTED', `OpenAI ${operation} was aborted`, {
      cause: err,
      retriable: true,
      where,
    });
  }
  if (err instanceof APIError) {
    const status = err.status;
    if (status === undefined) {
      return new HubError('PROVIDER_UNREACHABLE', `OpenAI ${operation}: ${err.message}`, {
        cause: err,
        retriable: true,
        where,
        hint: 'check the base URL and the network',
      });
    }
    if (status === 429) {
      const after = retryAfterMs(err.headers);
      return new HubError('PROVIDER_RATE_LIMITED', `OpenAI ${operation} was rate limited (429)`, {
        cause: err,
        retriable: true,
        where: { ...where, status, ...(after === undefined ? {} : { retryAfterMs: after }) },
      });
    }
    if (status >= 500) {
      return new HubError('PROVIDER_SERVER_ERROR', `OpenAI ${operation} failed on the server (${status})`, {
        cause: err,
        retriable: true,
        where: { ...where, status },
      });
    }
    if (status === 401 || status === 403) {
      return new HubError('PROVIDER_AUTH', `OpenAI ${operation} was refused (${status}): ${err.message}`, {
        cause: err,
        where: { ...where, status },
        hint: 'check OPENAI_API_KEY and the model permissions',
      });
    }
    return new HubError(
      'PROVIDER_BAD_REQUEST',
      `OpenAI ${operation} rejected the request (${status}): ${err.message}`,
      {
        cause: err,
        where: { ...where, status },
      },
    );
  }
  if (err instanceof SyntaxError) {
    return new HubError('PROVIDER_MALFORMED_RESPONSE', `OpenAI ${operation} answered with malformed JSON`, {
      cause: err,
      retriable: true,
      where,
    });
  }
  return new HubError('PROVIDER_FAILED', `OpenAI ${operation} failed: ${String(err)}`, { cause: err, where });
}

/** Parses a model's JSON answer against a zod schema; malformed output is a clear HubError. */
export function parseModelJson<T>(
  content: string | null | undefined,
  schema: z.ZodType<T>,
  operation: string,
): T {
  let value: unknown;
  try {
    value = JSON.parse(content ?? '');
  } catch (err) {
    throw new HubError('PROVIDER_MALFORMED_OUTPUT', `OpenAI ${operation} returned text that is not JSON`, {
      cause: err,
      where: { operation },
    });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new HubError(
      'PROVIDER_MALFORMED_OUTPUT',
      `OpenAI ${operation} returned JSON that does not fit the schema: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      { where: { operation, field: parsed.error.issues[0]?.path.join('.') ?? '' } },
    );
  }
  return parsed.data;
}
